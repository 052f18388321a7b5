"""Amortization schedules for fixed-rate, fully amortizing monthly loans.

Rounding rules (exact: the maths is done in rationals, so a half cent is really a half cent):
- The level monthly payment is P * r / (1 - (1 + r)^-n) with r = annual rate / 12, rounded half up
  to the cent.
- Each installment's interest is the balance before it times r, rounded half up to the cent; its
  principal is the payment minus that interest.
- The last installment pays exactly the remaining balance plus its interest, so the principal of
  the schedule sums to the loan amount to the cent (its payment may differ by a few cents).
Installment k falls due k months after disbursement, on the same day of the month, clamped to the
month's end (a loan disbursed on 31 January is due 28 February, 31 March, 30 April, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

from dateutil.relativedelta import relativedelta

from api.kit.money import round_half_up

MONTHS_PER_YEAR = 12
BPS_PER_UNIT = 10_000


@dataclass(frozen=True, slots=True)
class PlannedInstallment:
    number: int
    due_date: date
    payment_cents: int
    principal_cents: int
    interest_cents: int
    balance_after_cents: int


def monthly_rate(rate_bps: int) -> Fraction:
    return Fraction(rate_bps, BPS_PER_UNIT * MONTHS_PER_YEAR)


def monthly_payment_cents(amount_cents: int, rate_bps: int, term_months: int) -> int:
    if amount_cents <= 0 or term_months <= 0 or rate_bps < 0:
        raise ValueError("amount and term must be positive and the rate not negative")
    r = monthly_rate(rate_bps)
    if r == 0:
        return round_half_up(Fraction(amount_cents, term_months))
    growth = (1 + r) ** term_months
    return round_half_up(amount_cents * r * growth / (growth - 1))


def amortize(amount_cents: int, rate_bps: int, term_months: int, disbursed_on: date) -> list[PlannedInstallment]:
    payment = monthly_payment_cents(amount_cents, rate_bps, term_months)
    r = monthly_rate(rate_bps)
    balance = amount_cents
    rows: list[PlannedInstallment] = []
    for number in range(1, term_months + 1):
        interest = round_half_up(balance * r)
        principal = balance if number == term_months else min(payment - interest, balance)
        balance -= principal
        rows.append(
            PlannedInstallment(
                number=number,
                due_date=disbursed_on + relativedelta(months=number),
                payment_cents=principal + interest,
                principal_cents=principal,
                interest_cents=interest,
                balance_after_cents=balance,
            )
        )
    return rows


def installment_state(due_cents: int, paid_cents: int) -> Literal["paid", "partial", "due"]:
    """The one rule for an installment's payment state: paid when everything due is paid, partial
    when some of it is, due otherwise."""
    if paid_cents >= due_cents:
        return "paid"
    return "partial" if paid_cents > 0 else "due"


def is_past_due(due_date: date, as_of: date, due_cents: int, paid_cents: int) -> bool:
    """Late from the day after the due date: paying on the due date itself is on time."""
    return due_date < as_of and paid_cents < due_cents


def outstanding_principal(principal_and_paid: Iterable[tuple[int, int]]) -> int:
    """Principal still owed: scheduled principal less principal paid, over the loan's installments."""
    return sum(principal - paid for principal, paid in principal_and_paid)
