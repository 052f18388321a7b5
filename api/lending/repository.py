"""SQL for loans and their notes. Hot paths (funding a listing, listing search) are single Core
statements compiled once; queries that depend on who asks take the `Caller` and scope themselves.
Status sets in SQL come from the lifecycle machine (api/lending/lifecycle.py), never from literals here."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Row,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.fastsql import FastStatement
from api.lending import lifecycle
from api.lending.lifecycle import LoanStatus
from api.lending.tables import CreditPull, Investment, Loan, ScoreInputBin

LOANS = cast(Table, Loan.__table__)
NOTES = cast(Table, Investment.__table__)
PULLS = cast(Table, CreditPull.__table__)
SCORE_INPUT_BINS = cast(Table, ScoreInputBin.__table__)

OPEN = lifecycle.values(lifecycle.OPEN_FOR_INVESTMENT)
LIVE_NOTES = ("committed", "issued")  # a note that is, or will be on issuance, an investor's claim

LISTING_COLUMNS = (
    LOANS.c.loan_id,
    LOANS.c.borrower_id,
    LOANS.c.amount_cents,
    LOANS.c.requested_amount_cents,
    LOANS.c.interest_rate_bps,
    LOANS.c.term_months,
    LOANS.c.purpose,
    LOANS.c.status,
    LOANS.c.grade,
    LOANS.c.probability_of_default_ppm,
    LOANS.c.score_model_version,
    LOANS.c.score_reasons,
    LOANS.c.funded_amount_cents,
    LOANS.c.funded_bps,
    LOANS.c.monthly_payment_cents,
    LOANS.c.rate_card_version,
    LOANS.c.origination_fee_bps,
    LOANS.c.origination_fee_cents,
    LOANS.c.apr_bps,
    LOANS.c.expected_loss_cents,
    LOANS.c.accepts_partial_funding,
    LOANS.c.listed_at,
    LOANS.c.listing_expires_at,
    LOANS.c.created_at,
    LOANS.c.funded_at,
    LOANS.c.disbursed_at,
)


def add_loan(session: Session, loan: Loan) -> Loan:
    session.add(loan)
    session.flush()
    return loan


def get_loan(session: Session, loan_id: int, *, lock: bool = False, skip_locked: bool = False) -> Loan | None:
    query = select(Loan).where(Loan.loan_id == loan_id)
    if lock:
        # A locked read decides what happens next: refresh whatever this session already holds, since the
        # hot paths change loans with Core statements the identity map does not see.
        query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return session.scalars(query).first()


def loan_row(session: Session, loan_id: int) -> Row[Any] | None:
    return session.execute(select(*LISTING_COLUMNS).where(LOANS.c.loan_id == loan_id)).first()


def visible_loan_row(session: Session, caller: Caller, loan_id: int) -> Row[Any] | None:
    """The loan if the caller may see it: borrowers their own, investors and staff every one."""
    query = select(*LISTING_COLUMNS).where(LOANS.c.loan_id == loan_id)
    if caller.is_borrower:
        query = query.where(LOANS.c.borrower_id == caller.user_id)
    return session.execute(query).first()


def _status_in(statuses: tuple[str, ...]) -> ColumnElement[bool]:
    """`status IN ('listed', ...)` written into the SQL text: a FastStatement compiles once and cannot expand
    an IN parameter (SQLAlchemy's POSTCOMPILE). The values come from the lifecycle enum, never from input."""
    return LOANS.c.status.in_([literal_column(f"'{LoanStatus(s).value}'") for s in statuses])


def _funded_bps(funded: ColumnElement[Any]) -> ColumnElement[Any]:
    return funded * 10000 // LOANS.c.amount_cents  # integer division, as the CHECK (`/` would be NUMERIC)


# Built once at import: building and hashing a statement costs more than running it.
_NEW_FUNDED = LOANS.c.funded_amount_cents + bindparam("amount")
_FUND = FastStatement(
    update(LOANS)
    .where(
        LOANS.c.loan_id == bindparam("target_loan"),
        _status_in(OPEN),
        _NEW_FUNDED <= LOANS.c.amount_cents,
    )
    .values(funded_amount_cents=_NEW_FUNDED, funded_bps=_funded_bps(_NEW_FUNDED), updated_at=bindparam("now"))
    .returning(LOANS.c.funded_amount_cents, LOANS.c.amount_cents, LOANS.c.status)
)
# The note, only if the investor's commitments to this loan stay within the per-investor cap: the loan's
# row lock (taken by _FUND just before) serialises every commitment to the loan, so the sum is current.
_HELD = (
    select(func.coalesce(func.sum(NOTES.c.amount_cents), 0))
    .where(
        NOTES.c.loan_id == bindparam("b_loan_id"),
        NOTES.c.investor_id == bindparam("b_investor_id"),
        NOTES.c.status == "committed",
    )
    .scalar_subquery()
)
_ADD_NOTE = FastStatement(
    insert(NOTES)
    .from_select(
        ["loan_id", "investor_id", "amount_cents", "created_at", "status", "source"],
        select(
            sql_cast(bindparam("b_loan_id"), BigInteger),
            sql_cast(bindparam("b_investor_id"), BigInteger),
            sql_cast(bindparam("b_amount_cents"), BigInteger),
            bindparam("b_created_at", type_=NOTES.c.created_at.type),
            literal_column("'committed'"),
            bindparam("b_source", type_=NOTES.c.source.type),
        ).where(_HELD + bindparam("b_amount_cents", type_=BigInteger) <= bindparam("b_cap", type_=BigInteger)),
    )
    .returning(NOTES.c.investment_id)
)


def fund(session: Session, loan_id: int, amount_cents: int) -> Any | None:
    """Add a commitment to a listed loan in one statement, which also takes the loan's row lock for the
    rest of the transaction: the listing must still be open and must not be over-funded. None when it
    is not (the caller explains why); otherwise the loan's new funded amount and its amount."""
    return _FUND.first(session, {"target_loan": loan_id, "amount": amount_cents, "now": utcnow()})


def add_investment(
    session: Session, *, loan_id: int, investor_id: int, amount_cents: int, cap_cents: int, source: str = "manual"
) -> tuple[int, datetime] | None:
    """The note, or None when it would take the investor past `cap_cents` in this loan."""
    now = utcnow()
    row = _ADD_NOTE.scalar(
        session,
        {
            "b_loan_id": loan_id,
            "b_investor_id": investor_id,
            "b_amount_cents": amount_cents,
            "b_created_at": now,
            "b_source": source,
            "b_cap": cap_cents,
        },
    )
    return None if row is None else (int(row), now)


def set_amounts(session: Session, loan_id: int, **values: Any) -> None:
    session.execute(update(LOANS).where(LOANS.c.loan_id == loan_id).values(updated_at=utcnow(), **values))


def release_commitment(session: Session, loan_id: int, amount_cents: int) -> None:
    """Take a cancelled commitment off the loan's funded amount (the caller holds the loan's row lock)."""
    new = LOANS.c.funded_amount_cents - amount_cents
    session.execute(
        update(LOANS)
        .where(LOANS.c.loan_id == loan_id)
        .values(funded_amount_cents=new, funded_bps=_funded_bps(new), updated_at=utcnow())
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
    """Newest first, keyset-paginated on loan_id; borrowers see only their own loans. The default page."""
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


# Marketplace search: the sort keys, each a column with an index (status, key, loan_id).
SORT_COLUMNS: dict[str, Any] = {
    "rate": LOANS.c.interest_rate_bps,
    "amount": LOANS.c.amount_cents,
    "funded_pct": LOANS.c.funded_bps,
    "time_left": LOANS.c.listing_expires_at,
    "grade": LOANS.c.grade,
}


@dataclass(frozen=True, slots=True)
class Search:
    """A marketplace query: every field None means "not filtered"."""

    status: str | None = None
    grade: str | None = None
    min_rate_bps: int | None = None
    max_rate_bps: int | None = None
    term_months: int | None = None
    purpose: str | None = None
    min_amount_cents: int | None = None
    max_amount_cents: int | None = None
    min_funded_bps: int | None = None
    expires_after: datetime | None = None
    expires_before: datetime | None = None
    sort: str = "newest"  # "newest" or a SORT_COLUMNS key, "-" in front for descending
    after_key: Any = None  # the cursor: the last row's sort value and id
    after_id: int | None = None


_SEARCH_PAGES: dict[tuple[Any, ...], FastStatement] = {}
_SEARCH_LOCK = threading.Lock()
_MAX_CACHED_SHAPES = 1024  # past this, rare shapes are compiled per request instead of kept


def _search_statement(own: bool, search: Search) -> FastStatement:
    filters = (
        own,
        search.status is not None,
        search.grade is not None,
        search.min_rate_bps is not None,
        search.max_rate_bps is not None,
        search.term_months is not None,
        search.purpose is not None,
        search.min_amount_cents is not None,
        search.max_amount_cents is not None,
        search.min_funded_bps is not None,
        search.expires_after is not None,
        search.expires_before is not None,
        search.after_id is not None,
    )
    shape = (*filters, search.sort)
    found = _SEARCH_PAGES.get(shape)
    if found is not None:
        return found
    query = select(*LISTING_COLUMNS)
    conditions: list[ColumnElement[bool]] = []
    if own:
        conditions.append(LOANS.c.borrower_id == bindparam("owner"))
    for present, condition in (
        (search.status is not None, LOANS.c.status == bindparam("status")),
        (search.grade is not None, LOANS.c.grade == bindparam("grade")),
        (search.min_rate_bps is not None, LOANS.c.interest_rate_bps >= bindparam("min_rate")),
        (search.max_rate_bps is not None, LOANS.c.interest_rate_bps <= bindparam("max_rate")),
        (search.term_months is not None, LOANS.c.term_months == bindparam("term")),
        (search.purpose is not None, func.lower(LOANS.c.purpose) == bindparam("purpose")),
        (search.min_amount_cents is not None, LOANS.c.amount_cents >= bindparam("min_amount")),
        (search.max_amount_cents is not None, LOANS.c.amount_cents <= bindparam("max_amount")),
        (search.min_funded_bps is not None, LOANS.c.funded_bps >= bindparam("min_funded")),
        (
            search.expires_after is not None,
            LOANS.c.listing_expires_at >= bindparam("expires_after", type_=LOANS.c.listing_expires_at.type),
        ),
        (
            search.expires_before is not None,
            LOANS.c.listing_expires_at <= bindparam("expires_before", type_=LOANS.c.listing_expires_at.type),
        ),
    ):
        if present:
            conditions.append(condition)
    descending = search.sort.startswith("-")
    name = search.sort.lstrip("-")
    if name == "newest":
        key_column = None
        order = [LOANS.c.loan_id.desc()]
        if search.after_id is not None:
            conditions.append(LOANS.c.loan_id < bindparam("after_id"))
    else:
        key_column = SORT_COLUMNS[name]
        key_param = bindparam("after_key", type_=key_column.type)
        row_key = tuple_(key_column, LOANS.c.loan_id)
        cursor = tuple_(key_param, bindparam("after_id"))
        if descending:
            order = [key_column.desc(), LOANS.c.loan_id.desc()]
            if search.after_id is not None:
                conditions.append(row_key < cursor)
        else:
            order = [key_column.asc(), LOANS.c.loan_id.asc()]
            if search.after_id is not None:
                conditions.append(row_key > cursor)
    statement = FastStatement(query.where(and_(true(), *conditions)).order_by(*order).limit(bindparam("page_size")))
    with _SEARCH_LOCK:
        if len(_SEARCH_PAGES) < _MAX_CACHED_SHAPES:
            _SEARCH_PAGES[shape] = statement
    return statement


def search_loans(session: Session, caller: Caller, search: Search, limit: int) -> list[Any]:
    params: dict[str, Any] = {
        "owner": caller.user_id,
        "status": search.status,
        "grade": search.grade,
        "min_rate": search.min_rate_bps,
        "max_rate": search.max_rate_bps,
        "term": search.term_months,
        "purpose": search.purpose.strip().lower() if search.purpose is not None else None,
        "min_amount": search.min_amount_cents,
        "max_amount": search.max_amount_cents,
        "min_funded": search.min_funded_bps,
        "expires_after": search.expires_after,
        "expires_before": search.expires_before,
        "after_key": search.after_key,
        "after_id": search.after_id,
        "page_size": limit,
    }
    statement = _search_statement(caller.is_borrower, search)
    return statement.all(session, {k: v for k, v in params.items() if v is not None})


def search_sql(caller: Caller, search: Search, dialect: Any) -> str:
    """The SQL text of a search (for EXPLAIN in tests and benchmarks)."""
    return _search_statement(caller.is_borrower, search)._compile(dialect).sql


def due_for_expiry(session: Session, now: datetime, limit: int = 100) -> list[int]:
    rows: Any = session.scalars(
        select(LOANS.c.loan_id)
        .where(LOANS.c.status.in_(lifecycle.values(lifecycle.CLOSABLE_LISTING)), LOANS.c.listing_expires_at <= now)
        .order_by(LOANS.c.listing_expires_at, LOANS.c.loan_id)
        .limit(limit)
    )
    return [int(r) for r in rows]


def funded_not_issued(session: Session) -> list[int]:
    found: Any = session.scalars(select(LOANS.c.loan_id).where(LOANS.c.status == LoanStatus.FUNDED.value))
    return [int(r) for r in found]


def get_investment(session: Session, investment_id: int, *, lock: bool = False) -> Investment | None:
    query = select(Investment).where(Investment.investment_id == investment_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def notes_of_loan(session: Session, loan_id: int) -> list[Investment]:
    """The loan's live notes, oldest first: the order that breaks ties in pro-rata splits."""
    return list(
        session.scalars(
            select(Investment)
            .where(Investment.loan_id == loan_id, Investment.status.in_(LIVE_NOTES))
            .order_by(Investment.investment_id)
        )
    )


def committed_by_investor(session: Session, loan_id: int) -> dict[int, int]:
    """What each investor has committed (cash reserved, not yet issued) to the loan, in cents."""
    rows: Any = session.execute(
        select(NOTES.c.investor_id, func.sum(NOTES.c.amount_cents))
        .where(NOTES.c.loan_id == loan_id, NOTES.c.status == "committed")
        .group_by(NOTES.c.investor_id)
    ).all()
    return {int(i): int(a) for i, a in rows}


def end_commitments(session: Session, loan_id: int, status: str) -> None:
    """Every committed note of the loan becomes `issued` (a live note) or `released` (cash returned)."""
    session.execute(
        update(NOTES)
        .where(NOTES.c.loan_id == loan_id, NOTES.c.status == "committed")
        .values(status=status, ended_at=None if status == "issued" else utcnow())
    )


def notes_of_investor(session: Session, investor_id: int) -> list[tuple[Investment, Loan]]:
    """The investor's notes, including those of listings that ended unfunded, but not those they cancelled."""
    rows = session.execute(
        select(Investment, Loan)
        .join(Loan, Loan.loan_id == Investment.loan_id)
        .where(Investment.investor_id == investor_id, Investment.status != "cancelled")
        .order_by(Investment.investment_id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def investor_has_note(session: Session, investor_id: int, loan_id: int) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(NOTES)
        .where(NOTES.c.investor_id == investor_id, NOTES.c.loan_id == loan_id, NOTES.c.status.in_(LIVE_NOTES))
    )
    return bool(found)


def held_in_loans(session: Session, investor_id: int, loan_ids: Sequence[int]) -> dict[int, int]:
    """What the investor has committed to each of these loans (committed notes only)."""
    if not loan_ids:
        return {}
    rows: Any = session.execute(
        select(NOTES.c.loan_id, func.sum(NOTES.c.amount_cents))
        .where(NOTES.c.investor_id == investor_id, NOTES.c.loan_id.in_(list(loan_ids)), NOTES.c.status == "committed")
        .group_by(NOTES.c.loan_id)
    ).all()
    return {int(loan): int(total) for loan, total in rows}


def open_listings(session: Session, now: datetime, limit: int = 2000) -> list[Any]:
    """Listings still open for investment, for the portfolio builder."""
    return list(
        session.execute(
            select(*LISTING_COLUMNS)
            .where(
                LOANS.c.status.in_(OPEN),
                or_(LOANS.c.listing_expires_at.is_(None), LOANS.c.listing_expires_at > now),
                LOANS.c.funded_amount_cents < LOANS.c.amount_cents,
            )
            .order_by(LOANS.c.loan_id)
            .limit(limit)
        ).all()
    )


def add_credit_pull(session: Session, **values: Any) -> None:
    session.execute(insert(PULLS).values(**values))


def add_score_input_bins(session: Session, loan_id: int, bins: dict[str, int]) -> None:
    if bins:
        session.execute(
            insert(SCORE_INPUT_BINS),
            [{"loan_id": loan_id, "input_name": name, "bin_index": index} for name, index in sorted(bins.items())],
        )
