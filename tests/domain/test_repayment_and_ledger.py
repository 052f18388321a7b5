from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.ledger import postings as ledger
from api.payments.waterfall import InstallmentDue, PaymentExceedsBalance, apply_payment


def test_interest_first_then_principal_oldest_first() -> None:
    dues = [InstallmentDue(1, 12711, 2500), InstallmentDue(2, 12775, 2436)]
    applied = apply_payment(dues, 2000)
    assert (applied.interest_cents, applied.principal_cents) == (2000, 0)
    applied = apply_payment(dues, 15211 + 3000)
    assert [(p.number, p.interest_cents, p.principal_cents) for p in applied.parts] == [
        (1, 2500, 12711),
        (2, 2436, 564),
    ]


def test_overpayment_is_refused() -> None:
    with pytest.raises(PaymentExceedsBalance):
        apply_payment([InstallmentDue(1, 100, 10)], 111)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**5)), min_size=1, max_size=20), st.data())
def test_applied_parts_sum_to_the_payment(rows: list[tuple[int, int]], data: st.DataObject) -> None:
    dues = [InstallmentDue(n + 1, p, i) for n, (p, i) in enumerate(rows)]
    owed = sum(p + i for p, i in rows)
    if owed == 0:
        return
    amount = data.draw(st.integers(1, owed))
    applied = apply_payment(dues, amount)
    assert applied.principal_cents + applied.interest_cents == amount


def test_every_builder_balances() -> None:
    cases = [
        ledger.deposit(1, 100),
        ledger.withdrawal(1, 100),
        ledger.investment(1, 2500),
        ledger.disbursement(9, [(1, 2500), (2, 2500)]),
        ledger.repayment(9, 15211),
        ledger.distribution(9, [(1, 6356, 1250), (2, 6355, 1250)]),
    ]
    for postings in cases:
        assert sum(p.amount_cents for p in postings) == 0


def test_unbalanced_is_refused() -> None:
    with pytest.raises(ledger.UnbalancedTransaction):
        ledger.check_balanced([ledger.Posting("a", 1), ledger.Posting("b", -2)])
