"""Every ledger builder balances; an unbalanced transaction is refused. (The payment waterfall lives in
api/payments/servicing.py and is tested in test_servicing.py.)"""

from __future__ import annotations

import pytest

from api.ledger import postings as ledger


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
