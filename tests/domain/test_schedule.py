from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from api.payments.schedule import amortize, monthly_payment_cents


def test_seed_loan_schedule() -> None:
    rows = amortize(500_000, 600, 36, date(2025, 12, 31))
    assert rows[0].payment_cents == 15_211
    assert (rows[0].interest_cents, rows[0].principal_cents) == (2_500, 12_711)
    assert sum(r.principal_cents for r in rows) == 500_000
    assert rows[-1].balance_after_cents == 0


def test_due_dates_keep_the_disbursement_day_clamped_to_month_end() -> None:
    rows = amortize(500_000, 600, 6, date(2026, 1, 31))
    assert [r.due_date for r in rows] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]


def test_a_half_cent_of_interest_rounds_up_exactly() -> None:
    # 165,000 cents at 7.00 %: 165000 * 700 / 120000 = 962.5 cents exactly
    assert amortize(165_000, 700, 12, date(2026, 1, 1))[0].interest_cents == 963
    # 180,000 cents at 13.99 %: 180000 * 1399 / 120000 = 2098.5 cents exactly
    assert amortize(180_000, 1399, 12, date(2026, 1, 1))[0].interest_cents == 2099


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
