"""Matchmaking: votes needed to rank the models right, uniform pairing against the sampler.

A simulated arena with known true strengths. Each vote: a visitor (one of VISITORS, so the
no-immediate-repeat rule bites) is shown a battle chosen by the policy; the voter answers by
Bradley-Terry on the true strengths plus a left-side bias, except that DRAW_SHARE of votes
are a tie or both-bad whatever the gap and RANDOM_VOTERS of voters click any of the four
buttons at random. As on the site, the leaderboard (100 bootstrap rounds) is recomputed
every REFIT_EVERY votes, and the sampler's pair weights with it; the votes needed are those
at the first recompute whose Kendall tau with the true order is at least TARGET_TAU.
Both policies see the same truths, images and starting votes (paired seeds).

Assumptions, not tuned for the sampler: strengths ~ Normal(0, 100 Elo), about the spread of
the public text-to-image arenas; each model has an image for 90% of the prompts; ties are
strength-blind (the hardest case for any sampler). Scenarios: a cold start (every model
new), and newcomers (8 models join 24 that already have 8,000 votes between them), the
case the new-model boost is for.

Also printed: the sampler's cost per battle for 64 models and 2,000 prompts (goal < 5 ms).
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from arena.ratings.engine import Leaderboard, compute_leaderboard, count_votes
from arena.ratings.sampler import BattlePool, battle_pool, choose_battle, pair_weights
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
TARGET_TAU = 0.9
SETTLED_VOTES = 300
MAX_VOTES = 80_000
SEEDS = 40
GOAL = 0.60


@dataclass(frozen=True)
class Scenario:
    name: str
    newcomers: int  # models that join at the start of the measured votes
    earlier_votes: int  # votes the other models already have


SCENARIOS = [Scenario("cold start", MODELS, 0), Scenario("newcomers", 8, 8_000)]


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    i, j = np.triu_indices(len(a), k=1)
    return float(np.mean(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))


def simulate(policy: str, seed: int, scenario: Scenario) -> int:
    """Votes after which the leaderboard first has Kendall tau >= TARGET_TAU with the truth."""
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
    board = compute_leaderboard(count_votes(names, left[:done], right[:done], outcome[:done]))
    pool = _pool(board, names, available)
    last: dict[int, tuple[int, int, int]] = {}
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
        if vote % REFIT_EVERY == 0:
            board = compute_leaderboard(
                count_votes(names, left[:done], right[:done], outcome[:done]), seed=vote
            )
            if len(board.models) == MODELS and kendall_tau(board.rating, truth) >= TARGET_TAU:
                return vote
            pool = _pool(board, names, available)
    return MAX_VOTES


def _pool(board: Leaderboard, names: list[str], available: np.ndarray) -> BattlePool:
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
    weights = pair_weights(rating, low, high, votes, settled_votes=SETTLED_VOTES)
    return battle_pool(weights, available)


def _run(job: tuple[str, int, Scenario]) -> int:
    return simulate(*job)


def main() -> None:
    _speed()
    print(
        f"{MODELS} models (true Elo sd {STRENGTH_SD_ELO:.0f}), {PROMPTS} prompts, "
        f"{DRAW_SHARE:.0%} draws, {RANDOM_VOTERS:.0%} random voters, "
        f"{LEFT_BIAS_ELO:.0f} Elo left bias; recompute every {REFIT_EVERY} votes; "
        f"{SEEDS} paired seeds"
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        for scenario in SCENARIOS:
            needed = {
                policy: np.array(
                    list(pool.map(_run, [(policy, seed, scenario) for seed in range(SEEDS)]))
                )
                for policy in ("uniform", "sampler")
            }
            uniform, sampler = (statistics.median(needed[p]) for p in ("uniform", "sampler"))
            paired = statistics.median(needed["sampler"] / needed["uniform"])
            low, high = _ratio_interval(needed["uniform"], needed["sampler"])
            verdict = "ok" if sampler / uniform <= GOAL else "over"
            print(
                f"  {scenario.name:11s} votes to tau {TARGET_TAU}: uniform {uniform:6,.0f}, "
                f"sampler {sampler:6,.0f} (medians); ratio {sampler / uniform:.2f} "
                f"(90% {low:.2f}-{high:.2f}, paired median {paired:.2f}; "
                f"goal {GOAL:.2f}: {verdict})"
            )


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
    weights = pair_weights(
        rating, rating - half_width, rating + half_width, votes, settled_votes=300
    )
    pool = battle_pool(weights, available)
    build = time.perf_counter() - started
    last = None
    timings = []
    for _ in range(2_000):
        started = time.perf_counter()
        last = choose_battle(pool, shown, rng=rng, last=last)
        timings.append(time.perf_counter() - started)
    print(
        f"sampler, {models} models x {prompts:,} prompts: weights + pool {build * 1e3:.1f} ms "
        f"(per recompute), choose_battle {statistics.median(timings) * 1e3:.3f} ms median, "
        f"{np.percentile(timings, 99) * 1e3:.3f} ms p99 per battle (goal < 5 ms)"
    )
