"""Every SQL statement the web app runs against the warehouse, each behind ``@st.cache_data``.

Reads the dbt marts of the published DuckDB snapshot (``PEERLEND_WAREHOUSE_PATH``), read-only.

**Row-level isolation.** A query over one person's rows takes a *scope* (:class:`BorrowerScope`,
:class:`InvestorScope`) as its second argument and binds the scope's id as a SQL parameter; scopes are made only
by ``dashboards.session`` from the signed-in principal the API returned, never from a widget or a URL. The scope
is part of the cache key, so a cached result is only ever handed back to the same user. Platform queries take a
``_staff: StaffScope`` instead: proof that a staff member is asking, checked here, and left out of the cache key
(the leading underscore) because platform aggregates are the same for every staff member.

**Connections.** One read-only connection per published file, kept open and shared by the app's threads through
``cursor()``. The pipeline never writes the published file: it builds a private work file and replaces the
published one atomically (``os.replace``, docs/warehouse.md), so an open reader cannot block it. Each call
compares the file's inode and mtime with the connection's and opens the new snapshot when it changed; the
previous connection is closed one swap later, so a query still running on it can finish. Opening costs 40-100 ms
on this machine, which a page of ten queries would otherwise pay ten times.

**Caching.** Every cached function takes the :class:`Warehouse` (path, mtime, inode) first, so a newly published
snapshot is read at once; the TTL only bounds memory.

**Money.** DuckDB's ``.df()`` turns DECIMAL into float64, so rows are fetched as Python objects: DECIMAL columns
arrive as ``Decimal`` and ``*_cents`` as ``int``. Ratios (rates, shares) arrive as ``Decimal`` too.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import duckdb
import pandas as pd
import streamlit as st

from api.settings import get_settings
from dashboards import statuses
from dashboards.settings import get_dashboard_settings

# dbt-duckdb builds the marts in the target's schema; change it here and nowhere else.
MARTS_SCHEMA = "marts"
STAGING_SCHEMA = "staging"
TTL = dt.timedelta(minutes=10)
BUILD_COMMAND = "make pipeline"

# The columns the pages rely on, per mart (the marts' dbt contracts, dbt/models/marts/_marts.yml). A warehouse
# whose marts lack any of them is reported as out of date (rebuild it) instead of failing inside a query.
MART_COLUMNS: dict[str, frozenset[str]] = {
    "fct_borrower_loans": frozenset(
        "loan_id borrower_id grade status term_months purpose amount_cents interest_paid_cents vintage_date "
        "probability_of_default is_charged_off disbursed_at next_due_date days_past_due "
        "outstanding_principal_cents".split()
    ),
    "fct_loan_schedule": frozenset(
        "loan_id installment_number due_date payment_cents paid_principal_cents paid_interest_cents is_paid".split()
    ),
    "fct_investor_portfolios": frozenset(
        "investor_id user_id cash_cents committed_cents outstanding_principal_cents interest_received_cents "
        "principal_received_cents portfolio_value_cents".split()
    ),
    "fct_investor_notes": frozenset(
        "investment_id investor_id loan_id grade interest_rate loan_status amount_cents principal_received_cents "
        "interest_received_cents outstanding_principal_cents invested_at".split()
    ),
    "fct_investor_nar": frozenset("investor_id net_return_cents principal_months_cents net_annualized_return".split()),
    "fct_platform_kpis_monthly": frozenset(
        "month_date loans_listed loans_funded funded_volume_cents originations_count originations_cents "
        "fee_revenue_cents active_investors active_loans outstanding_principal_cents charged_off_principal_cents "
        "loss_rate".split()
    ),
    "fct_cash_flows_monthly": frozenset("month_date deposits_cents withdrawals_cents repayments_cents".split()),
    "fct_loan_funding": frozenset(
        "loan_id grade listed_month_date is_fully_funded minutes_to_fund funded_first_day_share amount_cents "
        "investors_count".split()
    ),
    "fct_loan_states_monthly": frozenset(
        "month_date grade loan_state loans_count outstanding_principal_cents charged_off_principal_cents".split()
    ),
    "fct_roll_rates": frozenset("from_month_date from_state to_state loans_count roll_rate".split()),
    "fct_vintage_curves": frozenset(
        "vintage_date grade months_on_book loans_count cumulative_defaults_count cumulative_charged_off_cents "
        "originated_cents delinquent_30_plus_count".split()
    ),
    "fct_model_monitoring": frozenset(
        "vintage_date grade loans_count outcomes_count defaults_count predicted_default_rate "
        "predicted_default_rate_with_outcome realised_default_rate".split()
    ),
    "fct_ledger_account_balances": frozenset(
        "account_id account_type balance_cents posted_balance_cents natural_balance_cents".split()
    ),
    "fct_model_input_bins": frozenset(
        "score_model_version application_month_date input_name bin_index applications_count".split()
    ),
}
STAGING_COLUMNS: dict[str, frozenset[str]] = {
    "stg_payment_distributions": frozenset(
        "payment_id investment_id investor_id principal_cents interest_cents".split()
    ),
    "stg_payments": frozenset("payment_id payment_date".split()),
    "stg_cash_transfers": frozenset("user_id direction amount_cents created_at".split()),
}


# ---------------------------------------------------------------------------------------------------- scopes


class BorrowerScope(NamedTuple):
    """The signed-in borrower (``users.user_id``, which the marts call ``borrower_id``)."""

    user_id: int


class InvestorScope(NamedTuple):
    """The signed-in investor: their investor account and their user."""

    investor_id: int
    user_id: int


class StaffScope(NamedTuple):
    """A signed-in admin or analyst."""

    user_id: int
    role: Literal["admin", "analyst"]


def _investor(scope: InvestorScope) -> int:
    if not isinstance(scope, InvestorScope):
        raise TypeError("investor queries take the session's InvestorScope")
    return int(scope.investor_id)


def _staff(scope: StaffScope) -> None:
    if not isinstance(scope, StaffScope) or scope.role not in ("admin", "analyst"):
        raise PermissionError("platform queries are for staff")


# ------------------------------------------------------------------------------------------------- plumbing


class Warehouse(NamedTuple):
    """Which warehouse file to read, and which snapshot of it: the first key of every cache."""

    path: str
    version: int  # st_mtime_ns, or -1 when the file does not exist
    inode: int = 0


class WarehouseProblem(NamedTuple):
    """Why the pages cannot show the warehouse; ``kind`` picks the message shown to the user."""

    kind: Literal["missing", "empty", "incomplete", "busy", "unreadable"]
    detail: str = ""


def _table(name: str, schema: str | None = None) -> str:
    # Identifiers cannot be bound parameters; both parts are constants of this module, never user input.
    return f'"{schema or MARTS_SCHEMA}"."{name}"'


def _staging(name: str) -> str:
    return _table(name, STAGING_SCHEMA)


def current_warehouse() -> Warehouse:
    """The warehouse named by the settings (``PEERLEND_WAREHOUSE_PATH``), stamped with its snapshot."""
    path = Path(get_settings().warehouse_path)
    try:
        stat = path.stat()
    except OSError:
        return Warehouse(str(path), -1, 0)
    return Warehouse(str(path), stat.st_mtime_ns, stat.st_ino)


_connections_lock = threading.Lock()
_connections: dict[str, tuple[Warehouse, duckdb.DuckDBPyConnection]] = {}
_retired: dict[str, duckdb.DuckDBPyConnection] = {}


def _connection(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    with _connections_lock:
        held = _connections.get(wh.path)
        if held is not None and held[0] == wh:
            return held[1]
        settings = get_dashboard_settings()
        con = duckdb.connect(
            wh.path,
            read_only=True,
            config={"threads": settings.warehouse_threads, "memory_limit": settings.warehouse_memory_limit},
        )
        if held is not None:
            older = _retired.pop(wh.path, None)
            if older is not None:
                older.close()
            _retired[wh.path] = held[1]
        _connections[wh.path] = (wh, con)
        return con


def close_connections() -> None:
    """Close every held connection (tests that delete or rewrite a file, and interpreter shutdown)."""
    with _connections_lock:
        for _, con in _connections.values():
            con.close()
        for con in _retired.values():
            con.close()
        _connections.clear()
        _retired.clear()


def _fetch(wh: Warehouse, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run one query on a cursor of the snapshot's connection; keep DECIMALs as ``Decimal``."""
    cursor = _connection(wh).cursor()
    try:
        cursor.execute(sql, list(params))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def _one(df: pd.DataFrame) -> dict[str, Any] | None:
    return None if df.empty else df.iloc[0].to_dict()


