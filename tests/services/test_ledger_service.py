"""The ledger as the services use it: balances kept in the account rows equal the sum of their postings,
never-negative accounts refuse to go below zero, and the tables refuse edits even from raw SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.integrations.processor import repository as processor_repo
from api.kit.errors import InsufficientFunds
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.ledger.accounts import PLATFORM_FEE_INCOME, PROCESSOR_CASH, PROCESSOR_IN_TRANSIT, Account
from api.lending import investing, issuance
from api.lending import repository as loans_repo
from tests import factories


def _books_are_sound(session: Session) -> None:
    assert ledger_repo.balance_mismatches(session) == []
    assert ledger_repo.unbalanced_transactions(session) == []
    assert sum(balance for _, balance in ledger_repo.trial_balance(session)) == 0


def test_balances_equal_postings_after_every_kind_of_movement(session: Session) -> None:
    # The database may hold another test's (balanced) books: compare the platform's cash before and after.
    before = ledger_repo.natural_balances(session, [PROCESSOR_CASH, PROCESSOR_IN_TRANSIT, PLATFORM_FEE_INCOME])
    ivan = factories.investor(session, cash_cents=600_000)
    loan = factories.listing(session, amount_cents=500_000)
    investing.invest(session, None, factories.settings(), ivan, loan.loan_id, 500_000)  # type: ignore[arg-type]
    assert issuance.issue(session, loan.loan_id)
    _books_are_sound(session)
    cash = Account.investor_cash(ivan.investor())
    notes = Account.investor_notes(ivan.investor())
    assert ledger_repo.natural_balances(session, [cash, notes]) == {cash: 100_000, notes: 500_000}
    fee = loans_repo.get_loan(session, loan.loan_id).origination_fee_cents  # type: ignore[union-attr]
    assert 5_000 <= fee <= 30_000  # 1-6 % of 5,000.00, by the borrower's grade on the rate card
    after = ledger_repo.natural_balances(session, [PROCESSOR_CASH, PROCESSOR_IN_TRANSIT, PLATFORM_FEE_INCOME])
    # The borrower is sent the amount less the fee (in transit until the processor settles it); the fee stays
    # in the platform's cash as its revenue.
    assert after[PLATFORM_FEE_INCOME] - before[PLATFORM_FEE_INCOME] == fee
    assert after[PROCESSOR_CASH] - before[PROCESSOR_CASH] == 600_000
    assert after[PROCESSOR_IN_TRANSIT] - before[PROCESSOR_IN_TRANSIT] == -(500_000 - fee)
    sent = processor_repo.transfers_of_loan(session, loan.loan_id)
    assert [(t.kind, t.status, t.amount_cents) for t in sent] == [("disbursement", "queued", 500_000 - fee)]


def test_a_posting_that_would_overdraw_cash_changes_nothing(session: Session) -> None:
    ivan = factories.investor(session, cash_cents=2_500)
    with pytest.raises(ledger_repo.Overdrawn):
        ledger_repo.post(session, "withdrawal", postings.withdrawal(ivan.investor(), 2_501), "too much")
    session.rollback()
    _books_are_sound(session)


def test_investing_more_than_the_cash_is_refused(session: Session) -> None:
    ivan = factories.investor(session, cash_cents=2_500)
    loan = factories.listing(session)
    with pytest.raises(InsufficientFunds, match="available cash is 25.00"):
        investing.invest(session, None, factories.settings(), ivan, loan.loan_id, 5_000)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount_cents = amount_cents + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET description = 'edited'",
        "DELETE FROM ledger_transactions",
        "DELETE FROM ledger_accounts",
        "UPDATE ledger_accounts SET owner_id = owner_id + 1000",
        "UPDATE ledger_accounts SET account_type = 'processor_cash' WHERE owner_id > 0",
    ],
)
def test_the_ledger_refuses_edits_even_from_sql(session: Session, statement: str) -> None:
    ivan = factories.investor(session, cash_cents=10_000)
    assert ivan.investor_id
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(text(statement))


OVERDRAW = "UPDATE ledger_accounts SET balance_cents = 1 WHERE account_type = :kind AND owner_id = :i"


@pytest.mark.parametrize("kind", ["investor_cash", "investor_pending_cash", "investor_commitments"])
def test_the_database_refuses_negative_investor_cash(session: Session, kind: str) -> None:
    ivan = factories.investor(session, cash_cents=10_000)
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(text(OVERDRAW), {"i": ivan.investor(), "kind": kind})


def test_issuing_is_idempotent(session: Session) -> None:
    ivan = factories.investor(session, cash_cents=500_000)
    loan = factories.listing(session, amount_cents=500_000)
    done = investing.invest(session, None, factories.settings(), ivan, loan.loan_id, 500_000)  # type: ignore[arg-type]
    assert done.loan_status == "funded"
    assert issuance.issue(session, loan.loan_id) is True
    assert issuance.issue(session, loan.loan_id) is False  # the sweeper finds nothing left to do
    assert loans_repo.get_loan(session, loan.loan_id).status == "current"  # type: ignore[union-attr]
    assert len(processor_repo.transfers_of_loan(session, loan.loan_id)) == 1  # one disbursement, ever
    _books_are_sound(session)
