from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from arena.battles.matchmaking import matchmaking_changed
from arena.battles.models import Vote
from arena.catalog.models import AIModel, Arena
from arena.ratings import elo, engine, quality, votefile
from arena.ratings.models import EloRating, FlagPass, Rating, RatingRun, VoterFlag

OUTCOME = {
    "left": engine.A_WINS,
    "right": engine.B_WINS,
    "tie": engine.TIE,
    "both_bad": engine.BOTH_BAD,
}


@dataclass(frozen=True, slots=True)
class EloChange:
    left_before: float
    left_after: float
    right_before: float
    right_after: float


def elo_apply(
    *, arena: str, left_model_id: int, right_model_id: int, left_score: float
) -> EloChange:
    """Apply one game to the two models' online Elo. Call inside the vote's transaction.

    Both rows are locked before they are read, so concurrent votes never lose an update.
    """
    ids = sorted([left_model_id, right_model_id])
    rows = _locked(arena, ids)
    if len(rows) < 2:
        # Battles create the rows before anyone votes; this is for battles that did not. Rows
        # are created and then locked in model-id order: locking one row and then inserting
        # another could deadlock with a vote doing the opposite.
        elo_rows_ensure(arena=arena, model_ids=ids)
        rows = _locked(arena, ids)
    left, right = rows[left_model_id], rows[right_model_id]
    left_before, right_before = left.rating, right.rating
    left.rating, right.rating = elo.updated(left.rating, right.rating, left_score)
    for row, score in ((left, left_score), (right, 1.0 - left_score)):
        row.votes += 1
        if score == 1.0:
            row.wins += 1
        elif score == 0.0:
            row.losses += 1
        else:
            row.ties += 1
    EloRating.objects.bulk_update([left, right], ["rating", "votes", "wins", "losses", "ties"])
    return EloChange(left_before, left.rating, right_before, right.rating)


def elo_rows_ensure(*, arena: str, model_ids: list[int]) -> None:
    """Create the rating rows these models need in this arena, if they are missing."""
    EloRating.objects.bulk_create(
        [EloRating(arena=arena, model_id=model_id) for model_id in sorted(model_ids)],
        ignore_conflicts=True,
    )


def _locked(arena: str, model_ids: list[int]) -> dict[int, EloRating]:
    rows = (
        EloRating.objects.select_for_update()
        .filter(arena=arena, model_id__in=model_ids)
        .order_by("model_id")
    )
    return {row.model_id: row for row in rows}


# --- Bradley-Terry ----------------------------------------------------------------------------


def vote_counts(*, arena: str) -> engine.VoteCounts:
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
        np.repeat([OUTCOME[c] for c in choice], repeats),
    )


def ratings_recompute(*, arena: str) -> RatingRun:
    """Fit Bradley-Terry with bootstrap intervals on the arena's votes and store the result.

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
        Rating.objects.filter(arena=arena).delete()
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
        return RatingRun.objects.create(
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


# --- Vote quality -----------------------------------------------------------------------------


# A pass also re-reads the voters of the minute before the last one started, so a vote that
# was being committed while that pass read is never missed.
FLAG_PASS_OVERLAP = timedelta(minutes=1)


def voters_flag(*, arena: str) -> list[VoterFlag]:
    """Flag voters whose votes in this arena look unreliable against the last ratings.

    Their votes are then left out of every recompute. Only voters who voted since the last
    pass are judged (on all their votes): the others' verdicts cannot have changed much. A
    voter once flagged is not judged again: a flag a curator cleared stays cleared.
    """
    started = timezone.now()
    run = RatingRun.objects.filter(arena=arena).first()
    ratings = dict(Rating.objects.filter(arena=arena).values_list("model__slug", "rating"))
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
    rows: list[tuple[str, str, str, str]], ratings: dict[str, float], run: RatingRun, arena: str
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
        np.array([OUTCOME[row[3]] for row in rated], dtype=np.int64),
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
    """What the beat task runs: judge voters, then refit every arena."""
    runs = []
    for arena in Arena.values:
        voters_flag(arena=arena)
        runs.append(ratings_recompute(arena=arena))
    matchmaking_changed()
    return runs


def ratings_refresh_request() -> None:
    """Have a worker refresh the ratings now (what beat does on its schedule), once the
    current transaction commits."""
    from arena.ratings.tasks import ratings_refresh_run  # the tasks module imports this one

    transaction.on_commit(ratings_refresh_run.delay)


# --- Open vote data ---------------------------------------------------------------------------

WINNER = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
EXPORT_DIR = "exports"


def votes_export(*, out: IO[bytes], arena: str | None = None) -> int:
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
            (a, b, WINNER[choice], created.timestamp(), arena_, prompt, judge(voter))
            for a, b, choice, created, arena_, prompt, voter in rows
        ),
    )


def judge(voter: str) -> str:
    return votefile.anonymous_judge(voter, secret=settings.SECRET_KEY)


def votes_publish() -> list[str]:
    """Write each arena's vote file into storage, for the public download page."""
    names = []
    for arena in Arena.values:
        name = f"{EXPORT_DIR}/votes-{arena}.jsonl"
        with tempfile.TemporaryFile() as handle:
            votes_export(out=handle, arena=arena)
            handle.seek(0)
            if default_storage.exists(name):
                default_storage.delete(name)
            names.append(default_storage.save(name, File(handle)))
    return names
