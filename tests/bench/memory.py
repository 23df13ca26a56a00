"""A voter who remembers every image revealed to them: how often do they know both models
before voting?

The demo is built as `make demo` builds it (every built-in model, the demo prompts, 600
simulated votes), at a small image size so that it is quick. Then a visitor votes 300 times
through the site's own pages. After each vote the reveal names the two models, and the
visitor remembers both images. Printed: the share of battles between their 200th and 300th
vote in which they already knew both models, averaged over several visitors, with one image
per prompt and model (as before renditions), three, and the demo's eight; for a visitor of
the text-to-image arena, one who votes in both as the demo's simulated voters do (three in
ten on edits), and one of the editing arena. The goal is about memory of the decoded pixels;
the second figure of each cell is for a visitor who remembers how an image looks (a
perceptual hash within a few bits), which renditions of an edit, keeping their source's
layout, do not escape.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import statistics
import tempfile

RENDITIONS = (1, 3, 8)  # 8: the demo's (Makefile)
VOTERS = 4
VOTES = 300
WINDOW = (200, 300)
GOAL = 0.25
IMAGE_SIZE = 128
TOKEN = re.compile(r'action="/battle/([A-Za-z0-9_-]+)/"')


def _configure(renditions: int) -> None:
    scratch = tempfile.mkdtemp(prefix="arena-bench-memory-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "arena.settings",
            "DEBUG": "1",
            "SECRET_KEY": "bench-only",
            "ALLOWED_HOSTS": "testserver",
            "ARENA_VAR_DIR": scratch,
            "MEDIA_ROOT": os.path.join(scratch, "media"),
            "GATEWAY_LOCAL_LATENCY_SCALE": "0",
            "ARENA_VOTES_PER_MINUTE": "0",
            "ARENA_VOTES_PER_DAY": "0",
            "ARENA_IP_VOTES_PER_MINUTE": "0",
            "ARENA_IP_VOTES_PER_DAY": "0",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    # Each scale gets a fresh SQLite file and media folder in the same process.
    settings.DATABASES["default"]["NAME"] = os.path.join(scratch, "arena.sqlite3")
    settings.MEDIA_ROOT = os.path.join(scratch, "media")
    settings.ARENA_IMAGE_SIZE = IMAGE_SIZE
    settings.ARENA_THUMBNAIL_SIZE = 64
    settings.ARENA_RENDITIONS = renditions
    for setting in ("ARENA_VOTES_PER_MINUTE", "ARENA_VOTES_PER_DAY"):
        setattr(settings, setting, 0)
    for setting in ("ARENA_IP_VOTES_PER_MINUTE", "ARENA_IP_VOTES_PER_DAY"):
        setattr(settings, setting, 0)


def _build() -> None:
    from django.core.cache import cache
    from django.core.management import call_command

    from arena.battles import matchmaking

    cache.clear()
    matchmaking._pools.clear()
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--votes", "600", stdout=quiet)


def _pixels(data: bytes) -> str:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def _knows_both(edit_share: float, seed: int) -> tuple[float, float]:
    """Shares of the WINDOW battles in which the voter knew both models before voting: by the
    exact pixels, and by a perceptual hash (a near-duplicate of an image they saw revealed)."""
    from django.test import Client

    from arena.battles.models import Battle
    from arena.catalog.guard import image_phash, near_duplicate
    from arena.pages.management.commands.seed_demo import simulated_choice

    rng = random.Random(seed)
    client = Client()
    memory: set[str] = set()
    looks: list[str] = []
    known = known_by_look = 0
    for vote in range(1, VOTES + 1):
        arena = "edit" if rng.random() < edit_share else "t2i"
        page = client.get(f"/battle/{arena}/").content.decode()
        token = TOKEN.search(page)[1]  # type: ignore[index]
        images = [client.get(f"/battle/{token}/{side}.png").content for side in ("left", "right")]
        seen, phashes = [_pixels(i) for i in images], [image_phash(i) for i in images]
        if WINDOW[0] < vote <= WINDOW[1]:
            known += all(pixels in memory for pixels in seen)
            known_by_look += all(any(near_duplicate(p, q) for q in looks) for p in phashes)
        battle = Battle.objects.select_related("left__model", "right__model").get(token=token)
        choice = simulated_choice(battle.left.model.slug, battle.right.model.slug, rng)
        client.post(f"/battle/{token}/", {"choice": choice})
        memory.update(seen)
        looks += phashes
    battles = WINDOW[1] - WINDOW[0]
    return known / battles, known_by_look / battles


def main() -> None:
    print(
        f"a voter who remembers every revealed image (decoded pixels): battles {WINDOW[0] + 1}"
        f"-{WINDOW[1]} of {VOTES} in which they already knew both models (goal <= {GOAL:.0%});"
        f" mean of {VOTERS} voters, each on their own"
    )
    print(
        "  (each cell: remembering the exact pixels / remembering how the image looks, a"
        " perceptual hash within a few bits)"
    )
    columns = (("text-to-image only", 0.0), ("both (3 in 10 edit)", 0.3), ("edit only", 1.0))
    print(f"  {'renditions':>10}" + "".join(f"  {name:>20}" for name, _ in columns))
    for renditions in RENDITIONS:
        _configure(renditions)
        _build()
        cells = []
        for _, edit_share in columns:
            runs = [_knows_both(edit_share, seed=seed) for seed in range(VOTERS)]
            pixels, looks = (statistics.mean(run[k] for run in runs) for k in (0, 1))
            cells.append(f"{pixels:.0%} / {looks:.0%}")
        print(f"  {renditions:>10}" + "".join(f"  {cell:>20}" for cell in cells))


if __name__ == "__main__":
    main()
