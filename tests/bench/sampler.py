"""Matchmaking: votes needed to rank the models right, uniform pairing against the sampler.

A simulated arena with known true strengths. Each vote: a visitor (one of VISITORS, so the
no-immediate-repeat rule bites) is shown a battle chosen by the policy; the voter answers by
Bradley-Terry on the true strengths plus a left-side bias, except that DRAW_SHARE of votes
are a tie or both-bad whatever the gap and RANDOM_VOTERS of voters click any of the four
buttons at random. As on the site, the leaderboard (100 bootstrap rounds) is recomputed
every REFIT_EVERY votes, and the sampler's pair weights with it. The votes needed are the
first multiple of CHECK_EVERY at which the ratings fitted on the votes so far have a Kendall
tau with the true order of at least TARGET_TAU (checked more often than the sampler refits,
so that a policy needing a few hundred votes is not rounded to whole recomputes). Each run
also counts the votes until the fitted top 3 are the true top 3 in the true order (what a
reader of the leaderboard looks at first), and the battles each model was in, until both
targets were met. Both policies see the same truths, images and starting votes (paired seeds).

Assumptions, not tuned for the sampler: strengths ~ Normal(0, 100 Elo), about the spread of
the public text-to-image arenas; each model has an image for 90% of the prompts; ties are
strength-blind (the hardest case for any sampler). The sampler runs with the site's
constants (exploration, new-model boost, SETTLED_VOTES) and its default floor share
(ARENA_FLOOR_SHARE); uniform pairing has no floor (it needs none).

Scenarios, from the launch of an arena to the life it then leads:
- cold start: all 32 models new;
- young board: 8 models join 24 that have 8,000 votes between them (not yet in order:
  Kendall tau about 0.8 when the newcomers arrive);
- mature board: 8 models join 24 that have 30,000 votes (in order), the arena's usual day.

What a sampler can gain depends on the scenario. On a cold start, every vote between two
random models still carries most of the information a vote can carry (at 100 Elo of spread,
p(1 - p) averages 0.22 against 0.25 for an even pair). `best_allocation` measures the limit:
it knows the true strengths and finds the share of votes per pair that minimises the
expected number of misordered pairs (each estimated gap Gaussian, with the variance the
Bradley-Terry information of that allocation gives); even so it needs about 0.8 of uniform's
votes, so no sampler reaches 0.6 on a cold start. On a board that is already in order,
uniform pairing spends over half its votes on pairs whose order is known, and the sampler
spends them on the newcomers instead.

Also printed: the sampler's cost per battle for 64 models and 2,000 prompts (goal < 5 ms).
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.special import ndtr

from arena.battles.sampling import BattlePool, battle_pool, choose_battle
from arena.ratings.engine import ELO_PER_LOGIT, Leaderboard, compute_leaderboard, count_votes
from arena.ratings.pairing import pair_weights
from tests.ratings.synthetic import bt_outcomes, bt_votes

MODELS = 32
PROMPTS = 200
IMAGE_COVERAGE = 0.9
STRENGTH_SD_ELO = 100.0
LEFT_BIAS_ELO = 20.0
DRAW_SHARE = 0.15
RANDOM_VOTERS = 0.10
VISITORS = 500
REFIT_EVERY = 250
CHECK_EVERY = 50
TARGET_TAU = 0.9
TOP = 3
MAX_VOTES = 80_000
SEEDS = 60
BOUND_SEEDS = 10
GOAL = 0.60
FLOOR_SHARE = 0.5  # ARENA_FLOOR_SHARE's default


@dataclass(frozen=True)
class Scenario:
    name: str
    newcomers: int  # models that join at the start of the measured votes
    earlier_votes: int  # votes the other models already have


SCENARIOS = [
    Scenario("cold start", MODELS, 0),
    Scenario("young board", 8, 8_000),
    Scenario("mature board", 8, 30_000),
]


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    i, j = np.triu_indices(len(a), k=1)
    return float(np.mean(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))


@dataclass(frozen=True)
class Run:
    tau: int  # votes until Kendall tau >= TARGET_TAU with the truth
    top: int  # votes until the fitted top TOP are the true top TOP, in order
    battles: np.ndarray  # (MODELS,) battles each model was in, best model first


def simulate(policy: str, seed: int, scenario: Scenario) -> Run:
    """Votes after which the leaderboard first has Kendall tau >= TARGET_TAU with the truth,
    and first has the true top TOP in order; battles per model until both."""
    setup = np.random.default_rng(seed)
    truth = setup.normal(0, STRENGTH_SD_ELO, MODELS)
    available = setup.random((PROMPTS, MODELS)) < IMAGE_COVERAGE
    names = [f"m{i:02d}" for i in range(MODELS)]
    established = MODELS - scenario.newcomers
    earlier = bt_votes(
        setup, truth[:established], scenario.earlier_votes, left_advantage_elo=LEFT_BIAS_ELO,
        draw_share=DRAW_SHARE,
    )  # fmt: skip
    shown = setup.multinomial(scenario.earlier_votes, np.full(PROMPTS, 1 / PROMPTS)).astype(float)

    rng = np.random.default_rng([seed, policy == "sampler"])
    total = scenario.earlier_votes + MAX_VOTES
    left, right, outcome = (np.zeros(total, dtype=np.int64) for _ in range(3))
    for column, values in zip((left, right, outcome), earlier, strict=True):
        column[: scenario.earlier_votes] = values
    done = scenario.earlier_votes
    exploration = 1.0 if policy == "uniform" else None
    floor_share = 0.0 if policy == "uniform" else FLOOR_SHARE
    board = compute_leaderboard(count_votes(names, left[:done], right[:done], outcome[:done]))
    pool = _pool(board, names, available, floor_share)
    last: dict[int, tuple[int, int, int]] = {}
    best_first = np.argsort(-truth)
    reached: dict[str, int] = {}
    for vote in range(1, MAX_VOTES + 1):
        visitor = int(rng.integers(VISITORS))
        extra = {} if exploration is None else {"exploration": exploration}
        battle = choose_battle(pool, shown, rng=rng, last=last.get(visitor), **extra)
        assert battle is not None
        prompt, a, b = battle
        last[visitor] = battle
        shown[prompt] += 1
        left[done], right[done] = a, b
        if rng.random() < RANDOM_VOTERS:
            outcome[done] = rng.integers(4)
        else:
            outcome[done] = bt_outcomes(
                rng, truth, left[done : done + 1], right[done : done + 1],
                left_advantage_elo=LEFT_BIAS_ELO, draw_share=DRAW_SHARE,
            )[0]  # fmt: skip
        done += 1
        if vote % CHECK_EVERY:
            continue
        refit = vote % REFIT_EVERY == 0
        counts = count_votes(names, left[:done], right[:done], outcome[:done])
        # The ratings are the fit of all the votes; the bootstrap only makes the intervals.
        board = compute_leaderboard(counts, bootstrap=100 if refit else 1, seed=vote)
        if len(board.models) == MODELS:
            if kendall_tau(board.rating, truth) >= TARGET_TAU:
                reached.setdefault("tau", vote)
            if (np.argsort(-board.rating)[:TOP] == best_first[:TOP]).all():
                reached.setdefault("top", vote)
        if len(reached) == 2:
            break
        if refit:
            pool = _pool(board, names, available, floor_share)
    measured = slice(scenario.earlier_votes, done)
    battles = np.bincount(left[measured], minlength=MODELS)
    battles += np.bincount(right[measured], minlength=MODELS)
    return Run(reached.get("tau", MAX_VOTES), reached.get("top", MAX_VOTES), battles[best_first])


def _pool(
    board: Leaderboard, names: list[str], available: np.ndarray, floor_share: float
) -> BattlePool:
    """The sampler's battle pool after a recompute; models with no votes count as unknown."""
    at = [names.index(model) for model in board.models]
    rating, low, high = (np.full(len(names), np.nan) for _ in range(3))
    votes = np.zeros(len(names))
    rating[at], low[at], high[at], votes[at] = (
        board.rating,
        board.ci_low,
        board.ci_high,
        board.votes,
    )
    weights = pair_weights(rating, low, high, votes)
    return battle_pool(weights, available, floor_share=floor_share)


