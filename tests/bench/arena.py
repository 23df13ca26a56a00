"""Queries and server time per battle page and per vote, at a small and a large scale; then,
at the large scale, the model page (100,000 provider calls of a month behind its figures,
cached and rebuilt), the leaderboard (with every image's outcome behind its failures table),
a visitor's own board fitted on their votes, the images API's own cost over a direct gateway
call, and how soon a streamed answer's first event leaves.

Runs in-process through Django's test client against a scratch database: PostgreSQL
(database `arena_bench`, or ARENA_BENCH_DATABASE) and Redis when they answer, as in
production, SQLite otherwise.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import statistics
import tempfile
import time
from datetime import timedelta

SCALES = [(8, 50, 1_000), (64, 400, 100_000)]  # models, prompts, votes
# Engineers running the bench side by side each give it a database and Redis db of their own.
DATABASE = os.environ.get("ARENA_BENCH_DATABASE", "arena_bench")
REDIS_DB = os.environ.get("ARENA_BENCH_REDIS_DB", "14")
API_OVERHEAD_GOAL_MS = 5  # issue 15: the images API over a direct gateway call
ROUNDS = 200
# A vote: BEGIN, the battle, the two rating rows locked, one UPDATE each, the vote, COMMIT.
GOALS = {"battle page": 8, "vote": 7, "htmx vote": 7, "pool rebuild": 8}
REBUILDS = 20
# The model page's figures read a month of provider calls; cached, the page stays quick.
PROVIDER_CALLS = 100_000
MODEL_PAGE_CACHED_GOAL_MS = 30


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def fresh_database(name: str) -> str:
    """A new, empty PostgreSQL database of this name (dropped first if it is there): its URL."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {name}")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _configure(database: str = DATABASE) -> str:
    scratch = tempfile.mkdtemp(prefix="arena-bench-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "arena.settings",
            "SECRET_KEY": "bench-only",
            "ALLOWED_HOSTS": "testserver",
            "ARENA_HTTPS": "0",  # the test client speaks plain HTTP
            "ARENA_VAR_DIR": scratch,
            "MEDIA_ROOT": os.path.join(scratch, "media"),
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "GATEWAY_LOCAL_LATENCY_SCALE": "0",
            # One client votes 400 times a minute here: no caps.
            "ARENA_VOTES_PER_MINUTE": "0",
            "ARENA_VOTES_PER_DAY": "0",
            "ARENA_IP_VOTES_PER_MINUTE": "0",
            "ARENA_IP_VOTES_PER_DAY": "0",
            "ARENA_API_REQUESTS_PER_MINUTE": "0",
            # Production's shape: a beat refits the ratings, not the votes themselves (the bench
            # runs Celery eagerly, which would otherwise turn on the demo's refit after a vote).
            "ARENA_REFIT_AFTER_VOTE_SECONDS": "0",
        }
    )
    if _reachable(5432):
        os.environ["DATABASE_URL"] = fresh_database(database)
    if _reachable(6379):
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{REDIS_DB}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    return f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, cache: " + (
        "redis" if os.environ.get("REDIS_URL") else "local memory"
    )


