from __future__ import annotations

import logging
import tempfile
import threading
import time
from datetime import timedelta
from typing import IO

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from arena.battles.models import EloRating, PairingPlan, Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.battles.services import pairing_plan_store
from arena.catalog.models import AIModel, Arena
from arena.ratings import engine, pairing, quality, votefile
from arena.ratings.models import FlagPass, Rating, RatingRun, VoterFlag

logger = logging.getLogger(__name__)

# --- Bradley-Terry ----------------------------------------------------------------------------


def vote_counts(*, arena: Arena) -> engine.VoteCounts:
    """The arena's unflagged votes as a count table, aggregated by the database."""
    rows = (
        Vote.objects.filter(arena=arena, flagged=False)
        .values_list("left_model__slug", "right_model__slug", "choice")
        .annotate(n=Count("pk"))
        .order_by()
    )
    left, right, choice, n = zip(*rows, strict=True) if rows else ((), (), (), ())
    models = sorted(set(left) | set(right))
    index = {slug: i for i, slug in enumerate(models)}
    repeats = np.asarray(n, dtype=np.int64)
    return engine.count_votes(
        models,
        np.repeat([index[slug] for slug in left], repeats),
        np.repeat([index[slug] for slug in right], repeats),
        np.repeat([OUTCOMES[Choice(c)].code for c in choice], repeats),
    )


