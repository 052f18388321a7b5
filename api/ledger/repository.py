"""SQL for the ledger: opening accounts, posting balanced transactions, reading balances, proving them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from api.kit.clock import utcnow
from api.kit.fastsql import FastStatement
from api.ledger.accounts import NEVER_NEGATIVE, Account, AccountKind, Owner, kinds_owned_by, lock_order
from api.ledger.postings import Posting, check_balanced
from api.ledger.tables import LedgerAccount, LedgerEntry, LedgerTransaction

ACCOUNTS = cast(Table, LedgerAccount.__table__)
TRANSACTIONS = cast(Table, LedgerTransaction.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)

# Up to this many accounts, one UPDATE each (in lock order); more go in one set-based statement after
# locking the rows in lock order.
_SINGLE_UPDATE_LIMIT = 4


class Overdrawn(Exception):
    """A posting would take a never-negative account (investor cash, commitments) below zero."""

    def __init__(self, account: Account) -> None:
        super().__init__(f"{account} would be overdrawn")
        self.account = account


class MissingAccount(LookupError):
    pass


def open_accounts(session: Session, owner: Owner, owner_id: int) -> None:
    """Create every account an investor or a loan has, when it is created: posting never creates one."""
    now = utcnow()
    rows = [
        {
            "account_type": kind.value,
            "owner_id": owner_id,
            "investor_id": owner_id if owner is Owner.INVESTOR else None,
            "loan_id": owner_id if owner is Owner.LOAN else None,
            "balance_cents": 0,
            "created_at": now,
            "updated_at": now,
        }
        for kind in kinds_owned_by(owner)
    ]
    session.execute(insert(ACCOUNTS), rows)


def open_platform_accounts(session: Session) -> None:
    """The platform's own accounts (the migration opens them; this restores them after a test empties
    the tables). Idempotent."""
    existing = {t for (t,) in session.execute(select(ACCOUNTS.c.account_type).where(ACCOUNTS.c.owner_id == 0))}
    now = utcnow()
    missing = [
        {"account_type": k.value, "owner_id": 0, "balance_cents": 0, "created_at": now, "updated_at": now}
        for k in kinds_owned_by(Owner.PLATFORM)
        if k.value not in existing
    ]
    if missing:
        session.execute(insert(ACCOUNTS), missing)


_INSERT_TRANSACTION = FastStatement(
    insert(TRANSACTIONS)
    .values(
        kind=bindparam("b_kind"),
        description=bindparam("b_description"),
        loan_id=bindparam("b_loan_id"),
        payment_id=bindparam("b_payment_id"),
        transfer_id=bindparam("b_transfer_id"),
        investment_id=bindparam("b_investment_id"),
        created_at=bindparam("b_created_at"),
    )
    .returning(TRANSACTIONS.c.transaction_id)
)
_INSERT_ENTRY = FastStatement(
    insert(ENTRIES).values(
        transaction_id=bindparam("b_transaction_id"),
        account_id=bindparam("b_account_id"),
        amount_cents=bindparam("b_amount"),
    )
)

_APPLY_STATEMENT = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.account_type == bindparam("kind"), ACCOUNTS.c.owner_id == bindparam("owner"))
    .values(balance_cents=ACCOUNTS.c.balance_cents + bindparam("delta"), updated_at=bindparam("now"))
    .returning(ACCOUNTS.c.account_id)
)
# Credit-normal and never negative: the stored balance is minus the natural one and may not rise above zero.
_APPLY = FastStatement(_APPLY_STATEMENT)
_APPLY_GUARDED = FastStatement(_APPLY_STATEMENT.where(ACCOUNTS.c.balance_cents + bindparam("delta") <= 0))


def post(
    session: Session,
    kind: str,
    postings: Sequence[Posting],
    description: str,
    *,
    loan_id: int | None = None,
    payment_id: int | None = None,
    transfer_id: int | None = None,
    investment_id: int | None = None,
    created_at: datetime | None = None,
) -> int:
    """Post one balanced transaction: change the accounts' balances (in lock order, under their row locks),
    then append the transaction and its postings. Raises Overdrawn, having changed nothing the caller's
    rollback does not undo, when a never-negative account would go below zero."""
    kept = sorted(check_balanced(postings), key=lambda p: lock_order(p.account))
    now = created_at or utcnow()
    account_ids = _apply_to_balances(session, kept, now)
    transaction_id: Any = _INSERT_TRANSACTION.scalar(
        session,
        {
            "b_kind": kind,
            "b_description": description[:200],
            "b_loan_id": loan_id,
            "b_payment_id": payment_id,
            "b_transfer_id": transfer_id,
            "b_investment_id": investment_id,
            "b_created_at": now,
        },
    )
    _INSERT_ENTRY.execute_many(
        session,
        [
            {"b_transaction_id": transaction_id, "b_account_id": account_ids[p.account], "b_amount": p.amount_cents}
            for p in kept
        ],
    )
    return int(transaction_id)


def _apply_to_balances(session: Session, postings: list[Posting], now: datetime) -> dict[Account, int]:
    if len(postings) <= _SINGLE_UPDATE_LIMIT:
        return {p.account: _apply_one(session, p, now) for p in postings}
    return _apply_many(session, postings, now)


def _apply_one(session: Session, posting: Posting, now: datetime) -> int:
    account = posting.account
    guarded = account.kind in NEVER_NEGATIVE and account.natural_balance(posting.amount_cents) < 0
    account_id = (_APPLY_GUARDED if guarded else _APPLY).scalar(
        session, {"kind": account.kind.value, "owner": account.owner_id, "delta": posting.amount_cents, "now": now}
    )
    if account_id is None:
        if guarded and account in balances(session, [account], missing_ok=True):
            raise Overdrawn(account)
        raise MissingAccount(f"no ledger account {account}")
    return int(account_id)


def _apply_many(session: Session, postings: list[Posting], now: datetime) -> dict[Account, int]:
    keys = [(p.account.kind.value, p.account.owner_id) for p in postings]
    # Lock the rows in lock order first: one UPDATE over many rows locks them in whatever order its plan
    # visits them, and two such transactions could then wait on each other.
    locked: Sequence[Any] = session.execute(
        select(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id, ACCOUNTS.c.account_id, ACCOUNTS.c.balance_cents)
        .where(tuple_(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id).in_(keys))
        .order_by(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id)
        .with_for_update()
    ).all()
    found = {(row[0], int(row[1])): (int(row[2]), int(row[3])) for row in locked}
    ids: dict[Account, int] = {}
    for posting, key in zip(postings, keys, strict=True):
        if key not in found:
            raise MissingAccount(f"no ledger account {posting.account}")
        account_id, balance = found[key]
        if posting.account.kind in NEVER_NEGATIVE and balance + posting.amount_cents > 0:
            raise Overdrawn(posting.account)
        ids[posting.account] = account_id
    session.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.account_id == bindparam("target_id"))
        .values(balance_cents=ACCOUNTS.c.balance_cents + bindparam("delta"), updated_at=now),
        [{"target_id": ids[p.account], "delta": p.amount_cents} for p in postings],
    )
    return ids


def balances(session: Session, accounts: Iterable[Account], *, missing_ok: bool = False) -> dict[Account, int]:
    """Stored (debit-positive) balances of the accounts; accounts that do not exist are left out when
    `missing_ok`, else reported as 0."""
    wanted = list(set(accounts))
    by_key = {(a.kind.value, a.owner_id): a for a in wanted}
    rows: Sequence[Any] = session.execute(
        select(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id, ACCOUNTS.c.balance_cents).where(
            tuple_(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id).in_(list(by_key))
        )
    ).all()
    result = {} if missing_ok else dict.fromkeys(wanted, 0)
    for account_type, owner_id, balance in rows:
        result[by_key[(account_type, int(owner_id))]] = int(balance)
    return result


def lock_natural_balances(session: Session, accounts: Iterable[Account]) -> dict[Account, int]:
    """Take the accounts' row locks (in lock order) and read their natural balances: for a decision that
    must hold until commit, such as paying out cash through the processor."""
    wanted = sorted(set(accounts), key=lock_order)
    rows: Sequence[Any] = session.execute(
        select(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id, ACCOUNTS.c.balance_cents)
        .where(tuple_(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id).in_([lock_order(a) for a in wanted]))
        .order_by(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id)
        .with_for_update()
    ).all()
    found = {(t, int(o)): int(b) for t, o, b in rows}
    missing = [a for a in wanted if lock_order(a) not in found]
    if missing:
        raise MissingAccount(f"no ledger account {missing[0]}")
    return {a: a.natural_balance(found[lock_order(a)]) for a in wanted}


def natural_balances(session: Session, accounts: Iterable[Account]) -> dict[Account, int]:
    return {account: account.natural_balance(b) for account, b in balances(session, accounts).items()}


def trial_balance(session: Session) -> list[tuple[Account, int]]:
    rows: Sequence[Any] = session.execute(
        select(ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id, ACCOUNTS.c.balance_cents).order_by(
            ACCOUNTS.c.account_type, ACCOUNTS.c.owner_id
        )
    ).all()
    return [(Account(AccountKind(t), int(o)), int(b)) for t, o, b in rows]


def unbalanced_transactions(session: Session) -> list[int]:
    rows: Sequence[Any] = session.execute(
        select(ENTRIES.c.transaction_id)
        .group_by(ENTRIES.c.transaction_id)
        .having(func.sum(ENTRIES.c.amount_cents) != 0)
    ).all()
    return [int(r[0]) for r in rows]


def balance_mismatches(session: Session) -> list[tuple[Account, int, int]]:
    """Accounts whose stored balance differs from the sum of their postings: (account, stored, summed).
    Empty when the books are sound; the test suite and the warehouse both run this proof."""
    rows: Sequence[Any] = session.execute(
        text(
            """
            SELECT a.account_type, a.owner_id, a.balance_cents, COALESCE(s.total, 0)
            FROM ledger_accounts a
            LEFT JOIN (SELECT account_id, SUM(amount_cents) AS total FROM ledger_entries GROUP BY account_id) s
              ON s.account_id = a.account_id
            WHERE a.balance_cents <> COALESCE(s.total, 0)
            ORDER BY a.account_type, a.owner_id
            """
        )
    ).all()
    return [(Account(AccountKind(t), int(o)), int(b), int(s)) for t, o, b, s in rows]