def _dates(start: dt.date | None, end: dt.date | None) -> list[Any]:
    return [start or dt.date(1900, 1, 1), end or dt.date(2999, 12, 31)]


def _grades_in_period(
    date_column: str, grades: tuple[str, ...], start: dt.date | None, end: dt.date | None
) -> tuple[str, list[Any]]:
    """The staff pages' one filter, as a WHERE clause and its parameters: the chosen grades (none = all) and a
    date range on ``date_column`` (a mart's own column name, never user input)."""
    clause = f"(len(?::varchar[]) = 0 or list_contains(?::varchar[], grade)) and {date_column} between ? and ?"
    return clause, [list(grades), list(grades), *_dates(start, end)]


# ---------------------------------------------------------------------------------------------- the warehouse


@st.cache_data(ttl=TTL, show_spinner=False)
def missing_columns(wh: Warehouse) -> dict[str, list[str]]:
    """Per table, the contract columns the file lacks (every column when the table itself is absent)."""
    df = _fetch(
        wh,
        "select table_schema, table_name, column_name from information_schema.columns where table_schema in (?, ?)",
        [MARTS_SCHEMA, STAGING_SCHEMA],
    )
    present: dict[str, set[str]] = {}
    for table, column in zip(df["table_name"], df["column_name"], strict=True):
        present.setdefault(table, set()).add(column)
    wanted = {**MART_COLUMNS, **STAGING_COLUMNS}
    return {
        table: sorted(columns - present.get(table, set()))
        for table, columns in wanted.items()
        if columns - present.get(table, set())
    }


