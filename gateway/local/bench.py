"""Time the built-in models: median and slowest wall time per model at 1024x1024.

    .venv/bin/python -m gateway.local.bench

Renders every sample prompt with every text-to-image model, then applies every sample edit
(to a lumen-xl source) with every editing model, each with its own seed, as the arena does.
CPU time is printed too: on a busy machine it is the steadier figure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from gateway import local
from gateway.local import samples
from gateway.local.contact_sheet import EDIT_MODELS, T2I_MODELS

SIZE = 1024


def timed(work: Callable[..., object], *args: object, seed: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work(*args, seed=seed)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def report(label: str, runs: list[tuple[float, float]]) -> None:
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(
        f"  {label:12s} median {statistics.median(wall):5.0f} ms   slowest {max(wall):5.0f} ms"
        f"   (cpu median {statistics.median(cpu):4.0f} ms, slowest {max(cpu):4.0f} ms)"
    )


def main() -> None:
    prompts, edits = samples.load()
    local.render("lumen-xl", prompts[0], 128, 128, seed=0)  # imports and first-call set-up
    print(f"text to image, {SIZE}x{SIZE}, {len(prompts)} prompts")
    for model in T2I_MODELS:
        runs = [timed(local.render, model, p, SIZE, SIZE, seed=k) for k, p in enumerate(prompts)]
        report(model, runs)
    sources = {p: local.render("lumen-xl", p, SIZE, SIZE, seed=0) for p, _ in edits}
    print(f"edit, {SIZE}x{SIZE}, {len(edits)} instructions")
    for model in EDIT_MODELS:
        runs = [timed(local.edit, model, sources[s], i, seed=k) for k, (s, i) in enumerate(edits)]
        report(model, runs)


if __name__ == "__main__":
    main()
