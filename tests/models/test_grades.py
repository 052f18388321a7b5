"""Grades: one table of PD bounds, every grade used on the training population, default rising with grade."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from models import grades, scoring
from models.evaluation import grade_trend
from models.grades import GRADE_PD_BOUNDS, GRADE_UPPER_BOUNDS, GRADES, grade_for_probability, grades_for_probabilities


def metadata() -> dict:
    return json.loads((scoring.resolve_model_dir() / scoring.METADATA_FILE).read_text())


def test_bounds_are_one_table_and_re_exported() -> None:
    assert GRADES == ("A", "B", "C", "D", "E", "F", "G")
    bounds = [b for _, b in GRADE_UPPER_BOUNDS]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds) and 0 < bounds[0] and bounds[-1] < 1
    assert [g for g, _ in GRADE_UPPER_BOUNDS] == list(GRADES[:-1])
    assert GRADE_PD_BOUNDS["A"][0] == 0.0 and GRADE_PD_BOUNDS["G"][1] == 1.0
    for lower, upper in zip(GRADES, GRADES[1:], strict=False):
        assert GRADE_PD_BOUNDS[lower][1] == GRADE_PD_BOUNDS[upper][0]
    assert scoring.GRADES is grades.GRADES and scoring.grade_for_probability is grades.grade_for_probability
    assert metadata()["grade_upper_bounds"] == [list(b) for b in GRADE_UPPER_BOUNDS]  # stored in the artifact


def test_mapping_is_monotone_and_bounds_are_exclusive() -> None:
    grid = np.linspace(0, 1, 10_001)
    indices = [GRADES.index(grade_for_probability(float(p))) for p in grid]
    assert indices == sorted(indices)
    assert list(grades_for_probabilities(grid)) == [GRADES[i] for i in indices]
    for grade, bound in GRADE_UPPER_BOUNDS:
        assert grade_for_probability(bound) != grade
        assert grade_for_probability(np.nextafter(bound, 0)) == grade
    for bad in (float("nan"), 1.5, -0.1):
        try:
            grade_for_probability(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


@given(st.floats(0, 1), st.floats(0, 1))
def test_grade_is_monotone_in_probability(p: float, q: float) -> None:
    low, high = sorted((p, q))
    assert GRADES.index(grade_for_probability(low)) <= GRADES.index(grade_for_probability(high))


def test_every_grade_is_used_on_the_training_population() -> None:
    shares = metadata()["grades"]["training_population_share"]
    assert set(shares) == set(GRADES)
    assert min(shares.values()) >= 0.05, shares


def _observed(scorer: scoring.CreditScorer, held_out: object) -> list[dict]:
    from models import evaluation
    from models import features as F

    p = scorer.predict_features(F.frame_features(held_out.applications))  # type: ignore[attr-defined]
    return evaluation.by_grade(held_out.defaulted.to_numpy(), p)  # type: ignore[attr-defined]


def test_observed_default_rises_with_grade_on_held_out(scorer: scoring.CreditScorer, held_out: object) -> None:
    """Recomputed from the committed model on the held-out rows. 129 defaults over 7 grades leave ~20 per grade,
    so adjacent grades may swap by chance; the test asserts what the sample can show: a strong rising trend
    (Cochran-Armitage), the safest and riskiest grades far apart, and no adjacent reversal that is
    statistically significant (one-sided two-proportion test at 5 %). The strict monotonicity of every grade is
    asserted on the 7,392 training rows' out-of-fold predictions, below."""
    rows = _observed(scorer, held_out)
    assert all(r["rows"] >= 50 for r in rows)  # every grade is used on held-out too
    trend = grade_trend(rows)
    assert trend["cochran_armitage_p_one_sided"] < 1e-4
    assert rows[-1]["observed_rate"] > 3 * rows[0]["observed_rate"]
    rates = [r["observed_rate"] for r in rows]
    assert rates[-1] == max(rates) or rates[-2] == max(rates)
    for a, b in zip(rows, rows[1:], strict=False):
        if b["observed_rate"] < a["observed_rate"]:
            table = [[a["defaults"], a["rows"] - a["defaults"]], [b["defaults"], b["rows"] - b["defaults"]]]
            p_value = stats.fisher_exact(table, alternative="greater").pvalue
            assert p_value > 0.05, f"{a['grade']} defaults significantly more than {b['grade']}"
    assert trend == metadata()["metrics"]["held_out_grade_trend"]


def test_observed_default_rises_strictly_with_grade_out_of_fold_on_training() -> None:
    oof = metadata()["metrics"]["training_out_of_fold"]
    rates = [r["observed_rate"] for r in oof["by_grade"]]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False)), rates
    assert oof["grade_trend"]["strictly_increasing"]
