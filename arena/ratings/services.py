from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from datetime import timedelta
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from arena.battles.models import EloRating, PairingPlan, QualityVote, Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.battles.qualities import QUESTIONS
from arena.battles.services import anonymous_id, pairing_plan_store
from arena.cache import CacheUnavailable
from arena.catalog.models import AIModel, Arena, Category, Generation, Prompt
from arena.ratings import engine, pairing, quality, votefile
from arena.ratings.counts import count_table, pairs_count_table
from arena.ratings.models import MAIN, FlagPass, PersonalBoard, Rating, RatingRun, VoterFlag
from arena.ratings.personal import PersonalRanking, personal_ranking

logger = logging.getLogger(__name__)

# --- Bradley-Terry ----------------------------------------------------------------------------


def _board_votes(arena: Arena, category: Category | None) -> QuerySet[Vote]:
    """A board's votes: the arena's, or those on the prompts of one of its categories."""
    votes = Vote.objects.filter(arena=arena)
    if category is None:
        return votes
    return votes.filter(prompt__in=Prompt.objects.in_category(category))


def quality_vote_counts(*, arena: Arena, quality: str) -> engine.VoteCounts:
    """The counted answers to one quality question in the arena as a count table."""
    return pairs_count_table(
        QualityVote.objects.board(arena, quality)
        .counted()
        .values_list("battle__vote__left_model__slug", "battle__vote__right_model__slug", "choice")
    )


def ratings_recompute(*, arena: Arena) -> RatingRun:
    """Fit Bradley-Terry with bootstrap intervals on the arena's votes and store the result,
    then the pairing plan it implies for battles.

    Pages read the stored rows; `ratings_compute` on an export of the same votes prints the
    same numbers (same seed, same rounding).
    """
    run = _votes_fit(arena=arena, votes=_board_votes(arena, None))
    pairing_plan_write(arena=arena)
    return run


def category_ratings_recompute(*, arena: Arena) -> list[RatingRun]:
    """Fit each category of the arena as a board of its own, on the votes on its prompts, as
    `ratings_compute --category` does on the vote file.

    A category with fewer than ARENA_CATEGORY_MIN_VOTES votes gets a run (which says how many
    it has) but no ratings; one without votes, neither. Boards of deleted categories go.
    """
    categories = list(Category.objects.for_arena(arena))
    Rating.objects.filter(arena=arena, quality=MAIN).exclude(category=MAIN).exclude(
        category__in=[category.slug for category in categories]
    ).delete()
    runs = []
    for category in categories:
        votes = _board_votes(arena, category)
        if not votes.filter(flagged=False).exists():
            Rating.objects.board(arena, category=category.slug).delete()
            continue
        run = _votes_fit(
            arena=arena,
            votes=votes,
            category=category.slug,
            min_total=settings.ARENA_CATEGORY_MIN_VOTES,
        )
        runs.append(run)
    return runs


def quality_ratings_recompute(*, arena: Arena, quality: str) -> RatingRun:
    """Fit the board of one of the arena's quality questions from the answers to it, the same
    way as the main board: `ratings_compute` on its vote file prints the same numbers."""
    started = time.perf_counter()
    answers = QualityVote.objects.board(arena, quality)
    return _board_store(
        arena=arena,
        quality=quality,
        counts=quality_vote_counts(arena=arena, quality=quality),
        flagged_votes=answers.filter(battle__vote__flagged=True).count(),
        started=started,
    )


def _votes_fit(
    *, arena: Arena, votes: QuerySet[Vote], category: str = MAIN, min_total: int = 0
) -> RatingRun:
    """Fit a board of main votes (flagged ones left out) and store it."""
    started = time.perf_counter()
    return _board_store(
        arena=arena,
        category=category,
        counts=count_table(votes.filter(flagged=False)),
        flagged_votes=votes.filter(flagged=True).count(),
        started=started,
        min_total=min_total,
    )