def ratings_recompute(*, arena: Arena) -> RatingRun:
    """Fit Bradley-Terry with bootstrap intervals on the arena's votes and store the result,
    then the pairing plan it implies for battles.

    Pages read the stored rows; `ratings_compute` on an export of the same votes prints the
    same numbers (same seed, same rounding).
    """
    started = time.perf_counter()
    counts = vote_counts(arena=arena)
    board = engine.compute_leaderboard(
        counts,
        bootstrap=settings.ARENA_BOOTSTRAP_ROUNDS,
        seed=settings.ARENA_RATINGS_SEED,
        min_votes=settings.ARENA_MIN_VOTES,
    )
    models = dict(AIModel.objects.filter(slug__in=counts.models).values_list("slug", "pk"))
    now = timezone.now()
    with transaction.atomic():
        Rating.objects.board(arena).delete()
        Rating.objects.bulk_create(
            Rating(
                arena=arena,
                model_id=models[row["model"]],
                rating=row["rating"],
                ci_low=row["ci_low"],
                ci_high=row["ci_high"],
                rank=row["rank"],
                votes=row["votes"],
                preliminary=row["preliminary"],
                computed_at=now,
            )
            for row in board.rows()
        )
        run = RatingRun.objects.create(
            arena=arena,
            computed_at=now,
            votes=counts.total,
            flagged_votes=Vote.objects.filter(arena=arena, flagged=True).count(),
            bootstrap_rounds=board.bootstrap,
            seed=board.seed,
            left_advantage=board.left_advantage,
            left_advantage_low=board.left_advantage_ci[0],
            left_advantage_high=board.left_advantage_ci[1],
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    pairing_plan_write(arena=arena)
    return run


def pairing_plan_write(*, arena: Arena) -> PairingPlan:
    """Weigh every pair of the arena's models from the stored ratings and vote counts, and
    hand the weights to battles as the arena's pairing plan."""
    ratings = {row.model_id: row for row in Rating.objects.board(arena)}
    votes = dict(EloRating.objects.filter(arena=arena).values_list("model_id", "votes"))
    model_ids = sorted(ratings.keys() | votes.keys())

    def column(field: str) -> np.ndarray:
        return np.array(
            [getattr(ratings[m], field) if m in ratings else np.nan for m in model_ids]
        )

    inputs = (column("rating"), column("ci_low"), column("ci_high"))
    counts = np.array([votes.get(m, 0) for m in model_ids], dtype=np.float64)
    newcomer, newcomers = pairing.newcomer_weights(*inputs, counts)
    return pairing_plan_store(
        arena=arena,
        model_ids=model_ids,
        weights=pairing.pair_weights(*inputs, counts),
        newcomer=newcomer,
        newcomers=newcomers,
    )


# --- Vote quality -----------------------------------------------------------------------------


# A pass also re-reads the voters of the minute before the last one started, so a vote that
# was being committed while that pass read is never missed.
FLAG_PASS_OVERLAP = timedelta(minutes=1)


def voters_flag(*, arena: Arena) -> list[VoterFlag]:
    """Flag voters whose votes in this arena look unreliable against the last ratings.

    Their votes are then left out of every recompute. Only voters who voted since the last
    pass are judged (on all their votes): the others' verdicts cannot have changed much. A
    voter once flagged is not judged again: a flag a curator cleared stays cleared.
    """
    started = timezone.now()
    run = RatingRun.objects.board(arena).first()
    ratings = dict(Rating.objects.board(arena).values_list("model__slug", "rating"))
    if run is None or not ratings:
        return []
    votes = Vote.objects.filter(arena=arena).exclude(voter__in=VoterFlag.objects.values("voter"))
    last_pass = FlagPass.objects.filter(arena=arena).values_list("started_at", flat=True).first()
    if last_pass is not None:
        recent = Vote.objects.filter(arena=arena, created_at__gte=last_pass - FLAG_PASS_OVERLAP)
        votes = votes.filter(voter__in=recent.values("voter"))
    rows = list(votes.values_list("voter", "left_model__slug", "right_model__slug", "choice"))
    flags = _flag(rows, ratings, run, arena) if rows else []
    FlagPass.objects.update_or_create(arena=arena, defaults={"started_at": started})
    return flags


def _flag(
    rows: list[tuple[str, str, str, str]], ratings: dict[str, float], run: RatingRun, arena: Arena
) -> list[VoterFlag]:
    voters = sorted({row[0] for row in rows})
    models = sorted(ratings)
    voter_index = {voter: i for i, voter in enumerate(voters)}
    model_index = {slug: i for i, slug in enumerate(models)}
    rated = [row for row in rows if row[1] in model_index and row[2] in model_index]
    findings = quality.suspicious_voters(
        np.array([voter_index[row[0]] for row in rated], dtype=np.int64),
        np.array([model_index[row[1]] for row in rated], dtype=np.int64),
        np.array([model_index[row[2]] for row in rated], dtype=np.int64),
        np.array([OUTCOMES[Choice(row[3])].code for row in rated], dtype=np.int64),
        np.array([ratings[slug] for slug in models]),
        left_advantage=run.left_advantage,
    )
    flags = VoterFlag.objects.bulk_create(
        [
            VoterFlag(
                voter=voters[finding.voter],
                reason=finding.reason,
                votes=finding.votes,
                detail=f"{Arena(arena).label}: {finding.detail}",
            )
            for finding in findings
        ],
        ignore_conflicts=True,
    )
    Vote.objects.filter(voter__in=[flag.voter for flag in flags]).update(flagged=True)
    return flags


def voter_flags_clear(*, flag_ids: list[int], user_id: int | None) -> int:
    """A curator vouches for these voters: their votes count again from the next recompute."""
    flags = VoterFlag.objects.filter(pk__in=flag_ids, cleared_at__isnull=True)
    voters = list(flags.values_list("voter", flat=True))
    with transaction.atomic():
        count = flags.update(cleared_at=timezone.now(), cleared_by_id=user_id)
        Vote.objects.filter(voter__in=voters).update(flagged=False)
    return count


def ratings_refresh() -> list[RatingRun]:
    """What the beat task runs: judge voters, then refit every arena. A refit under way
    elsewhere (one after a vote, say) is waited for: never two at once."""
    while not cache.add(REFIT_LOCK, "refresh", timeout=REFIT_LOCK_SECONDS):
        time.sleep(0.1)
    try:
        return _refresh()
    finally:
        cache.delete(REFIT_LOCK)


def _refresh() -> list[RatingRun]:
    runs = []
    for arena in Arena:
        voters_flag(arena=arena)
        runs.append(ratings_recompute(arena=arena))
    return runs


# One refit at a time, across processes: the lock lives in the shared cache. It expires on its
# own after REFIT_LOCK_SECONDS, should a process die holding it (a refit of a million votes
# takes seconds).
REFIT_LOCK = "ratings:refit"
REFIT_LOCK_SECONDS = 300
REFIT_THREAD = "ratings-refit-after-vote"


def ratings_refresh_when_stale(*, arena: Arena) -> threading.Thread | None:
    """Where no Celery beat refits the ratings (ARENA_REFIT_AFTER_VOTE_SECONDS > 0): after a
    vote, refresh them as beat would if the arena's last run is older than that, in a thread
    of its own, so the vote's response never waits for it. Returns the thread, or None if
    the ratings are fresh or a refit is already under way."""
    seconds = settings.ARENA_REFIT_AFTER_VOTE_SECONDS
    if seconds <= 0:
        return None
    fresh_since = timezone.now() - timedelta(seconds=seconds)
    if RatingRun.objects.board(arena).filter(computed_at__gte=fresh_since).exists():
        return None
    if not cache.add(REFIT_LOCK, "after a vote", timeout=REFIT_LOCK_SECONDS):
        return None
    thread = threading.Thread(target=_refresh_in_background, name=REFIT_THREAD, daemon=True)
    thread.start()
    return thread


def _refresh_in_background() -> None:
    try:
        _refresh()
    except Exception:
        logger.exception("The ratings refit after a vote failed; the next stale vote retries.")
    finally:
        cache.delete(REFIT_LOCK)
        connection.close()  # this thread's own


def ratings_refresh_request() -> None:
    """Have a worker refresh the ratings now (what beat does on its schedule), once the
    current transaction commits."""
    from arena.celery import task_send

    transaction.on_commit(lambda: task_send("arena.ratings.tasks.ratings_refresh_run"))


# --- Open vote data ---------------------------------------------------------------------------

EXPORT_DIR = "exports"


def votes_export(*, out: IO[bytes], arena: Arena | None = None) -> int:
    """Write the votes the ratings count (flagged ones left out) as the public JSON Lines.

    `model_a` is the left image; voters appear under a keyed pseudonym. Returns the count.
    """
    votes = Vote.objects.filter(flagged=False).order_by("pk")
    if arena:
        votes = votes.filter(arena=arena)
    rows = votes.values_list(
        "left_model__slug",
        "right_model__slug",
        "choice",
        "created_at",
        "arena",
        "prompt_id",
        "voter",
    ).iterator(chunk_size=20_000)
    return votefile.write_votes(
        out,
        (
            (
                a,
                b,
                OUTCOMES[Choice(choice)].winner,
                created.timestamp(),
                arena_,
                prompt,
                judge(voter),
            )
            for a, b, choice, created, arena_, prompt, voter in rows
        ),
    )


def judge(voter: str) -> str:
    return votefile.anonymous_judge(voter, secret=settings.SECRET_KEY)


def votes_publish() -> list[str]:
    """Write each arena's vote file into storage, for the public download page."""
    names = []
    for arena in Arena:
        name = f"{EXPORT_DIR}/votes-{arena}.jsonl"
        with tempfile.TemporaryFile() as handle:
            votes_export(out=handle, arena=arena)
            handle.seek(0)
            if default_storage.exists(name):
                default_storage.delete(name)
            names.append(default_storage.save(name, File(handle)))
    return names
