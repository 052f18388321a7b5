"""Net annualized return and XIRR (api/reports/returns.py), with figures worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from api.reports.returns import NoteMonth, net_annualized_return, xirr


def test_nar_of_a_performing_note() -> None:
    """A $1,000 note earning 0.5 % a month after a 1 % servicing fee on a $10 payment:
    net 5.00 - 0.10 = 4.90 on 1,000.00 -> (1.0049)^12 - 1 = 6.0442 %."""
    months = [NoteMonth(100_000, interest_cents=500, servicing_fees_cents=10)]
    assert net_annualized_return(months) == Decimal("0.0604")


def test_nar_counts_charged_off_principal_as_a_loss() -> None:
    """Two notes for a month: one earns 5.00, the other is charged off with 100.00 left:
    (5 - 100) / (1,000 + 100) = -8.64 % a month -> (0.91364)^12 - 1 = -66.17 %."""
    months = [NoteMonth(100_000, interest_cents=500), NoteMonth(10_000, charged_off_cents=10_000)]
    assert net_annualized_return(months) == Decimal("-0.6617")


def test_nar_is_undefined_without_principal() -> None:
    assert net_annualized_return([]) is None


def test_xirr_of_a_one_year_note() -> None:
    """100.00 out, 106.00 back a year later: 6 %."""
    assert xirr([(date(2025, 1, 1), -10_000), (date(2026, 1, 1), 10_600)]) == Decimal("0.0600")
    assert xirr([(date(2025, 1, 1), -10_000)]) is None
