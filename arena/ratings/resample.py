"""Exact multinomial resampling of a count table, fast enough for 100 rounds of 12,000 cells.

numpy's Generator.multinomial draws one binomial per cell, which for a 64-model table costs
more than the whole fit. Instead each round draws independent Poisson counts with total mean
slightly below the number of votes N, then tops up to exactly N with categorical draws.
Given its total T, a Poisson vector is Multinomial(T, p), and adding an independent
Multinomial(N - T, p) gives Multinomial(N, p) whatever T was; rounds whose T overshoots N
are redrawn, which only conditions on T. The result is exactly multinomial.
"""

from __future__ import annotations

import numpy as np

# The Poisson total is aimed this many standard deviations below N: overshoots (redrawn)
# are then rare and the categorical top-up is small.
POISSON_MARGIN_SD = 2.0


def multinomial_rounds(counts: np.ndarray, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """`rounds` draws of Multinomial(counts.sum(), counts / counts.sum()), shape (rounds, k)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    cells = counts.size
    if total == 0:
        return np.zeros((rounds, cells), dtype=np.int64)
    poisson_total = max(total - POISSON_MARGIN_SD * np.sqrt(total), 0.0)
    mean = counts * (poisson_total / total)
    draws = rng.poisson(mean, size=(rounds, cells))
    while (overshoot := draws.sum(axis=1) > total).any():
        draws[overshoot] = rng.poisson(mean, size=(int(overshoot.sum()), cells))
    missing = total - draws.sum(axis=1)
    # Categorical top-up with exact integer probabilities counts / total.
    picks = np.searchsorted(np.cumsum(counts), rng.integers(0, total, missing.sum()), "right")
    owner = np.repeat(np.arange(rounds), missing)
    draws += np.bincount(owner * cells + picks, minlength=rounds * cells).reshape(rounds, cells)
    return draws
