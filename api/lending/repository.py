"""SQL for loans and their notes. Hot paths (funding a listing, listing search) are single Core
statements; queries that depend on who asks take the `Caller` and scope themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.fastsql import FastStatement
from api.lending.tables import Investment, Loan

LOANS = cast(Table, Loan.__table__)
NOTES = cast(Table, Investment.__table__)

LISTING_COLUMNS = (
    LOANS.c.loan_id,
    LOANS.c.borrower_id,
    LOANS.c.amount_cents,
    LOANS.c.interest_rate_bps,
    LOANS.c.term_months,
    LOANS.c.purpose,
    LOANS.c.status,
    LOANS.c.grade,
    LOANS.c.probability_of_default_ppm,
    LOANS.c.score_reasons,
    LOANS.c.funded_amount_cents,
    LOANS.c.monthly_payment_cents,
    LOANS.c.created_at,
    LOANS.c.funded_at,
    LOANS.c.disbursed_at,
)


def add_loan(session: Session, loan: Loan) -> Loan:
    session.add(loan)
    session.flush()
    return loan


def get_loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan | None:
    query = select(Loan).where(Loan.loan_id == loan_id)
    if lock:
        # A locked read decides what happens next: refresh whatever this session already holds, since the
        # hot paths change loans with Core statements the identity map does not see.
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def loan_row(session: Session, loan_id: int) -> Row[Any] | None:
    return session.execute(select(*LISTING_COLUMNS).where(LOANS.c.loan_id == loan_id)).first()


def visible_loan_row(session: Session, caller: Caller, loan_id: int) -> Row[Any] | None:
    """The loan if the caller may see it: borrowers their own, investors and staff every one."""
    query = select(*LISTING_COLUMNS).where(LOANS.c.loan_id == loan_id)
    if caller.is_borrower:
        query = query.where(LOANS.c.borrower_id == caller.user_id)
    return session.execute(query).first()


# Built once at import: building and hashing a statement costs more than running it.
_FUND = FastStatement(
    update(LOANS)
    .where(
        LOANS.c.loan_id == bindparam("target_loan"),
        LOANS.c.status == "listed",
        LOANS.c.funded_amount_cents + bindparam("amount") <= LOANS.c.amount_cents,
    )
    .values(funded_amount_cents=LOANS.c.funded_amount_cents + bindparam("amount"), updated_at=bindparam("now"))
    .returning(LOANS.c.funded_amount_cents, LOANS.c.amount_cents, LOANS.c.status)
)
_ADD_NOTE = FastStatement(
    insert(NOTES)
    .values(
        loan_id=bindparam("b_loan_id"),
        investor_id=bindparam("b_investor_id"),
        amount_cents=bindparam("b_amount_cents"),
        created_at=bindparam("b_created_at"),
    )
    .returning(NOTES.c.investment_id)
)


def fund(session: Session, loan_id: int, amount_cents: int) -> Any | None:
    """Add a commitment to a listed loan in one statement, which also takes the loan's row lock for the
    rest of the transaction: the listing must still be open and must not be over-funded. None when it
    is not (the caller explains why); otherwise the loan's new funded amount and its amount."""
    return _FUND.first(session, {"target_loan": loan_id, "amount": amount_cents, "now": utcnow()})


def set_status(session: Session, loan_id: int, status: str, **stamps: Any) -> None:
    session.execute(
        update(LOANS).where(LOANS.c.loan_id == loan_id).values(status=status, updated_at=utcnow(), **stamps)
    )


_LIST_PAGES: dict[tuple[bool, ...], FastStatement] = {}


def _list_statement(own: bool, status: bool, min_rate: bool, max_rate: bool, before: bool) -> FastStatement:
    """One compiled statement per combination of filters present (32 at most), built on first use."""
    key = (own, status, min_rate, max_rate, before)
    found = _LIST_PAGES.get(key)
    if found is None:
        query = select(*LISTING_COLUMNS)
        if own:
            query = query.where(LOANS.c.borrower_id == bindparam("owner"))
        if status:
            query = query.where(LOANS.c.status == bindparam("status"))
        if min_rate:
            query = query.where(LOANS.c.interest_rate_bps >= bindparam("min_rate"))
        if max_rate:
            query = query.where(LOANS.c.interest_rate_bps <= bindparam("max_rate"))
        if before:
            query = query.where(LOANS.c.loan_id < bindparam("before"))
        found = FastStatement(query.order_by(LOANS.c.loan_id.desc()).limit(bindparam("page_size")))
        _LIST_PAGES[key] = found
    return found


def list_loans(
    session: Session,
    caller: Caller,
    *,
    status: str | None,
    min_rate_bps: int | None,
    max_rate_bps: int | None,
    before_loan_id: int | None,
    limit: int,
) -> Sequence[Any]:
    """Newest first, keyset-paginated on loan_id; borrowers see only their own loans."""
    statement = _list_statement(
        caller.is_borrower,
        status is not None,
        min_rate_bps is not None,
        max_rate_bps is not None,
        before_loan_id is not None,
    )
    params = {
        "owner": caller.user_id,
        "status": status,
        "min_rate": min_rate_bps,
        "max_rate": max_rate_bps,
        "before": before_loan_id,
        "page_size": limit,
    }
    return statement.all(session, {k: v for k, v in params.items() if v is not None or k == "page_size"})


def listed_before(session: Session, cutoff: datetime) -> list[int]:
    rows: Any = session.scalars(
        select(LOANS.c.loan_id).where(LOANS.c.status == "listed", LOANS.c.created_at < cutoff).order_by(LOANS.c.loan_id)
    )
    return [int(r) for r in rows]


def funded_not_issued(session: Session) -> list[int]:
    found: Any = session.scalars(select(LOANS.c.loan_id).where(LOANS.c.status == "funded"))
    return [int(r) for r in found]


def add_investment(session: Session, *, loan_id: int, investor_id: int, amount_cents: int) -> tuple[int, datetime]:
    now = utcnow()
    row = _ADD_NOTE.scalar(
        session,
        {"b_loan_id": loan_id, "b_investor_id": investor_id, "b_amount_cents": amount_cents, "b_created_at": now},
    )
    return int(row), now


def notes_of_loan(session: Session, loan_id: int) -> list[Investment]:
    """The loan's notes, oldest first: the order that breaks ties in pro-rata splits."""
    return list(
        session.scalars(select(Investment).where(Investment.loan_id == loan_id).order_by(Investment.investment_id))
    )


def committed_by_investor(session: Session, loan_id: int) -> dict[int, int]:
    """What each investor has committed to the loan, in cents."""
    rows: Any = session.execute(
        select(NOTES.c.investor_id, func.sum(NOTES.c.amount_cents))
        .where(NOTES.c.loan_id == loan_id)
        .group_by(NOTES.c.investor_id)
    ).all()
    return {int(i): int(a) for i, a in rows}


def notes_of_investor(session: Session, investor_id: int) -> list[tuple[Investment, Loan]]:
    rows = session.execute(
        select(Investment, Loan)
        .join(Loan, Loan.loan_id == Investment.loan_id)
        .where(Investment.investor_id == investor_id)
        .order_by(Investment.investment_id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def investor_has_note(session: Session, investor_id: int, loan_id: int) -> bool:
    found = session.scalar(
        select(func.count()).select_from(NOTES).where(NOTES.c.investor_id == investor_id, NOTES.c.loan_id == loan_id)
    )
    return bool(found)
