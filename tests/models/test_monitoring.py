"""Monitoring maths on known inputs, and the checks' verdicts on frames that do and do not drift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest

from models import monitoring as M
from models import scoring


def test_psi_on_known_shares() -> None:
    # PSI = sum (a - e) ln(a / e)
    expected, actual = [0.5, 0.5], [0.25, 0.75]
    manual = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert M.psi_from_shares(expected, actual) == pytest.approx(manual)
    assert M.psi_from_shares([0.2] * 5, [0.2] * 5) == 0.0
    # an empty bin is floored, not infinite
    assert math.isfinite(M.psi_from_shares([0.5, 0.5], [1.0, 0.0]))
    assert M.psi_from_shares([0.5, 0.5], [1.0, 0.0]) == pytest.approx(
        0.5 * math.log(1.0 / 0.5) + (M.PSI_FLOOR - 0.5) * math.log(M.PSI_FLOOR / 0.5)
    )


def test_reference_bins_are_training_deciles_right_closed_with_a_missing_bin() -> None:
    values = np.arange(1, 101, dtype=float)  # 1..100
    ref = M.reference_bins(values)
    assert ref["edges"] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    assert ref["shares"] == pytest.approx([0.1] * 10 + [0.0])
    counts = M.reference_bins(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 5, np.nan], dtype=float))
    assert counts["edges"] == [0.0, 1.0, 2.0]  # ties collapse bins; edges are values that occur
    assert counts["shares"] == pytest.approx([6 / 11, 2 / 11, 1 / 11, 1 / 11, 1 / 11])
    # a value equal to an edge falls in the bin the edge closes
    assert M._shares(np.array([1.0]), np.array([1.0, 2.0])).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_psi_of_same_and_shifted_distributions() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=20_000)
    assert M.psi(base, rng.normal(size=20_000)) < 0.01
    assert M.psi(base, rng.normal(0.3, 1, size=20_000)) == pytest.approx(0.09, abs=0.03)
    assert M.psi(base, rng.normal(1.0, 1, size=20_000)) > M.PSI_DRIFT
    assert M.psi_categorical(list("AABBC"), list("AABBC")) == 0.0
    assert M.psi_categorical(list("AAAAB"), list("BBBBA")) > M.PSI_DRIFT


def _reference() -> dict:
    return scoring.read_metadata(scoring.resolve_model_dir())["monitoring_reference"]


def _loans(n: int, seed: int, shift: float = 0.0, miscalibrate: float = 1.0) -> pd.DataFrame:
    from models import bureau

    frame = bureau.sample_borrowers(n, seed=seed).to_pandas()
    if shift:
        frame["amount_cents"] = (frame["amount_cents"] * (1 + shift)).astype("int64")
        frame["inq_last_6mths"] = frame["inq_last_6mths"] + 2
    scored = scoring.load_scorer().score_batch(frame)
    rng = np.random.default_rng(seed + 1_000)  # not the sampler's stream: its draws would correlate with rows
    p = np.clip(scored["probability_of_default"].to_numpy() * miscalibrate, 0, 1)
    scored["defaulted"] = (rng.random(n) < p).astype("float64")
    scored.loc[scored.index[: n // 10], "defaulted"] = np.nan  # some loans have no outcome yet
    scored["vintage_month"] = np.where(np.arange(n) % 2 == 0, "2026-01", "2026-02")
    return scored


def test_monitor_passes_on_loans_like_training() -> None:
    report = M.monitor(_loans(6_000, seed=1), _reference())
    assert report.drifted == []
    assert report.calibration_breaks == []
    assert report.rows == 6_000 and report.rows_with_outcome == 5_400
    assert report.auc_by_vintage is not None and report.auc_by_vintage["auc"].between(0.55, 0.8).all()
    assert set(report.psi["input"]) >= {"amount_cents", "revol_util", M.SCORE_COLUMN}
    assert report.to_dict()["calibration"][0]["grade"] == "A"


def test_monitor_flags_drift_and_calibration_breaks() -> None:
    report = M.monitor(_loans(6_000, seed=2, shift=0.8, miscalibrate=2.5), _reference())
    assert {"amount_cents", "inq_last_6mths"} <= set(report.drifted)
    assert report.calibration_breaks  # realised default far above predicted


def test_calibration_interval_is_binomial_99_bonferroni_over_grades() -> None:
    n = 200
    frame = pd.DataFrame({"grade": ["C"] * n, M.SCORE_COLUMN: [0.05] * n, "defaulted": [1.0] * 10 + [0.0] * (n - 10)})
    row = M.calibration_by_grade(frame).set_index("grade").loc["C"]
    # Binomial(200, 0.05), central interval at 1 - 0.01 / 7
    assert (row["interval_low"], row["interval_high"]) == (2, 21)
    assert not row["calibration_break"]
    frame.loc[:21, "defaulted"] = 1.0  # 22 defaults: above the interval
    assert M.calibration_by_grade(frame).set_index("grade").loc["C", "calibration_break"]
    frame["defaulted"] = 0.0  # 0 defaults where 10 were expected: below it
    assert M.calibration_by_grade(frame).set_index("grade").loc["C", "calibration_break"]
    small = M.calibration_by_grade(frame.head(M.MIN_LOANS_FOR_CALIBRATION - 1)).set_index("grade").loc["C"]
    assert not small["enough_loans"] and not small["calibration_break"]


def test_missing_columns_mean_not_enough_outcomes_yet() -> None:
    mart = pl.DataFrame(
        {"loan_id": [1, 2], "grade": ["C", "D"], "status": ["active", "listed"], "amount_cents": [1, 2]}
    )
    report = M.monitor(M.prepare_loans(mart), _reference())
    assert any(note.startswith(M.NOT_ENOUGH_OUTCOMES) for note in report.notes)
    assert report.drifted == [] and report.calibration_breaks == []
    assert M.SCORE_COLUMN in report.missing_columns
    statuses = pd.DataFrame(
        {
            "status": ["charged_off", "late", "late_31_120", "active", "current", "grace", "repaid"]
            + ["late_16_30", "listed"],
            "disbursed_at": pd.to_datetime(["2026-01-05"] * 9),
        }
    )
    prepared = M.prepare_loans(statuses)
    assert prepared["defaulted"].tolist()[:7] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert prepared["defaulted"].iloc[7:].isna().all()  # 16-30 days late straddles the label; listed: no outcome
    assert prepared["vintage_month"].unique().tolist() == ["2026-01"]


def test_stored_bins_give_the_same_psi_as_the_values() -> None:
    """What the API stores per loan (a bin per input) measures exactly what the values would: same bins, same
    PSI, missing values in the missing bin."""
    rng = np.random.default_rng(3)
    training = rng.lognormal(10, 0.5, 5_000)
    current = np.append(rng.lognormal(10.3, 0.6, 800), [np.nan] * 40)
    reference = {"inputs": {"income": M.reference_bins(training)}, "score": M.reference_bins(training)}
    bins = [M.input_bins(reference, {"income": v})["income"] for v in current]
    counts = pd.Series(bins).value_counts().to_dict()
    rows, from_bins = M.psi_from_bin_counts(reference["inputs"]["income"], counts)
    assert rows == len(current)
    assert from_bins == pytest.approx(M.psi_against(reference["inputs"]["income"], current), abs=1e-12)
    assert max(bins) == len(reference["inputs"]["income"]["edges"]) + 1  # the missing bin is last
    table = M.psi_table(pd.DataFrame({"other": [1]}), reference, {"income": counts})
    measured = table.set_index("input").loc["income"]
    assert measured["rows"] == len(current) and measured["psi"] == pytest.approx(from_bins)
    assert measured["status"] in ("watch", "drift")  # the shifted population is seen
    with pytest.raises(ValueError, match="outside the reference"):
        M.psi_from_bin_counts(reference["inputs"]["income"], {99: 1})


def test_the_scorer_bins_an_application_under_its_own_reference() -> None:
    from models.application import LoanApplication

    scorer = scoring.load_scorer()
    reference = scorer.metadata["monitoring_reference"]["inputs"]
    app = LoanApplication(
        amount_cents=500_000,
        term_months=36,
        purpose="debt_consolidation",
        annual_income_cents=None,
        employment_length_years=3,
        home_ownership=None,
        bureau=None,
    )
    bins = scorer.input_bins(app)
    assert set(bins) == set(reference)  # every input, the bureau's too
    assert bins["annual_income_cents"] == len(reference["annual_income_cents"]["edges"]) + 1  # unknown: missing
    term_edges = reference["term_months"]["edges"]
    assert bins["term_months"] == int(np.searchsorted(term_edges, 36, side="left"))


def test_bin_counts_sum_applications_per_input_and_bin() -> None:
    rows = pd.DataFrame(
        {
            "input_name": ["dti", "dti", "dti", "fico"],
            "bin_index": [0, 0, 3, 9],
            "applications_count": [2, 5, 1, 4],
        }
    )
    assert M.bin_counts(rows) == {"dti": {0: 7, 3: 1}, "fico": {9: 4}}
    assert M.bin_counts(rows.iloc[0:0]) == {}