def _board_store(
    *,
    arena: Arena,
    counts: engine.VoteCounts,
    flagged_votes: int,
    started: float,
    category: str = MAIN,
    quality: str = MAIN,
    min_total: int = 0,
) -> RatingRun:
    """Fit Bradley-Terry with bootstrap intervals on a board's count table and store its run
    in place of the last one, and its ratings if it has `min_total` votes."""
    board = engine.compute_leaderboard(
        counts,
        bootstrap=settings.ARENA_BOOTSTRAP_ROUNDS,
        seed=settings.ARENA_RATINGS_SEED,
        min_votes=settings.ARENA_MIN_VOTES,
    )
    listed = board.rows() if counts.total >= min_total else []
    models = dict(AIModel.objects.filter(slug__in=counts.models).values_list("slug", "pk"))
    now = timezone.now()
    with transaction.atomic():
        Rating.objects.board(arena, category=category, quality=quality).delete()
        Rating.objects.bulk_create(
            Rating(
                arena=arena,
                category=category,
                quality=quality,
                model_id=models[row["model"]],
                rating=row["rating"],
                ci_low=row["ci_low"],
                ci_high=row["ci_high"],
                rank=row["rank"],
                votes=row["votes"],
                preliminary=row["preliminary"],
                computed_at=now,
            )
            for row in listed
        )
        return RatingRun.objects.create(
            arena=arena,
            category=category,
            quality=quality,
            computed_at=now,
            votes=counts.total,
            flagged_votes=flagged_votes,
            bootstrap_rounds=board.bootstrap,
            seed=board.seed,
            left_advantage=board.left_advantage,
            left_advantage_low=board.left_advantage_ci[0],
            left_advantage_high=board.left_advantage_ci[1],
            duration_ms=(time.perf_counter() - started) * 1000,
        )


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
    """What the beat task runs: judge voters, then refit every arena, its categories and its
    quality questions; returns the runs of the arenas' main boards. A refit under way
    elsewhere (one after a vote, say) is waited for: never two at once. With the shared cache
    away there is no lock to take, but then no refit after a vote starts either (it needs the
    lock), so beat's refit runs alone."""
    try:
        while not cache.add(REFIT_LOCK, "refresh", timeout=REFIT_LOCK_SECONDS):
            time.sleep(0.1)
    except CacheUnavailable:
        logger.warning("The shared cache is away: refitting the ratings without the lock.")
    try:
        return _refresh()
    finally:
        cache.delete(REFIT_LOCK)


def _refresh() -> list[RatingRun]:
    runs = []
    for arena in Arena:
        voters_flag(arena=arena)
        runs.append(ratings_recompute(arena=arena))
        category_ratings_recompute(arena=arena)
        for question in QUESTIONS[arena]:
            if _answered(arena, question.quality):
                quality_ratings_recompute(arena=arena, quality=question.quality)
    return runs


def _answered(arena: Arena, quality: str) -> bool:
    """Whether a quality board has something to fit: answers, or a past fit to replace (its
    answers gone with their battles). A question nobody answered gets no empty runs."""
    return (
        QualityVote.objects.board(arena, quality).exists()
        or RatingRun.objects.board(arena, quality=quality).exists()
    )


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
    try:
        if not cache.add(REFIT_LOCK, "after a vote", timeout=REFIT_LOCK_SECONDS):
            return None
    except CacheUnavailable:
        return None  # no lock to be had: a later vote, or beat, refits
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


# --- Personal boards -------------------------------------------------------------------------


class NotEnoughVotes(Exception):
    """A visitor asked to share their own leaderboard before it exists."""

    def __init__(self, ranking: PersonalRanking) -> None:
        super().__init__(
            f"Your own {ranking.arena.label} leaderboard appears after {ranking.needed} votes "
            f"in that arena; you have cast {ranking.votes}. Vote {ranking.to_go} more times, "
            "then share it."
        )
        self.ranking = ranking


