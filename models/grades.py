"""Credit grades A-G and the probability-of-default bands that define them: the one place the platform reads
them (the scorer, the marketplace's rate card, the dashboards).

A grade is the first letter whose upper bound (exclusive) is above the probability of default; anything at or
above the last bound is "G". The bounds are absolute probabilities, not quantiles of one model's scores, so a
grade keeps its meaning across model versions: a new model may move a loan to another grade, but "C" always
means the same default risk. Every artifact records the bounds it was evaluated with, and the loader refuses
an artifact whose bounds differ from these (its per-grade tables would be stale).

How they were chosen (docs/credit_model.md): rounded quantiles of the training population's calibrated
probabilities at cumulative shares 10 / 25 / 45 / 65 / 80 / 92 %, so that every grade holds a sizeable part of
the training population. "Default" is the training label: charged off, defaulted or 21-120 days late at
LendingClub's data snapshot.
"""

from __future__ import annotations

import bisect
import math
from typing import Final

import numpy as np
import numpy.typing as npt

GRADES: Final[tuple[str, ...]] = ("A", "B", "C", "D", "E", "F", "G")

#: (grade, exclusive upper bound of its probability of default), for A..F; G is everything above.
GRADE_UPPER_BOUNDS: Final[tuple[tuple[str, float], ...]] = (
    ("A", 0.020),
    ("B", 0.028),
    ("C", 0.039),
    ("D", 0.055),
    ("E", 0.073),
    ("F", 0.104),
)

_UPPER: Final = tuple(bound for _, bound in GRADE_UPPER_BOUNDS)

#: grade -> (lower bound inclusive, upper bound exclusive; 1.0 inclusive for G).
GRADE_PD_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    grade: (lower, upper) for grade, lower, upper in zip(GRADES, (0.0, *_UPPER), (*_UPPER, 1.0), strict=True)
}


def grade_for_probability(probability_of_default: float) -> str:
    """The grade of one probability of default (monotone non-decreasing in it)."""
    if math.isnan(probability_of_default) or not 0.0 <= probability_of_default <= 1.0:
        raise ValueError(f"probability of default out of [0, 1]: {probability_of_default!r}")
    return GRADES[bisect.bisect_right(_UPPER, probability_of_default)]


def grade_indices(probabilities: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Vectorised: 0 for A .. 6 for G. Same rule as :func:`grade_for_probability`."""
    p = np.asarray(probabilities, dtype="float64")
    if p.size and (np.isnan(p).any() or p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("probabilities of default must lie in [0, 1]")
    return np.searchsorted(np.asarray(_UPPER), p, side="right")


def grades_for_probabilities(probabilities: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Vectorised :func:`grade_for_probability`: an array of grade letters."""
    return np.asarray(GRADES)[grade_indices(probabilities)]