def check_warehouse(wh: Warehouse) -> WarehouseProblem | None:
    """``None`` when every table is there with its columns; otherwise what is wrong. Never raises."""
    path = Path(wh.path)
    if not path.is_file():
        return WarehouseProblem("missing")
    if path.stat().st_size == 0:
        return WarehouseProblem("empty")
    try:
        missing = missing_columns(wh)
    except duckdb.Error as exc:  # a writer holds the lock, or the file is not a DuckDB database
        text = str(exc)
        return WarehouseProblem("busy" if "lock" in text.lower() else "unreadable", text)
    wanted = {**MART_COLUMNS, **STAGING_COLUMNS}
    if len(missing) == len(wanted) and all(len(missing[t]) == len(wanted[t]) for t in missing):
        return WarehouseProblem("empty")
    if missing:
        return WarehouseProblem(
            "incomplete", "; ".join(f"{table}: {', '.join(cols)}" for table, cols in sorted(missing.items()))
        )
    return None


@st.cache_data(ttl=TTL, show_spinner=False)
def as_of(wh: Warehouse) -> dt.date | None:
    """The platform day the snapshot was extracted on (the pipeline's ``raw.extract_as_of``), when recorded."""
    try:
        df = _fetch(wh, 'select max(as_of_date) as day from "raw"."extract_as_of"')
    except duckdb.Error:
        return None
    value = df["day"].iloc[0] if not df.empty else None
    return value if isinstance(value, dt.date) else None


# ------------------------------------------------------------------------------------------------- investors