def personal_board_share(*, arena: Arena, session_key: str, previous: str = "") -> PersonalBoard:
    """Freeze the visitor's own leaderboard of this arena as it is now, for a link anyone may
    open. The copy keeps the ranking and nothing that leads back to the visitor.

    `previous` is the token of the copy this visitor shared last: while their ranking is still
    the same, that copy is handed back and nothing new is stored, so pressing "share" again
    and again makes at most one copy per vote. Raises NotEnoughVotes below
    ARENA_PERSONAL_MIN_VOTES votes.
    """
    ranking = personal_ranking(arena=arena, voter=anonymous_id(session_key))
    if not ranking.ready:
        raise NotEnoughVotes(ranking)
    last = PersonalBoard.objects.filter(token=previous, arena=arena).first() if previous else None
    if last and (last.votes, last.rows, last.tau) == (ranking.votes, ranking.rows, ranking.tau):
        return last
    return PersonalBoard.objects.create(
        arena=arena, rows=ranking.rows, votes=ranking.votes, tau=ranking.tau
    )


# --- Open vote data ---------------------------------------------------------------------------

EXPORT_DIR = "exports"


def votes_export(*, out: IO[bytes], arena: Arena | None = None, quality: str = MAIN) -> int:
    """Write the votes the ratings count (flagged ones left out) as the public JSON Lines;
    with `quality`, the answers to that quality question instead, in the same format.

    `model_a` is the left image; voters appear under a keyed pseudonym; each vote names the
    categories of its prompt, so that a category's board can be computed from the file too.
    Returns the count.
    """
    prompts = Prompt.objects.all()
    if quality:
        votes = QualityVote.objects.filter(quality=quality).counted().order_by("pk")
        if arena:
            votes = votes.filter(battle__arena=arena)
        fields = ("battle__vote__left_model__slug", "battle__vote__right_model__slug")
        fields += ("choice", "created_at", "battle__arena", "battle__prompt_id", "voter")
    else:
        votes = Vote.objects.filter(flagged=False).order_by("pk")
        if arena:
            votes = votes.filter(arena=arena)
        fields = ("left_model__slug", "right_model__slug")
        fields += ("choice", "created_at", "arena", "prompt_id", "voter")
    if arena:
        prompts = prompts.filter(arena=arena)
    categories = prompts.category_slugs()
    rows = votes.values_list(*fields).iterator(chunk_size=20_000)
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
                categories.get(prompt, []),
            )
            for a, b, choice, created, arena_, prompt, voter in rows
        ),
    )


def judge(voter: str) -> str:
    return votefile.anonymous_judge(voter, secret=settings.SECRET_KEY)


def generations_export(*, arena: Arena) -> bytes:
    """How each model's generations for this arena's prompts ended (made, failed, refused) and
    the provider calls they took, as the public JSON file."""
    reliability = Generation.objects.filter(prompt__arena=arena).reliability()
    document = {
        "arena": arena.value,
        "written_at": timezone.now().isoformat(timespec="seconds"),
        "models": [row.as_json() for row in reliability],
    }
    return json.dumps(document, indent=1).encode()


def votes_publish() -> list[str]:
    """Write each arena's vote file, one per quality question, and how its generations ended,
    into storage, for the public download page."""
    names = []
    for arena in Arena:
        for asked in (MAIN, *(question.quality for question in QUESTIONS[arena])):
            with tempfile.TemporaryFile() as handle:
                votes_export(out=handle, arena=arena, quality=asked)
                handle.seek(0)
                names.append(_publish(vote_file_name(arena, asked), File(handle)))
        generations = ContentFile(generations_export(arena=arena))
        names.append(_publish(f"{EXPORT_DIR}/generations-{arena}.json", generations))
    return names


def vote_file_name(arena: Arena, quality: str = MAIN) -> str:
    """Where an arena's vote file, or the file of one of its quality questions, is stored."""
    return f"{EXPORT_DIR}/votes-{arena}{f'-{quality}' if quality else ''}.jsonl"


def _publish(name: str, content: File[Any]) -> str:
    """Store a public file under its own name, in place of the last one."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, content)
