"""One feature function for training, evaluation and serving: equal inputs give equal features."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from models import features as F
from models.scoring import LoanApplication


def modeldata_row(**overrides: object) -> pd.DataFrame:
    row = {
        "rownames": 1,
        "funded_amnt": 16100,
        "term": "term_60",
        "int_rate": 13.99,
        "sub_grade": "C4",
        "annual_inc": 35000.0,
        "emp_length": "emp_3",
        "Class": "good",
    }
    row.update(overrides)
    return pd.DataFrame([row])


def test_application_and_modeldata_row_give_the_same_features() -> None:
    app = LoanApplication(
        amount_cents=1_610_000,
        term_months=60,
        interest_rate_bps=1_399,
        purpose="unknown",
        annual_income_cents=3_500_000,
        employment_length_years=3,
    )
    from_app = F.build_features(F.applications_to_frame([app]))
    from_row = F.build_features(F.lending_club_to_frame(modeldata_row()))
    pdt.assert_frame_equal(from_app, from_row)
    assert list(from_app.columns) == list(F.MODEL_FEATURES)
    assert from_app.dtypes.eq("float64").all()


def test_application_and_openintro_row_give_the_same_application_frame() -> None:
    row = pd.DataFrame(
        [
            {
                "loan_amount": 28000,
                "term": 60,
                "interest_rate": 14.07,
                "loan_purpose": "moving",
                "annual_income": 90000.0,
                "emp_length": 3.0,
                "homeownership": "MORTGAGE",
                "debt_to_income": 18.01,
            }
        ]
    )
    app = LoanApplication(
        amount_cents=2_800_000,
        term_months=60,
        interest_rate_bps=1_407,
        purpose="moving",
        annual_income_cents=9_000_000,
        employment_length_years=3,
        home_ownership="mortgage",
        debt_to_income_pct=Decimal("18.01"),
    )
    pdt.assert_frame_equal(F.applications_to_frame([app]), F.lending_club_to_frame(row))
    pdt.assert_frame_equal(
        F.build_features(F.applications_to_frame([app])), F.build_features(F.lending_club_to_frame(row))
    )


def test_unknown_borrower_fields_stay_missing_for_the_pipeline_to_impute() -> None:
    app = LoanApplication(amount_cents=500_000, term_months=36, interest_rate_bps=700, purpose="car")
    feats = F.build_features(F.applications_to_frame([app])).iloc[0]
    assert np.isnan(feats["log_annual_income"]) and np.isnan(feats["employment_length_years"])
    assert feats["log_amount"] == pytest.approx(np.log(5_000)) and feats["term_months"] == 36
    unknown_emp = F.build_features(F.lending_club_to_frame(modeldata_row(emp_length="emp_unk"))).iloc[0]
    assert np.isnan(unknown_emp["employment_length_years"])


def test_inputs_are_clipped_to_the_training_range() -> None:
    app = LoanApplication(
        amount_cents=10**12,
        term_months=600,
        interest_rate_bps=0,
        purpose="x",
        annual_income_cents=0,
        employment_length_years=80,
    )
    feats = F.build_features(F.applications_to_frame([app])).iloc[0]
    assert feats["log_amount"] == pytest.approx(np.log(F.AMOUNT_DOLLARS_BOUNDS[1]))
    assert feats["term_months"] == F.TERM_MONTHS_BOUNDS[1]
    assert feats["log_annual_income"] == pytest.approx(np.log(F.INCOME_DOLLARS_BOUNDS[0]))
    assert feats["employment_length_years"] == F.EMPLOYMENT_YEARS_BOUNDS[1]


def test_unknown_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        F.lending_club_to_frame(pd.DataFrame({"amount": [1]}))
