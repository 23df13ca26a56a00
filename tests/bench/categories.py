"""Category boards at the large scale of the arena section (64 models, 400 prompts, 100,000
votes), the seven text-to-image categories each holding about two prompts in seven: what a
refit of every category costs next to the main board's, the public export with each vote's
categories, and the queries and time of a category's leaderboard page.

Runs against a scratch database of its own (`arena_bench_categories` on PostgreSQL).
"""

from __future__ import annotations

import importlib
import random
import statistics
import tempfile
import time

from tests.bench import arena

MODELS, PROMPTS, VOTES = 64, 400, 100_000
# The text-to-image categories the data migration makes.
SLUGS = [
    slug
    for arena_, slug, *_ in importlib.import_module(
        "arena.catalog.migrations.0004_categories"
    ).CATEGORIES
    if arena_ == "t2i"
]
REPEATS = 3
PAGE_ROUNDS = 50


def _median_seconds(work) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _categorise() -> None:
    from arena.catalog.models import Category, Prompt

    Category.objects.bulk_create(
        Category(arena="t2i", slug=slug, name=slug, order=i) for i, slug in enumerate(SLUGS)
    )
    rng = random.Random(4)
    prompts = list(Prompt.objects.all())
    for prompt in prompts:
        prompt.tags = [*rng.sample(SLUGS, 2), "bench"]
    Prompt.objects.bulk_update(prompts, ["tags"])


def main() -> None:
    backend = arena._configure("arena_bench_categories")
    arena._populate(MODELS, PROMPTS, VOTES)
    _categorise()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from arena.ratings.models import RatingRun
    from arena.ratings.services import (
        category_ratings_recompute,
        ratings_recompute,
        votes_export,
    )

    print(f"{MODELS} models, {PROMPTS} prompts, {VOTES:,} votes ({backend}); median of {REPEATS}")
    main_board = _median_seconds(lambda: ratings_recompute(arena="t2i"))
    categories = _median_seconds(lambda: category_ratings_recompute(arena="t2i"))
    print(f"  main board refit (and pairing plan)   {main_board:6.2f} s")
    print(f"  all {len(SLUGS)} category boards refit        {categories:6.2f} s")
    for run in RatingRun.objects.filter(arena="t2i").exclude(category="")[: len(SLUGS)]:
        print(f"    {run.category:<20} {run.votes:>7,} votes  fit {run.duration_ms:7.1f} ms")
    with tempfile.TemporaryFile() as out:
        export = _median_seconds(lambda: (out.seek(0), votes_export(out=out, arena="t2i")))
    print(f"  votes_export with categories          {export:6.2f} s")
    client = Client()
    counts, times = [], []
    for _ in range(PAGE_ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/leaderboard/t2i/?category=counting")
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        counts.append(len(queries))
    print(
        f"  category leaderboard page             {max(counts)} queries, "
        f"{statistics.median(times) * 1000:.1f} ms median of {PAGE_ROUNDS}"
    )


if __name__ == "__main__":
    main()
