from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.schedule import amortize, monthly_payment_cents


def test_seed_loan_schedule() -> None:
    rows = amortize(500_000, 600, 36, date(2026, 1, 31))
    assert rows[0].payment_cents == 15_211
    assert (rows[0].interest_cents, rows[0].principal_cents) == (2_500, 12_711)
    assert sum(r.principal_cents for r in rows) == 500_000
    assert rows[-1].balance_after_cents == 0
    assert [r.due_date for r in rows[:3]] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


@settings(max_examples=200)
@given(
    amount=st.integers(min_value=100_000, max_value=4_000_000),
    rate=st.integers(min_value=1, max_value=3_600),
    term=st.integers(min_value=1, max_value=84),
)
def test_matches_numpy_financial_and_sums_exactly(amount: int, rate: int, term: int) -> None:
    expected = -npf.pmt(rate / 10_000 / 12, term, amount)
    assert abs(monthly_payment_cents(amount, rate, term) - expected) <= 0.5 + 1e-6
    rows = amortize(amount, rate, term, date(2026, 1, 15))
    assert sum(r.principal_cents for r in rows) == amount
    assert all(r.principal_cents >= 0 and r.interest_cents >= 0 for r in rows)
    assert rows[-1].balance_after_cents == 0
    regular = monthly_payment_cents(amount, rate, term)
    # The last installment absorbs the rounding: the payment and the interest each round by at most
    # half a cent a month, and that drift compounds.
    r = rate / 10_000 / 12
    bound = ((1 + r) ** term - 1) / r + 1
    assert abs(rows[-1].payment_cents - regular) <= bound
    for row in rows[:-1]:
        assert row.payment_cents == regular or row.principal_cents == 0


def test_interest_matches_numpy_financial_ipmt() -> None:
    rows = amortize(500_000, 600, 36, date(2026, 1, 1))
    for period in (1, 12, 36):
        expected = -npf.ipmt(Decimal("0.005"), period, 36, Decimal(500_000))
        assert abs(rows[period - 1].interest_cents - float(expected)) < 3
