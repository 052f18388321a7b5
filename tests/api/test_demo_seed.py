"""The demo seeder plays months of history through the API; the books must balance after it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.demo import seed
from api.ledger import repository as ledger_repo
from tests.conftest import migrate


def test_demo_history_balances(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate(url)
    counts = seed(url, quiet=True, months=3, mailbox_dir=tmp_path / "mailbox")
    assert counts["loans"] >= 8 and counts["payments"] >= 5
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries")).scalar() == 0
        unbalanced = connection.execute(
            text("SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount_cents) <> 0")
        ).all()
        assert unbalanced == []
        negative_cash = connection.execute(
            text(
                "SELECT a.owner_id FROM ledger_accounts a JOIN ledger_entries e USING (account_id) "
                "WHERE a.account_type = 'investor_cash' GROUP BY a.owner_id HAVING SUM(e.amount_cents) > 0"
            )
        ).all()
        assert negative_cash == []
        with Session(engine) as session:
            assert ledger_repo.balance_mismatches(session) == []
        statuses = {row[0] for row in connection.execute(text("SELECT DISTINCT status FROM loans"))}
        assert {"current", "listed"} <= statuses
        assert counts["auto_invested"] > 0
    engine.dispose()
