"""Load the built-in models and the demo prompts, make every image, and simulate some votes.

Safe to run again: models and prompts are matched by identity, images already made are kept,
and `--votes N` tops the simulated votes up to N rather than adding N more.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import random
import threading
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import close_old_connections, connection, connections

from arena.battles.models import Battle, Choice
from arena.battles.qualities import QUESTIONS, Quality
from arena.battles.services import (
    NoBattleAvailable,
    battle_create,
    quality_vote_record,
    vote_record,
)
from arena.catalog.importing import PromptRow
from arena.catalog.models import Arena, Competition, Generation, Prompt
from arena.catalog.services import (
    catalog_sync,
    competition_define,
    edit_prompt_create,
    generation_execute,
    generations_plan,
    prompt_set_active,
    prompts_import,
)
from arena.ratings.services import ratings_refresh, votes_publish
from gateway import local, set_default_gateway

DEMO_PROMPTS = Path(__file__).resolve().parents[2] / "demo_prompts.toml"
SIMULATED_SESSIONS = "seed-demo-voter-"
SIMULATED_VOTERS = 60
SOURCE_MODEL = "lumen-xl"
RETRY_ROUNDS = 3

# What the simulated voters secretly believe, on the Elo scale. Unknown models get 1000.
TRUE_STRENGTH = {
    "lumen-xl": 1300,
    "prism-2": 1180,
    "sketchbook": 1040,
    "retouch": 1010,
    "palette": 930,
    "blockworld": 900,
    "daydream": 800,
}

# What they believe about each question after the vote: following the prompt is not looking
# good (daydream ignores the prompt but paints a pleasant landscape; sketchbook's edits smudge
# the rest of the picture, retouch leaves it alone). They answer ANSWER_SHARE of the questions.
QUALITY_STRENGTH = {
    Quality.ADHERENCE: {
        "lumen-xl": 1300,
        "prism-2": 1180,
        "sketchbook": 1060,
        "retouch": 1000,
        "blockworld": 950,
        "palette": 900,
        "daydream": 700,
    },
    Quality.AESTHETICS: {
        "lumen-xl": 1250,
        "daydream": 1200,
        "palette": 1120,
        "prism-2": 1100,
        "sketchbook": 950,
        "blockworld": 750,
    },
    Quality.PRESERVATION: {"retouch": 1250, "lumen-xl": 1150, "prism-2": 1050, "sketchbook": 800},
}
ANSWER_SHARE = 0.6


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--votes", type=int, default=0, help="Simulated votes to have.")
        parser.add_argument("--prompts", type=Path, default=DEMO_PROMPTS)
        parser.add_argument(
            "--threads", type=int, default=16, help="Generations run at once per process."
        )
        parser.add_argument("--seed", type=int, default=7, help="Seed of the simulated voters.")

    def handle(self, *args: Any, **options: Any) -> None:
        models = catalog_sync()
        self.stdout.write(f"Models: {len(models)} in the catalog.")
        prompts, retired = self._load_prompts(options["prompts"])
        self.stdout.write(f"Prompts: {len(prompts)} demo prompts present.")
        competitions = self._load_competitions(options["prompts"], prompts)
        self.stdout.write(f"Competitions: {len(competitions)} demo competitions present.")
        self._generate(prompts, retired, threads=options["threads"])
        self._ensure_admin()
        if options["votes"]:
            self._simulate_votes(
                options["votes"],
                random.Random(options["seed"]),
                # The answers draw from their own stream: the votes stay those of the seed.
                answers=random.Random(f"answers-{options['seed']}"),
            )
        if retired:
            prompt_set_active(prompt_ids=[prompt.pk for prompt in retired], active=False)
            self.stdout.write(f"Retired {len(retired)} prompts: their images fill the galleries.")
        runs = ratings_refresh()
        votes_publish()
        self.stdout.write(
            "Ratings: "
            + "; ".join(
                f"{run.get_arena_display()}{f' ({run.quality})' if run.quality else ''} "
                f"from {run.votes} votes"
                for run in runs
            )
            + ". Vote files published."
        )

    def _load_prompts(self, path: Path) -> tuple[list[Prompt], list[Prompt]]:
        """(every demo prompt, those marked `retired`)."""
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CommandError(f"Cannot read demo prompts from {path}: {exc}") from exc
        rows = [
            PromptRow(line=i, text=entry["text"], tags=tuple(entry.get("tags", ())))
            for i, entry in enumerate(data.get("t2i", []), start=1)
        ]
        prompts_import(arena=Arena.T2I, rows=rows)
        fingerprints = {
            Prompt.fingerprint_for(Arena.T2I, entry["text"]): entry.get("retired", False)
            for entry in data.get("t2i", [])
        }
        text_prompts = list(Prompt.objects.filter(fingerprint__in=fingerprints))
        retired = [prompt for prompt in text_prompts if fingerprints[prompt.fingerprint]]
        size = settings.ARENA_IMAGE_SIZE
        edit_prompts = []
        for entry in data.get("edit", []):
            source = local.render(SOURCE_MODEL, entry["source_prompt"], size, size, seed=0)
            buffer = io.BytesIO()
            source.save(buffer, format="PNG")
            prompt, _ = edit_prompt_create(
                instruction=entry["instruction"],
                source=buffer.getvalue(),
                tags=entry.get("tags", ()),
            )
            edit_prompts.append(prompt)
            if entry.get("retired", False):
                retired.append(prompt)
        return [*text_prompts, *edit_prompts], retired

    def _load_competitions(self, path: Path, prompts: list[Prompt]) -> list[Competition]:
        """The `[[competition]]` tables, each holding the demo prompts that name its slug
        (`competition = "..."`), in the order of `prompts` (t2i entries, then edit ones)."""
        data = tomllib.loads(path.read_text())
        entries = [*data.get("t2i", []), *data.get("edit", [])]
        declared = {table["slug"]: table for table in data.get("competition", [])}
        members: dict[str, list[Prompt]] = {slug: [] for slug in declared}
        by_entry = self._entry_prompts(data, prompts)
        for entry, prompt in zip(entries, by_entry, strict=True):
            slug = entry.get("competition")
            if slug is None:
                continue
            if slug not in declared:
                raise CommandError(f"No [[competition]] with slug {slug!r} for {prompt}.")
            members[slug].append(prompt)
        return [
            competition_define(
                arena=Arena(table["arena"]),
                slug=slug,
                name=table["name"],
                description=table.get("description", ""),
                order=order,
                prompts=members[slug],
            )
            for order, (slug, table) in enumerate(declared.items())
        ]

    @staticmethod
    def _entry_prompts(data: dict[str, Any], prompts: list[Prompt]) -> list[Prompt]:
        """The prompt of each t2i entry then each edit entry, as _load_prompts made them."""
        by_fingerprint = {prompt.fingerprint: prompt for prompt in prompts}
        text = [
            by_fingerprint[Prompt.fingerprint_for(Arena.T2I, entry["text"])]
            for entry in data.get("t2i", [])
        ]
        return [*text, *(prompt for prompt in prompts if prompt.arena == Arena.EDIT)]

    def _generate(self, prompts: list[Prompt], retired: list[Prompt], *, threads: int) -> None:
        """Every image of the demo: ARENA_RENDITIONS of each prompt and model, but one for the
        prompts to be retired, which only fill the galleries."""
        prompt_ids = [prompt.pk for prompt in prompts]
        retired_ids = {prompt.pk for prompt in retired}
        competing_ids = [pk for pk in prompt_ids if pk not in retired_ids]
        for round_ in range(1, RETRY_ROUNDS + 1):
            Generation.objects.filter(
                prompt_id__in=prompt_ids, status=Generation.Status.FAILED
            ).update(status=Generation.Status.QUEUED, error="")
            queued = generations_plan(prompt_ids=competing_ids)
            queued += generations_plan(prompt_ids=retired_ids, renditions=1)
            if not queued:
                break
            label = "Generating images" if round_ == 1 else f"Retrying failures (round {round_})"
            self._run_all(queued, threads=threads, label=label)
        counts = Generation.objects.filter(prompt_id__in=prompt_ids)
        ready = counts.filter(status=Generation.Status.READY).count()
        self.stdout.write(f"Images: {ready} of {counts.count()} ready.")

    def _run_all(self, generation_ids: list[int], *, threads: int, label: str) -> None:
        """Run the generations in one process per core, `threads` at a time in each.

        Drawing and PNG coding hold the GIL, so threads alone use one core; the threads are
        for the simulated provider latency, which only waits. Each process works through its
        share without waiting for the others; a shared counter moves the bar.
        """
        workers = max(1, min(os.cpu_count() or 1, len(generation_ids)))
        if threading.active_count() > 1:
            # Forking a threaded process can deadlock the child (a lock held at the fork):
            # a threaded caller (a test server, say) runs everything here, in threads.
            self.stdout.write(f"{label}: in this process, {threads} threads")
            progress = Progress(self.stdout, label, total=len(generation_ids))
            _run_share(generation_ids, threads)
            progress.show(len(generation_ids))
            progress.close()
            return
        shares = [generation_ids[i::workers] for i in range(workers)]
        self.stdout.write(f"{label}: {workers} processes, {threads} threads each")
        context = multiprocessing.get_context("fork")
        done = context.Value("i", 0)
        progress = Progress(self.stdout, label, total=len(generation_ids))
        connections.close_all()  # each process opens its own
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(done,)
        ) as pool:
            futures = [pool.submit(_run_share, share, threads) for share in shares]
            while not all(future.done() for future in futures):
                wait(futures, timeout=0.5)
                progress.show(done.value)
            for future in futures:
                future.result()  # a worker's exception surfaces here
        progress.show(done.value)
        progress.close()

    def _ensure_admin(self) -> None:
        users = get_user_model()
        if not settings.DEBUG or users.objects.filter(is_superuser=True).exists():
            return
        users.objects.create_superuser("admin", "admin@example.com", "admin")
        self.stdout.write("Admin: user 'admin', password 'admin' (local demo only).")

    def _simulate_votes(self, wanted: int, rng: random.Random, *, answers: random.Random) -> None:
        simulated = Battle.objects.filter(
            session_key__startswith=SIMULATED_SESSIONS, vote__isnull=False
        )
        for i in range(max(0, wanted - simulated.count())):
            arena = Arena.EDIT if rng.random() < 0.3 else Arena.T2I
            session = f"{SIMULATED_SESSIONS}{rng.randrange(SIMULATED_VOTERS)}"
            try:
                battle = battle_create(arena=arena, session_key=session)
            except NoBattleAvailable:
                continue
            choice = simulated_choice(battle.left.model.slug, battle.right.model.slug, rng)
            vote_record(token=battle.token, session_key=session, choice=choice)
            for question in QUESTIONS[arena]:
                if answers.random() < ANSWER_SHARE:
                    quality_vote_record(
                        token=battle.token,
                        session_key=session,
                        quality=question.quality,
                        choice=simulated_answer(
                            battle.left.model.slug,
                            battle.right.model.slug,
                            QUALITY_STRENGTH[question.quality],
                            answers,
                        ),
                    )
            if (i + 1) % 200 == 0:
                self.stdout.write(f"  {i + 1} votes...")
        self.stdout.write(f"Votes: {simulated.count()} simulated votes in all.")


_done: Synchronized[int] | None = None  # generations finished, shared by the worker processes


def _start_worker(done: Synchronized[int]) -> None:
    """In a new worker process: a gateway of its own (its own random simulated latencies)."""
    global _done
    _done = done
    set_default_gateway(None)


def _run_share(generation_ids: list[int], threads: int) -> None:
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(_run_generation, generation_ids))
    connections.close_all()


def _run_generation(generation_id: int) -> None:
    close_old_connections()
    try:
        generation_execute(generation_id=generation_id)
    finally:
        connection.close()
        if _done is not None:
            with _done.get_lock():
                _done.value += 1


class Progress:
    """A bar that moves: redrawn in place on a terminal, a line per tenth otherwise."""

    WIDTH = 30

    def __init__(self, out: OutputWrapper, label: str, *, total: int) -> None:
        self.out, self.label, self.total = out, label, total
        self.done, self.started = 0, time.monotonic()
        self.live = out.isatty()
        self.printed_tenths = -1
        self.show(0)

    def show(self, done: int) -> None:
        self.done = done
        tenths = 10 * self.done // max(1, self.total)
        if not self.live and tenths == self.printed_tenths:
            return
        self.printed_tenths = tenths
        filled = self.WIDTH * self.done // max(1, self.total)
        line = (
            f"{self.label}: [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{self.done}/{self.total}  {time.monotonic() - self.started:.0f} s"
        )
        if self.live:
            self.out.write("\r" + line, ending="")
            self.out.flush()
        else:
            self.out.write(line)

    def close(self) -> None:
        if self.live:
            self.out.write("")


def simulated_choice(left: str, right: str, rng: random.Random) -> Choice:
    """A voter who mostly agrees with TRUE_STRENGTH, sometimes calls it a tie or both bad."""
    left_strength, right_strength = TRUE_STRENGTH.get(left, 1000), TRUE_STRENGTH.get(right, 1000)
    if max(left_strength, right_strength) < 950 and rng.random() < 0.35:
        return Choice.BOTH_BAD
    if rng.random() < 0.08:
        return Choice.TIE
    p_left = 1 / (1 + math.pow(10, (right_strength - left_strength) / 400))
    return Choice.LEFT if rng.random() < p_left else Choice.RIGHT


def simulated_answer(
    left: str, right: str, strength: dict[str, int], rng: random.Random
) -> Choice:
    """A voter answering one quality question by `strength`, sometimes "about the same"."""
    if rng.random() < 0.1:
        return Choice.TIE
    p_left = 1 / (1 + math.pow(10, (strength.get(right, 1000) - strength.get(left, 1000)) / 400))
    return Choice.LEFT if rng.random() < p_left else Choice.RIGHT
