"""One feature module for training, evaluation and serving: equal inputs give equal features, whatever the
shape they arrive in, and nothing LendingClub decided or learnt after origination gets in."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pandas.testing as pdt
import polars as pl
import pytest

from models import data as D
from models import features as F
from models.application import BUREAU_FIELDS, BureauFile, LoanApplication

BUREAU = BureauFile(
    report_id="test",
    revol_util=Decimal("67.4"),
    all_util=Decimal("48"),
    inq_last_6mths=0,
    inq_last_12m=3,
    inq_fi=0,
    open_il_6m=1,
    open_il_12m=0,
    open_il_24m=0,
    num_il_tl=3,
    total_bal_il_cents=109_900,
    total_il_high_credit_limit_cents=1_319_300,
    delinq_2yrs=0,
    acc_now_delinq=0,
    delinq_amnt_cents=0,
)


def modeldata_row(**overrides: object) -> pd.DataFrame:
    row = {
        "rownames": 1,
        "funded_amnt": 16100,
        "term": "term_36",
        "int_rate": 13.99,
        "sub_grade": "C4",
        "addr_state": "CT",
        "verification_status": "Not_Verified",
        "annual_inc": 35000.0,
        "emp_length": "emp_5",
        "delinq_2yrs": 0,
        "inq_last_6mths": 0,
        "revol_util": 67.4,
        "acc_now_delinq": 0,
        "open_il_6m": 1,
        "open_il_12m": 0,
        "open_il_24m": 0,
        "total_bal_il": 1099,
        "all_util": 48,
        "inq_fi": 0,
        "inq_last_12m": 3,
        "delinq_amnt": 0,
        "num_il_tl": 3,
        "total_il_high_credit_limit": 13193,
        "Class": "good",
    }
    row.update(overrides)
    return pd.DataFrame([row]).set_index("rownames")


APP = LoanApplication(
    amount_cents=1_610_000,
    term_months=36,
    purpose="debt_consolidation",
    annual_income_cents=3_500_000,
    employment_length_years=5,
    bureau=BUREAU,
)


def test_training_row_and_serving_application_give_identical_features() -> None:
    training = F.frame_features(F.lending_club_to_frame(modeldata_row()))
    serving = F.application_features(APP)
    via_frame = F.frame_features(F.applications_to_frame([APP]))
    via_polars = F.frame_features(pl.from_pandas(F.applications_to_frame([APP]).astype({"debt_to_income_pct": float})))
    np.testing.assert_array_equal(training, serving)
    np.testing.assert_array_equal(training, via_frame)
    np.testing.assert_array_equal(training, via_polars)
    assert training.shape == (1, len(F.MODEL_FEATURES)) and training.dtype == np.float64


def test_application_frame_has_one_typing_whatever_the_source() -> None:
    from_row = F.lending_club_to_frame(modeldata_row()).reset_index(drop=True)
    from_app = F.applications_to_frame([dataclasses.replace(APP, purpose="x")])
    from_app["purpose"] = None  # modeldata records no purpose
    pdt.assert_frame_equal(from_row, from_app)
    assert list(from_row.columns) == list(F.APPLICATION_COLUMNS)


def test_whole_training_set_matches_the_serving_path(split: tuple[D.Dataset, D.Dataset]) -> None:
    """Every 97th training row rebuilt as a LoanApplication gives the training features bit for bit."""
    train = split[0]
    batch = F.frame_features(train.applications)
    for i in range(0, len(train), 97):
        row = train.applications.iloc[i]
        bureau = BureauFile(report_id="x", **{name: _value(row[name]) for name in BUREAU_FIELDS})
        app = LoanApplication(
            amount_cents=int(row["amount_cents"]),
            term_months=int(row["term_months"]),
            purpose="other",
            annual_income_cents=_value(row["annual_income_cents"]),
            employment_length_years=_value(row["employment_length_years"]),
            bureau=bureau,
        )
        np.testing.assert_array_equal(F.application_features(app)[0], batch[i])


def _value(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    return v if isinstance(v, Decimal) else int(v)  # type: ignore[call-overload]


def test_unknown_values_stay_missing_for_the_model_to_fill() -> None:
    app = LoanApplication(amount_cents=500_000, term_months=36, purpose="car")
    feats = dict(zip(F.MODEL_FEATURES, F.application_features(app)[0], strict=True))
    assert feats["log_amount"] == pytest.approx(np.log(5_000)) and feats["term_months"] == 36
    assert np.isnan(feats["log_annual_income"]) and np.isnan(feats["employment_length_years"])
    assert all(np.isnan(feats[name]) for name in F.BUREAU_FEATURES)
    unknown = F.frame_features(F.lending_club_to_frame(modeldata_row(emp_length="emp_unk")))[0]
    assert np.isnan(unknown[F.MODEL_FEATURES.index("employment_length_years")])


def test_inputs_are_clipped_to_the_training_range() -> None:
    app = LoanApplication(
        amount_cents=10**12, term_months=600, purpose="x", annual_income_cents=0, employment_length_years=80
    )
    feats = dict(zip(F.MODEL_FEATURES, F.application_features(app)[0], strict=True))
    assert feats["log_amount"] == pytest.approx(np.log(40_000))
    assert feats["term_months"] == 60
    assert feats["log_annual_income"] == pytest.approx(np.log(5_000))
    assert feats["employment_length_years"] == 10


def test_no_leakage_columns_are_used() -> None:
    """The model reads neither LendingClub's grade, sub-grade or rate nor anything recorded after origination."""
    forbidden = {"int_rate", "interest_rate", "interest_rate_bps", "sub_grade", "grade", "installment"}
    forbidden |= {"loan_status", "balance", "Class", "paid_total", "paid_principal", "paid_interest", "paid_late_fees"}
    assert forbidden <= F.LEAKAGE_COLUMNS
    sources = {f.source for f in F.FEATURES}
    names = set(F.MODEL_FEATURES)
    assert not (sources | names) & F.LEAKAGE_COLUMNS
    assert not any(s.startswith("paid_") for s in sources | names)
    # the frames the features are computed from cannot even carry them
    assert not set(F.APPLICATION_COLUMNS) & F.LEAKAGE_COLUMNS
    assert not set(D.OPENINTRO_COLUMNS) & F.LEAKAGE_COLUMNS
    assert "interest_rate_bps" not in F.APPLICATION_COLUMNS


def test_feature_directions_and_unused_inputs_are_declared() -> None:
    assert len(set(F.MODEL_FEATURES)) == len(F.MODEL_FEATURES)
    assert set(F.SOURCE_COLUMNS) <= set(F.APPLICATION_COLUMNS)
    declared_unused = set(F.APPLICATION_COLUMNS) - set(F.SOURCE_COLUMNS)
    assert declared_unused <= set(F.UNUSED_INPUTS)  # every input the model ignores says why


def test_unknown_schema_and_frame_types_are_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        F.lending_club_to_frame(pd.DataFrame({"amount": [1]}))
    with pytest.raises(ValueError, match="lacks"):
        F.frame_features(pd.DataFrame({"amount_cents": [1]}))
    with pytest.raises(TypeError):
        F.frame_features([[1, 2]])
