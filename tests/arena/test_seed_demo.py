"""`manage.py seed_demo`: models, prompts, every image, simulated votes, and safe to run again."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from arena.battles import matchmaking
from arena.battles.models import EloRating, QualityVote, Vote
from arena.catalog.models import Arena, Competition, Generation, Prompt
from arena.ratings.models import Rating

PROMPTS = """
[[t2i]]
text = "A red ball on the left and a blue cube on the right"
tags = ["objects"]

[[t2i]]
text = "Three yellow apples on a wooden table"
retired = true
competition = "fruit"

[[edit]]
source_prompt = "A glass cube on a wooden table with a small blue sphere inside"
instruction = "Make the sphere red"
tags = ["recolor"]
competition = "spheres"

[[competition]]
slug = "fruit"
arena = "t2i"
name = "Fruit"

[[competition]]
slug = "spheres"
arena = "edit"
name = "Spheres"
description = "Round things."
"""


@pytest.mark.django_db(transaction=True)
def test_seed_demo_is_complete_and_idempotent(tmp_path, settings, monkeypatch):
    settings.ARENA_IMAGE_SIZE = 128
    # The simulated voters' battles from a seeded generator: drawn at random, about one run in
    # fifty left a model of the editing arena with too few answers for a board.
    real, seeded = np.random.default_rng, np.random.default_rng(3)
    monkeypatch.setattr(
        matchmaking.np.random, "default_rng", lambda *seed: real(*seed) if seed else seeded
    )
    prompts = tmp_path / "prompts.toml"
    prompts.write_text(PROMPTS)

    call_command("seed_demo", "--prompts", prompts, "--votes", "60", "--threads", "4")
    tables = (Prompt, Generation, Vote, QualityVote, Competition, Competition.prompts.through)
    counts = [table.objects.count() for table in tables]
    call_command("seed_demo", "--prompts", prompts, "--votes", "60", "--threads", "4")

    assert [table.objects.count() for table in tables] == counts
    assert Prompt.objects.filter(arena=Arena.T2I).count() == 2
    retired = Prompt.objects.get(text="Three yellow apples on a wooden table")
    assert not retired.active  # out of the battles after the votes, images kept for galleries
    assert Generation.objects.filter(prompt=retired, status=Generation.Status.READY).count() == 6
    edit = Prompt.objects.get(arena=Arena.EDIT)
    assert list(Competition.objects.get(slug="fruit").prompts.all()) == [retired]
    assert list(Competition.objects.get(slug="spheres").prompts.all()) == [edit]
    assert edit.source_image.name.startswith("sources/")
    assert Generation.objects.exclude(status=Generation.Status.READY).count() == 0
    assert Generation.objects.filter(prompt=edit).count() == 4  # the models that can edit
    assert Vote.objects.count() == 60
    assert sum(EloRating.objects.values_list("votes", flat=True)) == 120
    assert Vote.objects.values("voter").distinct().count() > 5  # many simulated voters
    assert Rating.objects.board(Arena.T2I).count() == 6
    # The simulated voters answer most questions after the vote: every question has a board.
    assert Rating.objects.board(Arena.T2I, quality="aesthetics").count() == 6
    assert Rating.objects.board(Arena.EDIT, quality="preservation").count() == 4
    assert default_storage.exists("exports/votes-t2i.jsonl")


@pytest.mark.django_db(transaction=True)
def test_the_shipped_demo_prompts_are_enough(settings):
    import tomllib

    from arena.pages.management.commands.seed_demo import DEMO_PROMPTS

    data = tomllib.loads(DEMO_PROMPTS.read_text())

    assert len(data["t2i"]) >= 30
    assert len(data["edit"]) >= 12
    assert any(
        entry["text"].startswith("A glass cube on a wooden table.") for entry in data["t2i"]
    )
    # One competition per arena, each with prompts retired (whose images everyone may see).
    for competition in data["competition"]:
        entries = data[competition["arena"]]
        members = [entry for entry in entries if entry.get("competition") == competition["slug"]]
        assert any(entry.get("retired") for entry in members), competition["slug"]
    assert {competition["arena"] for competition in data["competition"]} == {"t2i", "edit"}


def test_the_demo_command_spreads_its_images_over_processes_and_shows_a_moving_bar(tmp_path):
    """As `make demo` runs it: a process of its own (single-threaded, so it forks its
    workers), SQLite, several renditions; the bar counts up to every image."""
    prompts = tmp_path / "prompts.toml"
    prompts.write_text(PROMPTS)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "ARENA_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "ARENA_IMAGE_SIZE": "96",
        "ARENA_RENDITIONS": "3",
    }
    manage = [sys.executable, str(Path(__file__).resolve().parents[2] / "manage.py")]
    migrate = subprocess.run([*manage, "migrate"], env=env, capture_output=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr

    # A fork of a threaded process would be an error here, not a warning nobody sees.
    fork_checked = ["-W", "error::DeprecationWarning:multiprocessing.popen_fork"]
    seeded = subprocess.run(
        [
            sys.executable,
            *fork_checked,
            *manage[1:],
            "seed_demo",
            "--prompts",
            str(prompts),
            "--threads",
            "4",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert seeded.returncode == 0, seeded.stderr
    # 3 renditions of the competing prompt for 6 models and of the edit for 4; the prompt to
    # be retired gets one per model.
    assert "Images: 36 of 36 ready." in seeded.stdout
    bars = re.findall(r"Generating images: \[[#.]+\] (\d+)/36", seeded.stdout)
    assert bars[0] == "0"
    assert bars[-1] == "36"
    assert re.search(r"Generating images: \d+ processes", seeded.stdout)