NOTE_COLUMNS = """
    n.investment_id, n.loan_id, n.grade, n.interest_rate, n.loan_status, n.invested_at,
    n.amount_cents, n.amount, n.principal_received_cents, n.principal_received,
    n.interest_received_cents, n.interest_received, n.outstanding_principal_cents, n.outstanding_principal,
    l.term_months, l.purpose, l.vintage_date, l.next_due_date, l.days_past_due
"""


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_summary(wh: Warehouse, scope: InvestorScope) -> dict[str, Any] | None:
    """The investor's row of ``fct_investor_portfolios`` (balances from the ledger), or ``None``."""
    return _one(
        _fetch(wh, f"select * from {_table('fct_investor_portfolios')} where investor_id = ?", [_investor(scope)])
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_notes(
    wh: Warehouse,
    scope: InvestorScope,
    grades: tuple[str, ...] = (),
    phases: tuple[str, ...] = (),
    invested_from: dt.date | None = None,
    invested_to: dt.date | None = None,
) -> pd.DataFrame:
    """The investor's notes with their loan's term, purpose and vintage, newest first, filtered.

    ``phases`` are :mod:`dashboards.statuses` phases (committed, performing, late, ...), turned into the loan
    statuses of either status vocabulary. Filters are bound parameters; the investor id always is.
    """
    statuses_wanted = sorted({s for p in phases for s in statuses.PHASE_STATUSES.get(p, ())})
    return _fetch(
        wh,
        f"""
        select {NOTE_COLUMNS}
        from {_table("fct_investor_notes")} n
        left join {_table("fct_borrower_loans")} l on l.loan_id = n.loan_id
        where n.investor_id = ?
          and (len(?::varchar[]) = 0 or list_contains(?::varchar[], n.grade))
          and (len(?::varchar[]) = 0 or list_contains(?::varchar[], n.loan_status))
          and cast(n.invested_at as date) between ? and ?
        order by n.invested_at desc, n.investment_id desc
        """,
        [
            _investor(scope),
            list(grades),
            list(grades),
            statuses_wanted,
            statuses_wanted,
            *_dates(invested_from, invested_to),
        ],
    )


ALLOCATION_DIMENSIONS: dict[str, str] = {"grade": "n.grade", "term": "l.term_months", "purpose": "l.purpose"}


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_allocation(wh: Warehouse, scope: InvestorScope, by: str) -> pd.DataFrame:
    """Outstanding principal of the investor's notes in loans being repaid, by grade, term or purpose."""
    if by not in ALLOCATION_DIMENSIONS:
        raise ValueError(f"allocation is by one of {sorted(ALLOCATION_DIMENSIONS)}, not {by!r}")
    column = ALLOCATION_DIMENSIONS[by]  # a constant of this module, never user input
    return _fetch(
        wh,
        f"""
        select
            cast({column} as varchar) as bucket,
            count(*) as notes_count,
            sum(n.outstanding_principal_cents) as outstanding_principal_cents,
            sum(n.outstanding_principal) as outstanding_principal
        from {_table("fct_investor_notes")} n
        left join {_table("fct_borrower_loans")} l on l.loan_id = n.loan_id
        where n.investor_id = ? and n.outstanding_principal_cents > 0
        group by 1
        order by {"min(l.term_months)" if by == "term" else "1"}
        """,
        [_investor(scope)],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_cash_flows(wh: Warehouse, scope: InvestorScope) -> pd.DataFrame:
    """Per month: principal and interest received (past), and scheduled on the loans still being repaid
    (projected), for the investor's notes.

    Past flows are the API's stored payment distributions (``staging.stg_payment_distributions``, one row per
    note per payment). The mart ``fct_note_cash_flows`` holds the same rows but is a view that re-derives every
    split of every loan on each read (14-24 s at 300,000 loans, whatever the filter), so it cannot serve a page;
    the stored rows are reconciled with it to the cent by the pipeline's tests.

    Projected flows: each unpaid installment of a loan in repayment, times the note's share of the loan's
    outstanding principal (the API splits payments pro rata to it), in whole cents rounded down. It assumes the
    schedule is kept: no prepayment, no late payment.
    """
    investor = _investor(scope)
    performing = sorted(statuses.PHASE_STATUSES["performing"] | statuses.PHASE_STATUSES["late"])
    return _fetch(
        wh,
        f"""
        with past as (
            select
                cast(date_trunc('month', p.payment_date) as date) as month_date,
                sum(d.principal_cents) as principal_cents,
                sum(d.interest_cents) as interest_cents
            from {_staging("stg_payment_distributions")} d
            join {_staging("stg_payments")} p on p.payment_id = d.payment_id
            where d.investor_id = ?
            group by 1
        ),
        notes as (
            select n.loan_id, n.outstanding_principal_cents as note_cents, l.outstanding_principal_cents as loan_cents
            from {_table("fct_investor_notes")} n
            join {_table("fct_borrower_loans")} l on l.loan_id = n.loan_id
            where n.investor_id = ? and n.outstanding_principal_cents > 0 and l.outstanding_principal_cents > 0
              and list_contains(?::varchar[], l.status)
        ),
        projected as (
            select
                cast(date_trunc('month', s.due_date) as date) as month_date,
                sum((s.principal_cents - s.paid_principal_cents) * notes.note_cents // notes.loan_cents)
                    as principal_cents,
                sum((s.interest_cents - s.paid_interest_cents) * notes.note_cents // notes.loan_cents)
                    as interest_cents
            from {_table("fct_loan_schedule")} s
            join notes on notes.loan_id = s.loan_id
            where not s.is_paid
            group by 1
        )
        select month_date, 'received' as kind, principal_cents, interest_cents from past
        union all
        select month_date, 'projected' as kind, principal_cents, interest_cents from projected
        order by month_date, kind
        """,
        [investor, investor, performing],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_nar_vs_platform(wh: Warehouse, scope: InvestorScope) -> dict[str, Any]:
    """The investor's net annualised return (``fct_investor_nar``) next to the platform's for the same grades.

    The platform's return per grade uses LendingClub's formula over every loan of the grade: (interest paid -
    principal charged off) / principal-months, principal-months being each month's opening outstanding principal
    (the previous month's end, plus what was disbursed in the month: ``fct_loan_states_monthly``). The benchmark
    weights those monthly returns by the investor's own mix (the amount of their notes in disbursed loans, per
    grade) and annualises: (1 + sum w_g r_g) ^ 12 - 1. Returns ``{"investor": row|None, "grades": DataFrame}``.
    """
    investor = _investor(scope)
    own = _one(_fetch(wh, f"select * from {_table('fct_investor_nar')} where investor_id = ?", [investor]))
    grades = _fetch(
        wh,
        f"""
        with mix as (
            select grade, sum(amount_cents) as amount_cents
            from {_table("fct_investor_notes")}
            where investor_id = ? and (outstanding_principal_cents > 0 or principal_received_cents > 0)
            group by grade
        ),
        months as (
            select grade, month_date, sum(outstanding_principal_cents) as outstanding_cents,
                   sum(charged_off_principal_cents) as charged_off_cents
            from {_table("fct_loan_states_monthly")}
            group by grade, month_date
        ),
        months_by_grade as (
            select grade,
                   sum(outstanding_cents) - coalesce(arg_max(outstanding_cents, month_date), 0) as carried_cents,
                   sum(charged_off_cents) as charged_off_cents
            from months group by grade
        ),
        loans as (
            select grade, sum(amount_cents) filter (where disbursed_at is not null) as disbursed_cents,
                   sum(interest_paid_cents) as interest_cents
            from {_table("fct_borrower_loans")}
            group by grade
        ),
        platform as (
            select loans.grade,
                   loans.interest_cents - coalesce(m.charged_off_cents, 0) as net_cents,
                   coalesce(m.carried_cents, 0) + coalesce(loans.disbursed_cents, 0) as principal_months_cents
            from loans left join months_by_grade m on m.grade = loans.grade
        )
        select
            mix.grade,
            mix.amount_cents,
            mix.amount_cents / sum(mix.amount_cents) over () as weight,
            platform.net_cents,
            platform.principal_months_cents,
            case when platform.principal_months_cents > 0
                 then platform.net_cents / platform.principal_months_cents end as monthly_return,
            case when platform.principal_months_cents > 0
                 then power(1 + platform.net_cents / platform.principal_months_cents, 12) - 1 end as platform_nar
        from mix left join platform on platform.grade = mix.grade
        order by mix.grade
        """,
        [investor],
    )
    return {"investor": own, "grades": grades}


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_month_activity(wh: Warehouse, scope: InvestorScope, month: dt.date) -> pd.DataFrame:
    """One month of the investor's activity as the warehouse saw it: deposits and withdrawals, notes bought,
    principal and interest received. For the CSV export next to the API's statements."""
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return _fetch(
        wh,
        f"""
        select cast(created_at as date) as day, direction as activity, null::bigint as loan_id,
               amount_cents, 0::bigint as interest_cents
        from {_staging("stg_cash_transfers")}
        where user_id = ? and created_at >= ? and created_at < ?
        union all
        select cast(invested_at as date), 'note bought', loan_id, amount_cents, 0
        from {_table("fct_investor_notes")}
        where investor_id = ? and invested_at >= ? and invested_at < ?
        union all
        select p.payment_date, 'repayment received', p.loan_id, d.principal_cents, d.interest_cents
        from {_staging("stg_payment_distributions")} d join {_staging("stg_payments")} p using (payment_id)
        where d.investor_id = ? and p.payment_date >= ? and p.payment_date < ?
        order by 1, 2
        """,
        [scope.user_id, start, end, _investor(scope), start, end, _investor(scope), start, end],
    )


# -------------------------------------------------------------------------------------------------- platform


@st.cache_data(ttl=TTL, show_spinner=False)
def platform_months(wh: Warehouse, staff_scope: StaffScope) -> pd.DataFrame:
    """Every month of ``fct_platform_kpis_monthly`` with the month's deposits and withdrawals."""
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        select k.*,
               coalesce(c.deposits_cents, 0) as deposits_cents,
               coalesce(c.withdrawals_cents, 0) as withdrawals_cents,
               coalesce(c.repayments_cents, 0) as repayments_cents
        from {_table("fct_platform_kpis_monthly")} k
        left join {_table("fct_cash_flows_monthly")} c using (month_date)
        order by k.month_date
        """,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def funding_velocity(
    wh: Warehouse,
    staff_scope: StaffScope,
    grades: tuple[str, ...] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Per listing month and grade: loans listed, share fully funded, median hours to fund, share of the amount
    funded within a day, investors per loan."""
    _staff(staff_scope)
    where, params = _grades_in_period("listed_month_date", grades, start, end)
    return _fetch(
        wh,
        f"""
        select listed_month_date as month_date, grade,
               count(*) as loans_count,
               count(*) filter (where is_fully_funded) as funded_count,
               median(minutes_to_fund) / 60.0 as median_hours_to_fund,
               avg(funded_first_day_share) as first_day_share,
               avg(investors_count) as investors_per_loan
        from {_table("fct_loan_funding")}
        where {where}
        group by 1, 2
        order by 1, 2
        """,
        params,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def loan_states(
    wh: Warehouse,
    staff_scope: StaffScope,
    grades: tuple[str, ...] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Per month and state (current, dpd buckets, repaid, charged off): loans and outstanding principal."""
    _staff(staff_scope)
    where, params = _grades_in_period("month_date", grades, start, end)
    return _fetch(
        wh,
        f"""
        select month_date, loan_state, sum(loans_count) as loans_count,
               sum(outstanding_principal_cents) as outstanding_principal_cents,
               sum(charged_off_principal_cents) as charged_off_principal_cents
        from {_table("fct_loan_states_monthly")}
        where {where}
        group by 1, 2
        order by 1, 2
        """,
        params,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def roll_rates(wh: Warehouse, staff_scope: StaffScope, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Roll rates pooled over the months in range: of the loans in a state at a month's end, the share in each
    state a month later (by count)."""
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        with moves as (
            select from_state, to_state, sum(loans_count) as loans_count
            from {_table("fct_roll_rates")}
            where from_month_date between ? and ?
            group by 1, 2
        )
        select from_state, to_state, loans_count,
               loans_count / sum(loans_count) over (partition by from_state) as roll_rate
        from moves
        order by 1, 2
        """,
        _dates(start, end),
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def vintage_curves(
    wh: Warehouse,
    staff_scope: StaffScope,
    grades: tuple[str, ...] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Per grade and month on book, over the vintages in range: the cumulative share of loans charged off and of
    principal lost, pooled across vintages (a vintage counts at an age only once it has reached it)."""
    _staff(staff_scope)
    where, params = _grades_in_period("vintage_date", grades, start, end)
    return _fetch(
        wh,
        f"""
        select grade, months_on_book,
               count(*) as vintages_count,
               sum(loans_count) as loans_count,
               sum(cumulative_defaults_count) / sum(loans_count) as cumulative_default_rate,
               sum(cumulative_charged_off_cents) / nullif(sum(originated_cents), 0) as cumulative_loss_rate,
               sum(delinquent_30_plus_count) / sum(loans_count) as delinquent_30_plus_share
        from {_table("fct_vintage_curves")}
        where {where}
        group by 1, 2
        order by 1, 2
        """,
        params,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def calibration(wh: Warehouse, staff_scope: StaffScope) -> pd.DataFrame:
    """Predicted against realised default rate per grade, over loans with an outcome (repaid or charged off)."""
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        select grade, sum(loans_count) as loans_count, sum(outcomes_count) as outcomes_count,
               sum(defaults_count) as defaults_count,
               sum(predicted_default_rate * loans_count) / nullif(sum(loans_count), 0) as predicted_default_rate,
               sum(expected_defaults) / nullif(sum(outcomes_count), 0) as predicted_with_outcome,
               sum(defaults_count) / nullif(sum(outcomes_count), 0) as realised_default_rate
        from {_table("fct_model_monitoring")}
        group by grade
        order by grade
        """,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def model_input_bins(wh: Warehouse, staff_scope: StaffScope, version: str) -> pd.DataFrame:
    """Applications per reference bin of every model input, over the applications ``version`` scored (the bins
    of one version compare only with that version's training reference)."""
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        select input_name, bin_index, sum(applications_count) as applications_count
        from {_table("fct_model_input_bins")}
        where score_model_version = ?
        group by 1, 2
        order by 1, 2
        """,
        [version],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def model_by_vintage(wh: Warehouse, staff_scope: StaffScope) -> pd.DataFrame:
    """Per vintage: AUC of the probability of default over loans with an outcome, mean PD, and the grade mix's
    drift from the first vintages (population stability index).

    AUC is Mann-Whitney's: the chance that a charged-off loan had a higher PD than a repaid one, from average
    ranks (ties share their rank); ``NULL`` until a vintage has both outcomes. PSI compares each vintage's grade
    shares q with the reference (the first three vintages pooled) p: sum (q - p) ln(q / p), shares floored at
    0.0001 so an empty grade does not divide by zero; above 0.25 is usually read as a shift.
    """
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        with loans as (
            select vintage_date, grade, probability_of_default as pd,
                   case when is_charged_off then 1 when status = 'repaid' then 0 end as defaulted
            from {_table("fct_borrower_loans")}
            where vintage_date is not null
        ),
        ranked as (
            select vintage_date, defaulted,
                   rank() over w + (count(*) over (partition by vintage_date, pd) - 1) / 2.0 as avg_rank
            from loans where defaulted is not null
            window w as (partition by vintage_date order by pd)
        ),
        auc as (
            select vintage_date,
                   count(*) filter (where defaulted = 1) as defaults_count,
                   count(*) filter (where defaulted = 0) as repaid_count,
                   (sum(avg_rank) filter (where defaulted = 1)
                     - count(*) filter (where defaulted = 1) * (count(*) filter (where defaulted = 1) + 1) / 2.0)
                   / nullif(count(*) filter (where defaulted = 1) * count(*) filter (where defaulted = 0), 0) as auc
            from ranked group by vintage_date
        ),
        vintages as (
            select vintage_date, count(*) as loans_count, avg(pd) as mean_pd,
                   dense_rank() over (order by vintage_date) as vintage_number
            from loans group by vintage_date
        ),
        shares as (
            select v.vintage_date, g.grade,
                   greatest(count(l.grade) / any_value(v.loans_count), 0.0001) as share
            from vintages v
            cross join (select distinct grade from loans) g
            left join loans l on l.vintage_date = v.vintage_date and l.grade = g.grade
            group by v.vintage_date, g.grade
        ),
        first_vintages as (
            select l.grade from loans l join vintages v using (vintage_date) where v.vintage_number <= 3
        ),
        reference as (
            select g.grade,
                   greatest(count(f.grade) / (select count(*) from first_vintages), 0.0001) as share
            from (select distinct grade from loans) g
            left join first_vintages f using (grade)
            group by g.grade
        ),
        psi as (
            select s.vintage_date, sum((s.share - r.share) * ln(s.share / r.share)) as grade_psi
            from shares s join reference r using (grade)
            group by 1
        )
        select v.vintage_date, v.loans_count, v.mean_pd, a.defaults_count, a.repaid_count, a.auc, psi.grade_psi
        from vintages v
        left join auc a using (vintage_date)
        left join psi using (vintage_date)
        order by v.vintage_date
        """,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def ledger_reconciliation(wh: Warehouse, staff_scope: StaffScope) -> pd.DataFrame:
    """Per ledger account type: accounts, balances, and accounts whose stored balance differs from the sum of
    their postings (must be none); the last row's debit-positive balances must sum to zero."""
    _staff(staff_scope)
    return _fetch(
        wh,
        f"""
        select account_type,
               count(*) as accounts_count,
               count(*) filter (where balance_cents <> posted_balance_cents) as mismatched_count,
               sum(balance_cents) as balance_cents,
               sum(natural_balance_cents) as natural_balance_cents
        from {_table("fct_ledger_account_balances")}
        group by account_type
        order by account_type
        """,
    )
