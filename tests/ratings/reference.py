"""The public notebooks' way: logistic regression on raw votes, one-hot design, L-BFGS.

Used to check the engine's optimum and, in `make bench`, as the speed baseline. Ties are
soft labels of 1/2, which is what the notebooks' "duplicate every battle, count a tie as one
win each way" amounts to. The design matrix is sparse (two non-zeros a row): a dense one
for a million votes would take a gigabyte and change nothing else.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

from arena.ratings.engine import ELO_PER_LOGIT, LEFT_SCORE, MEAN_RATING


def logistic_fit(
    left: np.ndarray,
    right: np.ndarray,
    outcome: np.ndarray,
    models: int,
    *,
    left_term: bool,
    prior_precision: float = 0.0,
) -> tuple[np.ndarray, float]:
    """(Elo ratings with mean 1000, left-side advantage in Elo) by L-BFGS on raw votes."""
    votes = np.arange(len(left))
    columns = models + 1 if left_term else models
    entries = [(votes, left, 1.0), (votes, right, -1.0)]
    if left_term:
        entries.append((votes, np.full(len(left), models), 1.0))
    design = sparse.csr_matrix(
        (
            np.concatenate([np.full(len(votes), value) for _, _, value in entries]),
            (
                np.concatenate([rows for rows, _, _ in entries]),
                np.concatenate([cols for _, cols, _ in entries]),
            ),
        ),
        shape=(len(left), columns),
    )
    label = LEFT_SCORE[outcome]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        logit = design @ w
        value = np.sum(np.logaddexp(0.0, logit) - label * logit) + 0.5 * prior_precision * w @ w
        p = 0.5 * (1.0 + np.tanh(0.5 * logit))
        return value, design.T @ (p - label) + prior_precision * w

    result = optimize.minimize(
        loss, np.zeros(columns), jac=True, method="L-BFGS-B", options={"gtol": 1e-9, "ftol": 0}
    )
    strength = result.x[:models]
    rating = MEAN_RATING + ELO_PER_LOGIT * (strength - strength.mean())
    return rating, float(ELO_PER_LOGIT * result.x[models]) if left_term else 0.0
