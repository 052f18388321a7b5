"""The records the credit-risk model reads and returns: :class:`BureauFile`, :class:`LoanApplication` and
:class:`Score`.

They live in a module of their own, importing nothing else from ``models``, so that the feature module, the
bureau sandbox and the serving interface can all import them without import cycles.

Money is integer cents, percentages are :class:`~decimal.Decimal`, counts are ints; ``None`` means "not
known" (a bureau attribute the bureau does not report, a profile field not filled in yet).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Final

HOME_OWNERSHIP_VALUES: Final = ("rent", "own", "mortgage")
MAX_TERM_MONTHS: Final = 600
MAX_RATE_BPS: Final = 10_000


@dataclass(frozen=True, kw_only=True)
class BureauFile:
    """A consumer's credit-bureau attributes at application time, as LendingClub recorded them (field names
    follow LendingClub's data dictionary; money fields carry a ``_cents`` suffix because the platform keeps
    money in integer cents)."""

    report_id: str  # the bureau's reference for this pull (the sandbox: which LendingClub row it drew)
    revol_util: Decimal | None  # revolving balance / revolving credit limit, percent
    all_util: Decimal | None  # balance / credit limit over all trades, percent
    inq_last_6mths: int | None  # credit inquiries in the last 6 months (excluding auto and mortgage)
    inq_last_12m: int | None  # credit inquiries in the last 12 months
    inq_fi: int | None  # personal-finance inquiries
    open_il_6m: int | None  # currently active installment trades (LendingClub's name, not "opened in 6m")
    open_il_12m: int | None  # installment accounts opened in the last 12 months
    open_il_24m: int | None  # installment accounts opened in the last 24 months
    num_il_tl: int | None  # installment trades on file
    total_bal_il_cents: int | None  # current balance of all installment accounts
    total_il_high_credit_limit_cents: int | None  # total high credit / credit limit of installment accounts
    delinq_2yrs: int | None  # 30+ days past-due incidences in the last 2 years
    acc_now_delinq: int | None  # accounts now delinquent
    delinq_amnt_cents: int | None  # past-due amount owed on the accounts now delinquent

    def __post_init__(self) -> None:
        if not isinstance(self.report_id, str) or not self.report_id:
            raise ValueError("report_id must be a non-empty string")
        for name in PERCENT_FIELDS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value < 0):
                raise ValueError(f"{name} must be a finite, non-negative Decimal or None")
        for name in COUNT_FIELDS + MONEY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                require_int(name, value, minimum=0)


#: BureauFile's attributes, in order, without report_id: the bureau columns of the application frame.
BUREAU_FIELDS: Final = tuple(f.name for f in fields(BureauFile) if f.name != "report_id")
PERCENT_FIELDS: Final = ("revol_util", "all_util")
MONEY_FIELDS: Final = ("total_bal_il_cents", "total_il_high_credit_limit_cents", "delinq_amnt_cents")
COUNT_FIELDS: Final = tuple(name for name in BUREAU_FIELDS if name not in PERCENT_FIELDS + MONEY_FIELDS)


@dataclass(frozen=True, kw_only=True)
class LoanApplication:
    """What is known about a loan request when it is scored: what the borrower declared and, when pulled,
    their bureau file. Money in integer cents.

    ``interest_rate_bps`` is accepted for compatibility and ignored: pricing follows the grade, so the rate
    cannot be an input of the grade (and LendingClub's rate encodes LendingClub's own grade)."""

    amount_cents: int
    term_months: int
    purpose: str
    annual_income_cents: int | None = None
    employment_length_years: int | None = None
    home_ownership: str | None = None  # "rent" / "own" / "mortgage"
    debt_to_income_pct: Decimal | None = None  # Decimal("17.5") = 17.5 %
    bureau: BureauFile | None = None
    interest_rate_bps: int | None = None  # ignored by the model

    def __post_init__(self) -> None:
        require_int("amount_cents", self.amount_cents, minimum=1)
        require_int("term_months", self.term_months, minimum=1, maximum=MAX_TERM_MONTHS)
        if self.interest_rate_bps is not None:
            require_int("interest_rate_bps", self.interest_rate_bps, minimum=0, maximum=MAX_RATE_BPS)
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            raise ValueError("purpose must be a non-empty string")
        if self.annual_income_cents is not None:
            require_int("annual_income_cents", self.annual_income_cents, minimum=0)
        if self.employment_length_years is not None:
            require_int("employment_length_years", self.employment_length_years, minimum=0, maximum=80)
        if self.home_ownership is not None and self.home_ownership not in HOME_OWNERSHIP_VALUES:
            raise ValueError(f"home_ownership must be one of {HOME_OWNERSHIP_VALUES} or None")
        if self.debt_to_income_pct is not None:
            dti = self.debt_to_income_pct
            if not isinstance(dti, Decimal) or not dti.is_finite() or dti < 0:
                raise ValueError("debt_to_income_pct must be a finite, non-negative Decimal or None")
        if self.bureau is not None and not isinstance(self.bureau, BureauFile):
            raise TypeError("bureau must be a BureauFile or None")


@dataclass(frozen=True)
class Score:
    grade: str  # one letter, A (safest) .. G; see models.grades
    probability_of_default: float  # calibrated, in (0, 1)
    reasons: tuple[str, ...]  # the factors that raised the risk most, largest first; never empty
    model_version: str


def require_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} out of range [{minimum}, {maximum if maximum is not None else '...'}]: {value}")
