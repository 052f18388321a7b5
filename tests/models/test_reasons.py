"""Reason selection on hand-made points: order, limits, the combined amount-vs-income story, missing data,
and never an empty list."""

from __future__ import annotations

import re

import numpy as np

from models import features as F
from models import reasons as R

K = len(F.MODEL_FEATURES)
MEDIANS = np.zeros(K)
HIGH = np.array([f.risk_direction >= 0 for f in F.FEATURES])


def idx(name: str) -> int:
    return F.MODEL_FEATURES.index(name)


def select_one(features: np.ndarray, points: np.ndarray) -> tuple[str, ...]:
    return R.select(R.slot_points(features[None, :], points[None, :], HIGH, MEDIANS))[0]


def test_largest_first_at_most_four_and_small_effects_dropped() -> None:
    x = np.ones(K)
    pts = np.zeros(K)
    for name, value in (
        ("inq_last_6mths", 0.4),
        ("all_util", 0.3),
        ("revol_util", 0.2),
        ("delinq_2yrs", 0.15),
        ("open_il_12m", 0.1),
        ("inq_fi", 0.01),
    ):
        pts[idx(name)] = value
    reasons = select_one(x, pts)
    assert reasons == (
        R.FEATURE_TEXT["inq_last_6mths"][0],
        R.FEATURE_TEXT["all_util"][0],
        R.FEATURE_TEXT["revol_util"][0],
        R.FEATURE_TEXT["delinq_2yrs"][0],
    )
    pts[:] = 0.0
    pts[idx("inq_fi")] = 0.01  # below MIN_POINTS, but the largest factor is always given
    assert select_one(x, pts) == (R.FEATURE_TEXT["inq_fi"][0],)


def test_never_empty() -> None:
    assert select_one(np.ones(K), np.zeros(K)) == (R.FALLBACK_REASON,)


def test_strong_phrase_only_on_the_risky_side_of_the_median() -> None:
    pts = np.zeros(K)
    pts[idx("revol_util")] = 0.3
    below = np.full(K, -1.0)  # below the median: the value cost points but is not "high"
    assert select_one(below, pts) == (R.FEATURE_TEXT["revol_util"][2],)
    assert select_one(np.ones(K), pts) == (R.FEATURE_TEXT["revol_util"][0],)


def test_amount_and_income_are_one_story() -> None:
    x = np.ones(K)
    x[idx("log_annual_income")] = -1.0  # below the median income, amount above the median
    pts = np.zeros(K)
    pts[idx("log_amount")] = 0.2
    pts[idx("log_annual_income")] = 0.2
    pts[idx("inq_fi")] = 0.3
    assert select_one(x, pts) == (R.AMOUNT_VS_INCOME, R.FEATURE_TEXT["inq_fi"][0])


def test_missing_inputs_become_missing_data_reasons() -> None:
    x = np.ones(K)
    x[[F.MODEL_FEATURES.index(name) for name in F.BUREAU_FEATURES]] = np.nan
    x[idx("log_annual_income")] = np.nan
    pts = np.full(K, 0.1)
    pts[idx("log_annual_income")] = 0.2
    reasons = select_one(x, pts)
    assert reasons[0] == R.BUREAU_MISSING and R.INCOME_MISSING in reasons
    assert not any(r in reasons for r in (R.FEATURE_TEXT["revol_util"][0], R.FEATURE_TEXT["revol_util"][2]))


def test_phrases_quote_no_figures() -> None:
    assert not any(re.search(r"\d", text) for text in R.SLOT_TEXTS + (R.FALLBACK_REASON,))
    assert set(R.FEATURE_TEXT) == set(F.MODEL_FEATURES)


def test_batch_selection_is_per_row() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, K))
    P = np.maximum(rng.normal(0.05, 0.1, size=(500, K)), 0)
    batch = R.select(R.slot_points(X, P, HIGH, MEDIANS))
    assert batch == [select_one(X[i], P[i]) for i in range(500)]


def test_unremarkable_amount_and_income_are_not_summed_into_one_story() -> None:
    x = np.full(K, -1.0)  # amount below the median: not "high relative to income"
    pts = np.zeros(K)
    pts[idx("log_amount")] = 0.2
    pts[idx("log_annual_income")] = 0.2
    pts[idx("inq_fi")] = 0.3
    reasons = select_one(x, pts)
    assert R.AMOUNT_VS_INCOME not in reasons
    assert reasons[0] == R.FEATURE_TEXT["inq_fi"][2]
    assert set(reasons[1:]) == {R.FEATURE_TEXT["log_amount"][2], R.FEATURE_TEXT["log_annual_income"][1]}
