"""Bradley-Terry leaderboards on a million votes: the fit, the vote file, and the notebook way.

Goals (issue 6): counting + full fit + 100 bootstrap rounds of 1,000,000 votes over 64 models
in at most 0.1 s; `ratings_compute` on a 1M-line vote file in at most 1 s end to end. Both
are printed next to the public notebooks' method (logistic regression on raw votes, L-BFGS).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arena.ratings import engine
from arena.ratings.engine import WINNER_LABELS, compute_leaderboard, count_votes
from arena.ratings.votefile import compute_from_file, write_votes
from tests.ratings.reference import logistic_fit
from tests.ratings.synthetic import bt_votes

VOTES = 1_000_000
MODELS = 64
ROUNDS = 100
REPEATS = 7
FIT_GOAL = 0.1
FILE_GOAL = 1.0
ROOT = Path(__file__).resolve().parents[2]
IN_PROCESS = (
    "import sys; from arena.ratings.votefile import compute_from_file, rows_json; "
    "print(rows_json(compute_from_file(sys.argv[1])))"
)


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def median_of(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    results = [timed(work) for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        results[-1][2],
    )


def main() -> None:
    rng = np.random.default_rng(2026)
    strength = rng.normal(0, 100, MODELS)
    left, right, outcome = bt_votes(rng, strength, VOTES, left_advantage_elo=20, draw_share=0.2)
    names = [f"model-{i:02d}" for i in range(MODELS)]
    print(f"{VOTES:,} votes, {MODELS} models, {ROUNDS} bootstrap rounds; median of {REPEATS}")

    def everything() -> engine.Leaderboard:
        return compute_leaderboard(count_votes(names, left, right, outcome), bootstrap=ROUNDS)

    everything()
    wall, cpu, board = median_of(REPEATS, everything)
    verdict = "ok" if wall <= FIT_GOAL else "OVER"
    print(
        f"  count + fit + {ROUNDS} rounds   {wall * 1e3:6.1f} ms wall, {cpu * 1e3:6.1f} ms CPU"
        f"   (goal {FIT_GOAL * 1e3:.0f} ms: {verdict})"
    )
    counts = count_votes(names, left, right, outcome)
    parts = {
        "counting (np.bincount)": lambda: count_votes(names, left, right, outcome),
        "full fit + 1 round": lambda: compute_leaderboard(counts, bootstrap=1),
    }
    for label, work in parts.items():
        wall, cpu, _ = median_of(REPEATS, work)
        print(f"    {label:26s} {wall * 1e3:6.1f} ms wall, {cpu * 1e3:6.1f} ms CPU")
    print(
        f"  left-side advantage        {board.left_advantage:+.1f} Elo (simulated +20, shrunk"
        " like every gap by the 20% of draws that ignore strength)"
    )

    wall, cpu, (notebook, _) = timed(
        lambda: logistic_fit(left, right, outcome, MODELS, left_term=False)
    )
    print(
        f"  notebook way, one fit      {wall * 1e3:6.0f} ms wall (raw votes, one-hot, L-BFGS;"
        " no bootstrap)"
    )
    order = [names.index(m) for m in board.models]
    gap = np.abs(board.rating - notebook[order]).max()
    print(f"  max |engine - notebook|    {gap:.2f} Elo (the notebook has no left-side term)")

    with tempfile.TemporaryDirectory(prefix="arena-bench-") as scratch:
        path = Path(scratch) / "votes.jsonl"
        wall, _, _ = timed(lambda: _write_file(path, names, left, right, outcome))
        size = path.stat().st_size / 2**20
        print(f"  write 1M-line vote file    {wall:6.2f} s ({size:.0f} MiB)")
        wall, _, _ = timed(lambda: _json_loads_every_line(path))
        print(f"  json.loads line by line    {wall:6.2f} s (reading alone)")
        wall, _, rows = median_of(3, lambda: compute_from_file(path, bootstrap=ROUNDS))
        print(f"  compute_from_file          {wall:6.2f} s wall (in-process; two halves at once)")
        _end_to_end(
            "python -c compute_from_file",
            [sys.executable, "-c", IN_PROCESS, str(path)],
            rows,
        )
        _end_to_end(
            "python -c 'import arena'",
            [sys.executable, "-c", "import arena.ratings.votefile"],
            None,
        )
        _end_to_end(
            "manage.py ratings_compute",
            [sys.executable, "manage.py", "ratings_compute", "--votes", str(path),
             "--bootstrap", str(ROUNDS), "--seed", str(engine.DEFAULT_SEED), "--min-votes", "0"],
            rows,
        )  # fmt: skip


def _write_file(path: Path, names: list[str], left, right, outcome) -> None:
    battles = zip(left.tolist(), right.tolist(), outcome.tolist(), strict=True)
    with open(path, "wb") as out:
        write_votes(
            out,
            (
                (names[a], names[b], WINNER_LABELS[o], 1_730_000_000.0 + i, "t2i", i % 2000,
                 f"arena_user_{i % 50_000:05x}")
                for i, (a, b, o) in enumerate(battles)
            ),
        )  # fmt: skip


def _json_loads_every_line(path: Path) -> int:
    with open(path, "rb") as lines:
        return sum(1 for line in lines if json.loads(line))


def _end_to_end(label: str, command: list[str], expected: list[dict[str, Any]] | None) -> None:
    env = dict(os.environ, SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only"))
    walls = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"  {label:26s} failed: {done.stderr.strip().splitlines()[-1:]}")
            return
    same = ""
    if expected is not None:
        same = ", same rows" if json.loads(done.stdout) == expected else ", ROWS DIFFER"
    goal = f" (goal {FILE_GOAL:.0f} s)" if expected is not None else " (startup only)"
    print(f"  {label:26s} {statistics.median(walls):6.2f} s end to end{goal}{same}")
