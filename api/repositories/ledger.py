"""SQL for the double-entry ledger: accounts, transactions, postings and balances."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import LedgerAccount, LedgerEntry, LedgerTransaction
from api.domain.ledger import Posting, account_type_of, check_balanced


def _owner_ids(code: str) -> tuple[int | None, int | None]:
    account_type = account_type_of(code)
    if ":" not in code:
        return None, None
    owner = int(code.split(":", 1)[1])
    if account_type.startswith("investor_"):
        return owner, None
    if account_type.startswith("loan_"):
        return None, owner
    return None, None


def ensure_accounts(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Account ids for the codes, creating missing accounts; safe under concurrent creation."""
    wanted = sorted(set(codes))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = []
    for code in wanted:
        investor_id, loan_id = _owner_ids(code)
        rows.append(
            {
                "code": code,
                "account_type": account_type_of(code),
                "investor_id": investor_id,
                "loan_id": loan_id,
                "created_at": utcnow(),
            }
        )
    if rows:
        session.execute(insert(LedgerAccount).values(rows).on_conflict_do_nothing(index_elements=["code"]))
    found = session.execute(
        select(LedgerAccount.code, LedgerAccount.account_id).where(LedgerAccount.code.in_(wanted))
    ).all()
    return {row[0]: row[1] for row in found}


def post_transaction(
    session: Session,
    kind: str,
    postings: Sequence[Posting],
    description: str,
    *,
    loan_id: int | None = None,
    payment_id: int | None = None,
    transfer_id: int | None = None,
    investment_id: int | None = None,
) -> int:
    kept = check_balanced(postings)
    accounts = ensure_accounts(session, (p.account_code for p in kept))
    txn = LedgerTransaction(
        kind=kind,
        description=description,
        loan_id=loan_id,
        payment_id=payment_id,
        transfer_id=transfer_id,
        investment_id=investment_id,
        created_at=utcnow(),
    )
    session.add(txn)
    session.flush()
    session.add_all(
        LedgerEntry(
            transaction_id=txn.transaction_id,
            account_id=accounts[p.account_code],
            amount_cents=p.amount_cents,
        )
        for p in kept
    )
    session.flush()
    return txn.transaction_id


def balances(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Debit-positive balances of the named accounts (0 for accounts with no postings)."""
    wanted = list(set(codes))
    result = dict.fromkeys(wanted, 0)
    rows = session.execute(
        select(LedgerAccount.code, func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.account_id)
        .where(LedgerAccount.code.in_(wanted))
        .group_by(LedgerAccount.code)
    ).all()
    for code, total in rows:
        result[code] = int(total)
    return result


def balance(session: Session, code: str) -> int:
    return balances(session, [code])[code]


def trial_balance(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(
            LedgerAccount.code,
            LedgerAccount.account_type,
            func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
        )
        .outerjoin(LedgerEntry, LedgerEntry.account_id == LedgerAccount.account_id)
        .group_by(LedgerAccount.code, LedgerAccount.account_type)
        .order_by(LedgerAccount.code)
    ).all()
    return [(code, account_type, int(total)) for code, account_type, total in rows]


def unbalanced_transactions(session: Session) -> list[int]:
    rows = session.execute(
        select(LedgerEntry.transaction_id)
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount_cents) != 0)
    ).all()
    return [r[0] for r in rows]