def _run(job: tuple[str, int, Scenario]) -> Run:
    return simulate(*job)


def main() -> None:
    _speed()
    print(
        f"{MODELS} models (true Elo sd {STRENGTH_SD_ELO:.0f}), {PROMPTS} prompts, "
        f"{DRAW_SHARE:.0%} draws, {RANDOM_VOTERS:.0%} random voters, "
        f"{LEFT_BIAS_ELO:.0f} Elo left bias; recompute every {REFIT_EVERY} votes, "
        f"tau checked every {CHECK_EVERY}; {SEEDS} paired seeds"
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        for scenario in SCENARIOS:
            runs = {
                policy: list(pool.map(_run, [(policy, seed, scenario) for seed in range(SEEDS)]))
                for policy in ("uniform", "sampler")
            }
            needed = {p: np.array([run.tau for run in runs[p]]) for p in runs}
            uniform, sampler = (statistics.median(needed[p]) for p in ("uniform", "sampler"))
            paired = statistics.median(needed["sampler"] / needed["uniform"])
            low, high = _ratio_interval(needed["uniform"], needed["sampler"])
            verdict = "ok" if sampler / uniform <= GOAL else "over"
            print(
                f"  {scenario.name:12s} votes to tau {TARGET_TAU}: uniform {uniform:6,.0f}, "
                f"sampler {sampler:6,.0f} (medians); ratio {sampler / uniform:.2f} "
                f"(90% {low:.2f}-{high:.2f}, paired median {paired:.2f}; "
                f"goal {GOAL:.2f}: {verdict})"
            )
            top = {p: np.array([run.top for run in runs[p]]) for p in runs}
            uniform_top, sampler_top = (statistics.median(top[p]) for p in ("uniform", "sampler"))
            low, high = _ratio_interval(top["uniform"], top["sampler"])
            verdict = "ok" if sampler_top < uniform_top else "over"
            print(
                f"  {'':12s} votes to the top {TOP} in order: uniform {uniform_top:6,.0f}, "
                f"sampler {sampler_top:6,.0f} (medians); ratio {sampler_top / uniform_top:.2f} "
                f"(90% {low:.2f}-{high:.2f}; goal below uniform: {verdict})"
            )
            for policy in runs:
                print(f"  {'':12s} {policy:7s} battles per model: {_shares(runs[policy])}")
            if scenario.newcomers == MODELS:
                limits = list(pool.map(best_allocation, range(BOUND_SEEDS)))
                print(
                    f"  {'':12s} the best fixed allocation, knowing the true strengths: "
                    f"ratio {statistics.median(limits):.2f} (median of {BOUND_SEEDS} seeds, "
                    f"{min(limits):.2f}-{max(limits):.2f})"
                )


def _shares(runs: list[Run]) -> str:
    """Each model's share of the battles until both targets, as a share of the even share
    (2 / MODELS): the true top TOP, then the median, least and most shown model."""
    # Each battle has two models: a model's share of battles is its count over half the sum.
    shares = np.array([run.battles / run.battles.sum() * MODELS for run in runs])
    by_rank = np.median(shares, axis=0)
    top = " ".join(f"{share:.2f}" for share in by_rank[:TOP])
    return (
        f"true top {TOP} {top}, median {np.median(by_rank):.2f}, "
        f"least {np.median(shares.min(axis=1)):.2f}, most {np.median(shares.max(axis=1)):.2f} "
        f"(1.00 = even, {2 / MODELS:.1%} of battles)"
    )


def best_allocation(seed: int) -> float:
    """Votes the best fixed allocation needs to reach TARGET_TAU, as a share of uniform's.

    For the cold start of `simulate(..., seed, ...)`, in the Gaussian approximation: with N
    votes shared w over the pairs, the estimated strengths have covariance pinv(L) with
    L = N * sum_pairs w * p(1 - p) * (e_i - e_j)(e_i - e_j)^T, so a pair with true gap g is
    misordered with chance Phi(-g / sd of its estimated gap). The votes needed are those
    that bring the expected misordered pairs down to Kendall tau's allowance.
    """
    truth = np.random.default_rng(seed).normal(0, STRENGTH_SD_ELO, MODELS) / ELO_PER_LOGIT
    i, j = np.triu_indices(MODELS, k=1)
    incidence = np.zeros((i.size, MODELS))
    incidence[np.arange(i.size), i], incidence[np.arange(i.size), j] = 1.0, -1.0
    gap = np.abs(truth[i] - truth[j])
    info = np.exp(-gap) / (1.0 + np.exp(-gap)) ** 2
    allowed = (1.0 - TARGET_TAU) / 2 * i.size

    def misordered(share: np.ndarray, votes: float) -> tuple[float, np.ndarray]:
        """Expected misordered pairs, and its gradient in the shares."""
        laplacian = (incidence.T * (votes * share * info)) @ incidence
        spread = incidence @ np.linalg.pinv(laplacian, hermitian=True)
        sd = np.sqrt(np.einsum("pi,pi->p", spread, incidence))
        by_variance = np.exp(-0.5 * (gap / sd) ** 2) * gap / (2 * np.sqrt(2 * np.pi) * sd**3)
        gradient = -(by_variance @ (spread @ incidence.T) ** 2) * votes * info
        return float(ndtr(-gap / sd).sum()), gradient

    def needed(share: np.ndarray) -> float:
        return brentq(lambda votes: misordered(share, votes)[0] - allowed, 10.0, 1e8)

    uniform = needed(np.full(i.size, 1.0 / i.size))

    def objective(logits: np.ndarray) -> tuple[float, np.ndarray]:
        share = np.exp(logits - logits.max())
        share /= share.sum()
        value, gradient = misordered(share, uniform)
        return value, share * (gradient - gradient @ share)

    best = minimize(objective, np.zeros(i.size), jac=True, method="L-BFGS-B").x
    share = np.exp(best - best.max())
    return needed(share / share.sum()) / uniform


def _ratio_interval(uniform: np.ndarray, sampler: np.ndarray) -> tuple[float, float]:
    """90% bootstrap interval of the ratio of medians, resampling seeds."""
    seeds = np.random.default_rng(0).integers(0, len(uniform), (2_000, len(uniform)))
    ratios = np.median(sampler[seeds], axis=1) / np.median(uniform[seeds], axis=1)
    low, high = np.percentile(ratios, [5, 95])
    return float(low), float(high)


def _speed() -> None:
    rng = np.random.default_rng(0)
    models, prompts = 64, 2_000
    rating = rng.normal(1000, 100, models)
    half_width = rng.uniform(5, 60, models)
    votes = rng.integers(0, 2_000, models)
    available = rng.random((prompts, models)) < 0.9
    shown = rng.integers(0, 500, prompts)
    started = time.perf_counter()
    weights = pair_weights(rating, rating - half_width, rating + half_width, votes)
    pool = battle_pool(weights, available, floor_share=FLOOR_SHARE)
    build = time.perf_counter() - started
    # A visitor in their first five battles has up to four models left out.
    first_five = np.zeros(models, dtype=bool)
    first_five[rng.choice(models, 4, replace=False)] = True
    for label, excluded in (("", None), (", 4 models excluded", first_five)):
        last = None
        timings = []
        for _ in range(2_000):
            started = time.perf_counter()
            last = choose_battle(pool, shown, rng=rng, last=last, excluded=excluded)
            timings.append(time.perf_counter() - started)
        print(
            f"sampler, {models} models x {prompts:,} prompts: weights + pool "
            f"{build * 1e3:.1f} ms (per recompute), choose_battle{label} "
            f"{statistics.median(timings) * 1e3:.3f} ms median, "
            f"{np.percentile(timings, 99) * 1e3:.3f} ms p99 per battle (goal < 5 ms)"
        )
