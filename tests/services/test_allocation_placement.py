"""Placing an auto-invest run's notes set-based (api/lending/allocation_sql.py `apply`): the ledger it writes is the
one per-note posting would write — one balanced `investment` transaction per listing and round with one entry per
investor leg, every balance moved by exactly its investor's notes — and the accounts' CHECK still refuses
negative cash when a budget was wrong."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.kit.clock import utcnow
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import allocation_sql as sql
from api.lending import auto_invest
from api.lending.schemas import AutoInvestRules
from api.lending.tables import AllocationRun
from tests import factories

RULES = {"amount_per_note": "25.00", "max_per_loan": "75.00", "cash_to_keep": "0.00"}


def _market(session: Session, investors: int, cash_cents: int) -> list[int]:
    settings = factories.settings()
    ids = []
    for _ in range(investors):
        caller = factories.investor(session, cash_cents=cash_cents)
        auto_invest.save_rules(session, settings, caller, AutoInvestRules.model_validate(RULES))
        ids.append(caller.investor())
    for n in range(5):
        factories.listing(session, amount_cents=(40 + 10 * n) * 2_500)
    return ids


def test_the_set_based_ledger_is_the_per_note_ledger(session: Session) -> None:
    investors = _market(session, 12, 20_000)
    settings = factories.settings()
    result = auto_invest.run_in(session, None, settings, trigger="test", seed=7)  # type: ignore[arg-type]
    assert result.notes > 12
    notes = session.execute(
        text("SELECT round, loan_id, investor_id, amount_cents FROM allocations WHERE run_id = :r"),
        {"r": result.run_id},
    ).all()
    assert len(notes) == result.notes and sum(int(n[3]) for n in notes) == result.amount_cents
    per_listing = Counter((int(r), int(loan)) for r, loan, _, _ in notes)
    transactions = session.execute(
        text(
            "SELECT t.transaction_id, t.loan_id, t.description, COUNT(e.entry_id), SUM(e.amount_cents) "
            "FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.transaction_id "
            "WHERE t.kind = 'investment' AND t.description LIKE :p "
            "GROUP BY t.transaction_id, t.loan_id, t.description",
        ),
        {"p": f"auto-invest run {result.run_id} round %"},
    ).all()
    seen = Counter()
    for _, loan_id, description, entries, total in transactions:
        round_ = int(description.split(" round ")[1].split(":")[0])
        seen[(round_, int(loan_id))] += 1
        assert int(total) == 0  # balanced
        assert int(entries) == 2 * per_listing[(round_, int(loan_id))]  # a cash leg and a commitment leg per note
        assert f"{per_listing[(round_, int(loan_id))]} notes in loan {loan_id}" in description
    assert seen == Counter(dict.fromkeys(per_listing, 1))  # one transaction per listing and round
    spent: dict[int, int] = defaultdict(int)
    for _, _, investor_id, cents in notes:
        spent[int(investor_id)] += int(cents)
    for investor_id in investors:
        cash, committed = Account.investor_cash(investor_id), Account.investor_commitments(investor_id)
        balances = ledger_repo.natural_balances(session, [cash, committed])
        assert balances == {cash: 20_000 - spent[investor_id], committed: spent[investor_id]}
    assert ledger_repo.balance_mismatches(session) == []
    assert ledger_repo.unbalanced_transactions(session) == []


def test_the_balance_check_refuses_a_budget_that_was_wrong(session: Session) -> None:
    """Cash spent between the snapshot and the placement (what the account locks prevent) cannot go negative:
    the CHECK on the accounts stops the placement."""
    investors = _market(session, 3, 10_000)
    now = utcnow()
    record = AllocationRun(
        trigger="test", seed=1, rounds=0, listings=0, rules=0, notes=0, amount_cents=0, settings="{}", started_at=now
    )
    session.add(record)
    session.flush()
    assert sql.claim(session, record.run_id, now, 100) == 5
    assert sql.snapshot(session, record.run_id, 1, now, 1, 80, 2_500)[1] == 3
    sql.decide(session, record.run_id, 1, 1)  # (SQLite counts -1 rows for a WITH ... INSERT)
    assert session.execute(text("SELECT COUNT(*) FROM allocations WHERE run_id = :r"), {"r": record.run_id}).scalar()
    # The investors' cash leaves behind the snapshot's back (the test writes the balance; the rollback undoes it).
    session.execute(
        text("UPDATE ledger_accounts SET balance_cents = -100 WHERE account_type = 'investor_cash' AND owner_id = :i"),
        {"i": investors[0]},
    )
    with pytest.raises(IntegrityError, match="never_overdrawn"):
        with session.begin_nested():
            sql.apply(session, record.run_id, 1, now)
