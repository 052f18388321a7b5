"""Investor returns, as pure functions (the API and the warehouse compute them with the same formulas).

**Net annualized return (NAR)**, LendingClub's definition, with charged-off principal counted as a loss:

    NAR = (1 + sum_m(interest_m + late_fees_m + recoveries_m - servicing_fees_m - charged_off_m)
               / sum_m(principal_outstanding_m)) ** 12 - 1

over every note and every month m it was outstanding, where principal_outstanding_m is the note's principal
at the start of month m. It is a monthly yield on the money actually at work, compounded to a year.

**XIRR** is the internal rate of return of the dated cash flows themselves (money out on purchase, money
back on every distribution), computed by `pyxirr`; it credits timing exactly and needs at least one flow
in each direction.

Both are returned as `Decimal` fractions (0.0712 = 7.12 %), rounded half up to 4 decimals (basis points of
a percent) for display; nothing here is money that moves, so the float inside pyxirr is acceptable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pyxirr

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class NoteMonth:
    """One note in one month: its principal at the start of the month and what the month brought."""

    principal_outstanding_cents: int
    interest_cents: int = 0
    late_fees_cents: int = 0
    recoveries_cents: int = 0
    servicing_fees_cents: int = 0
    charged_off_cents: int = 0

    @property
    def net_cents(self) -> int:
        return (
            self.interest_cents
            + self.late_fees_cents
            + self.recoveries_cents
            - self.servicing_fees_cents
            - self.charged_off_cents
        )


def net_annualized_return(months: Iterable[NoteMonth]) -> Decimal | None:
    """None when no principal was ever outstanding (nothing to measure)."""
    rows = list(months)
    base = sum(r.principal_outstanding_cents for r in rows)
    if base <= 0:
        return None
    monthly = Fraction(sum(r.net_cents for r in rows), base)
    if monthly <= -1:
        return Decimal(-1)
    annual = (1 + monthly) ** 12 - 1
    return (Decimal(annual.numerator) / Decimal(annual.denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def xirr(flows: Iterable[tuple[date, int]]) -> Decimal | None:
    """Annual IRR of dated flows in cents (negative = paid by the investor); None when undefined."""
    dated = [(d, c) for d, c in flows if c != 0]
    if not any(c < 0 for _, c in dated) or not any(c > 0 for _, c in dated):
        return None
    try:
        rate = pyxirr.xirr([d for d, _ in dated], [c / 100 for _, c in dated])
    except (pyxirr.InvalidPaymentsError, ValueError):
        return None
    if rate is None or rate != rate:  # NaN: no solution
        return None
    return Decimal(str(rate)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