def _populate(models: int, prompts: int, votes: int) -> None:
    from django.core.cache import cache
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from arena.battles.matchmaking import matchmaking_changed
    from arena.battles.models import Battle, EloRating, Vote
    from arena.catalog.models import AIModel, Generation, Offering, Prompt, Provider, ProviderCall
    from tests.factories import png_bytes

    call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    image = default_storage.save("generations/bench.png", ContentFile(png_bytes(size=(256, 256))))
    ai_models = AIModel.objects.bulk_create(
        AIModel(slug=f"bench-{i}", name=f"Bench {i}", organization="Bench") for i in range(models)
    )
    prompt_rows = Prompt.objects.bulk_create(
        Prompt(text=f"Bench prompt {i}", fingerprint=f"bench-{i}") for i in range(prompts)
    )
    generations = Generation.objects.bulk_create(
        Generation(prompt=p, model=m, status=Generation.Status.READY, image=image)
        for p in prompt_rows
        for m in ai_models
    )
    EloRating.objects.bulk_create(EloRating(arena="t2i", model=m) for m in ai_models)
    provider = Provider.objects.create(slug="bench-cloud", name="Bench Cloud")
    Offering.objects.bulk_create(
        Offering(model=m, provider=provider, provider_model=m.slug, price_per_image="0.04")
        for m in ai_models
    )
    rng_calls = random.Random(1)
    ProviderCall.objects.bulk_create(
        ProviderCall(
            generation=g,
            model_id=g.model_id,
            provider=provider,
            provider_model="bench",
            started_at=timezone.now() - timedelta(hours=rng_calls.randrange(24 * 30)),
            ok=rng_calls.random() > 0.05,
            total_ms=rng_calls.lognormvariate(8, 0.4),
            ttfb_ms=rng_calls.lognormvariate(7, 0.4),
        )
        for g in generations
    )
    by_prompt: dict[int, list[Generation]] = {}
    for generation in generations:
        by_prompt.setdefault(generation.prompt_id, []).append(generation)
    rng = random.Random(0)
    now = timezone.now()
    for start in range(0, votes, 20_000):
        battles = []
        for _ in range(start, min(votes, start + 20_000)):
            left, right = rng.sample(by_prompt[rng.choice(prompt_rows).pk], 2)
            battles.append(
                Battle(
                    arena="t2i",
                    prompt_id=left.prompt_id,
                    left=left,
                    right=right,
                    session_key="bench-history",
                    expires_at=now,
                )
            )
        battles = Battle.objects.bulk_create(battles)
        Vote.objects.bulk_create(
            Vote(
                battle=b,
                arena="t2i",
                prompt_id=b.prompt_id,
                left_model_id=b.left.model_id,
                right_model_id=b.right.model_id,
                choice=rng.choice(["left", "right", "tie", "both_bad"]),
                voter="bench",
                left_elo_before=1000,
                left_elo_after=1000,
                right_elo_before=1000,
                right_elo_after=1000,
                created_at=now - timedelta(seconds=rng.randrange(86_400 * 30)),
            )
            for b in battles
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    matchmaking_changed()


def _measure() -> dict[str, tuple[int, float]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from arena.battles.matchmaking import matchmaking_changed

    client = Client()
    client.get("/battle/t2i/")  # a returning visitor: the session exists
    token = re.compile(r'action="/battle/([^/"]+)/"')
    figures: dict[str, tuple[list[int], list[float]]] = {name: ([], []) for name in GOALS}
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            page = client.get("/battle/t2i/")
            elapsed = time.perf_counter() - started
        figures["battle page"][0].append(len(queries))
        figures["battle page"][1].append(elapsed)
        battle_token = token.search(page.content.decode())[1]
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(f"/battle/{battle_token}/", {"choice": "left"})
            elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        figures["vote"][0].append(len(queries))
        figures["vote"][1].append(elapsed)
        battle_token = token.search(client.get("/battle/t2i/").content.decode())[1]
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(
                f"/battle/{battle_token}/", {"choice": "tie"}, headers={"HX-Request": "true"}
            )
            elapsed = time.perf_counter() - started
        assert b"data-model" in response.content, response.status_code
        figures["htmx vote"][0].append(len(queries))
        figures["htmx vote"][1].append(elapsed)
    # Once a minute per process, or after curation, a battle page rebuilds the matchmaking pool.
    for _ in range(REBUILDS):
        matchmaking_changed()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            client.get("/battle/t2i/")
            elapsed = time.perf_counter() - started
        figures["pool rebuild"][0].append(len(queries))
        figures["pool rebuild"][1].append(elapsed)
    return {
        name: (max(counts), statistics.median(times) * 1000)
        for name, (counts, times) in figures.items()
    }


def _measure_model_page_and_api() -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import gateway
    from arena.api.services import api_key_create
    from arena.battles.models import Vote
    from arena.battles.services import anonymous_id
    from arena.catalog.services import catalog_sync
    from arena.ratings.services import ratings_recompute
    from tests.arena.helpers import use_local_gateway

    ratings_recompute(arena="t2i")
    _provider_calls_top_up(PROVIDER_CALLS)
    client = Client()

    def timed(call, rounds: int, before=lambda: None) -> tuple[int, float]:
        counts, times = [], []
        for _ in range(rounds):
            before()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                call()
                times.append(time.perf_counter() - started)
            counts.append(len(queries))
        return max(counts), statistics.median(times) * 1000

    page = lambda: client.get("/models/bench-3/")  # noqa: E731
    page()  # fills the figures' cache, so the cached row counts a cached page's queries
    rows = {
        "model page, figures cached": timed(page, 50),
        "model page, figures rebuilt": timed(page, 10, before=cache.clear),
        "leaderboard, failures table": timed(lambda: client.get("/leaderboard/t2i/"), 50),
    }
    # A visitor with 1,000 of the votes: their own board is fitted on each view.
    visitor = Client()
    visitor.get("/battle/t2i/")
    first = Vote.objects.order_by("pk").values("pk")[:1_000]
    Vote.objects.filter(pk__in=first).update(voter=anonymous_id(visitor.session.session_key))
    rows["personal board, 1,000 votes"] = timed(lambda: visitor.get("/leaderboard/me/"), 50)
    catalog_sync()
    key = api_key_create(name="bench")[1]
    use_local_gateway()  # the built-in models without their simulated failures
    body = json.dumps(
        {
            "model": "blockworld",
            "prompt": "A red ball",
            "size": "64x64",
            "response_format": "b64_json",
        }
    )
    api = lambda: client.post(  # noqa: E731
        "/openai/v1/images/generations", body, content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    request = gateway.ImageRequest(model="blockworld", prompt="A red ball", size="64x64")
    api()  # the process's first request reads the key, the model and the prompts it keeps
    # Alternately, so that the machine's noise falls on both alike.
    both = [(timed(api, 1), timed(lambda: gateway.generate(request), 1)) for _ in range(200)]
    rows["API generation (64x64, b64)"] = _medians([a for a, _ in both])
    rows["same call, gateway direct"] = _medians([d for _, d in both])
    scale = f"64 models, {PROVIDER_CALLS:,} provider calls"
    print(f"{scale:<38} {'request':<32} {'queries':>8} {'median ms':>10}")
    for name, (queries, median_ms) in rows.items():
        goal = MODEL_PAGE_CACHED_GOAL_MS if name == "model page, figures cached" else None
        verdict = (
            ""
            if goal is None
            else f"  goal < {goal} ms: " + ("ok" if median_ms < goal else "OVER")
        )
        print(f"{'':<38} {name:<32} {queries:>8} {median_ms:>10.2f}{verdict}")
    overhead = rows["API generation (64x64, b64)"][1] - rows["same call, gateway direct"][1]
    verdict = "ok" if overhead < API_OVERHEAD_GOAL_MS else "OVER"
    print(
        f"{'':<38} API overhead over the gateway: {overhead:.2f} ms (key, checks, call rows); "
        f"goal < {API_OVERHEAD_GOAL_MS} ms: {verdict}"
    )


def _medians(rows: list[tuple[int, float]]) -> tuple[int, float]:
    """The most queries and the median time of single-round `timed` rows."""
    return max(q for q, _ in rows), statistics.median(ms for _, ms in rows)


def _provider_calls_top_up(total: int) -> None:
    """Three more providers for every model, and calls through all four over the speed window
    until there are `total`: the model page's figures read a month of them."""
    from django.db import connection
    from django.utils import timezone

    from arena.catalog.models import AIModel, Offering, Provider, ProviderCall

    models = list(AIModel.objects.values_list("pk", flat=True))
    providers = [Provider.objects.get(slug="bench-cloud")]
    for i in range(3):
        provider = Provider.objects.create(slug=f"bench-cloud-{i}", name=f"Bench Cloud {i}")
        Offering.objects.bulk_create(
            Offering(model_id=m, provider=provider, provider_model="b", price_per_image="0.05")
            for m in models
        )
        providers.append(provider)
    rng = random.Random(2)
    now = timezone.now()
    missing = total - ProviderCall.objects.count()
    for start in range(0, missing, 20_000):
        ProviderCall.objects.bulk_create(
            ProviderCall(
                model_id=rng.choice(models),
                provider=(provider := rng.choice(providers)),
                provider_model="bench",
                started_at=now - timedelta(hours=rng.randrange(24 * 30)),
                ok=rng.random() > 0.05 * (1 + provider.pk % 3),
                total_ms=rng.lognormvariate(8 + provider.pk % 3 * 0.4, 0.4),
                ttfb_ms=rng.lognormvariate(7, 0.4),
            )
            for _ in range(start, min(missing, start + 20_000))
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


STREAM_ROUNDS = 20


def _measure_streaming() -> None:
    """The images API with `stream: true`: how soon the first event (a partial image) leaves,
    against the whole answer, for a built-in model run eagerly in the web process's thread."""
    from django.test import Client

    from arena.api.services import api_key_create
    from tests.arena.helpers import use_local_gateway

    use_local_gateway()
    headers = {"Authorization": f"Bearer {api_key_create(name='bench stream')[1]}"}
    client = Client()
    firsts, wholes = [], []
    for round_ in range(STREAM_ROUNDS):
        body = {"model": "lumen-xl", "prompt": f"A red ball on a table, take {round_}",
                "size": "512x512", "stream": True, "partial_images": 2}  # fmt: skip
        started = time.perf_counter()
        response = client.post(
            "/openai/v1/images/generations",
            json.dumps(body),
            content_type="application/json",
            headers=headers,
        )
        events = iter(response.streaming_content)
        first = next(events)
        firsts.append(time.perf_counter() - started)
        rest = list(events)
        wholes.append(time.perf_counter() - started)
        assert first.startswith(b"event: image_generation.partial_image")
        # the second partial and the completed event (and, before it, the X-Arena comments)
        assert [chunk.split(b"\n", 1)[0] for chunk in rest if chunk.startswith(b"event:")] == [
            b"event: image_generation.partial_image",
            b"event: image_generation.completed",
        ]
    print(
        f"images API, stream: true (lumen-xl 512x512, partial_images=2, median of "
        f"{STREAM_ROUNDS}): first event {statistics.median(firsts) * 1000:.0f} ms, "
        f"completed {statistics.median(wholes) * 1000:.0f} ms"
    )


def main() -> None:
    backend = _configure()
    print(f"Battle page and vote through Django's test client ({backend}), {ROUNDS} rounds each;")
    print(f"pool rebuild: a battle page that rebuilds the matchmaking pool first, {REBUILDS}x")
    print(f"{'scale':<38} {'request':<12} {'queries':>8} {'goal':>5} {'median ms':>10}")
    for models, prompts, votes in SCALES:
        _populate(models, prompts, votes)
        scale = f"{models} models, {prompts} prompts, {votes:,} votes"
        for name, (queries, median_ms) in _measure().items():
            verdict = "ok" if queries <= GOALS[name] else "OVER"
            goal = GOALS[name]
            print(f"{scale:<38} {name:<12} {queries:>8} {goal:>5} {median_ms:>10.2f}  {verdict}")
    _measure_model_page_and_api()
    _measure_streaming()


if __name__ == "__main__":
    main()
