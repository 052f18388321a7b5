"""Every SQL statement the dashboards run, each behind ``@st.cache_data``.

Reads only the dbt marts (``fct_*``) in the DuckDB warehouse the pipeline writes.

Connections. Each query opens its own ``read_only=True`` connection and closes it before returning, instead of
holding one in ``@st.cache_resource``. DuckDB allows one writing *process* per file, and a process that keeps
even a read-only connection open holds a lock that makes the pipeline's writer fail ("Could not set lock on
file") for as long as the dashboard server runs. Opening a connection costs ~15 ms and the results are cached,
so the pipeline can rebuild the file while the dashboards are up.

Caching. Every cached function takes the :class:`Warehouse` as its first argument: its path and the file's
modification time are part of the cache key, so a rebuilt warehouse is read at once and the TTL only bounds
memory.

Parameters. User-chosen values (a borrower, an investor, a loan) are always bound parameters (``?``), never
spliced into SQL, so the authentication layer can later pin ``borrower_id`` / ``investor_id`` to the caller
without touching the SQL.

Money. DuckDB's ``.df()`` turns DECIMAL into float64, so results are fetched as Python objects: DECIMAL
columns arrive as ``Decimal``, ``*_cents`` as ``int``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import duckdb
import pandas as pd
import streamlit as st

from api.settings import get_settings

# dbt-duckdb builds the marts in the target's schema; change it here and nowhere else.
MARTS_SCHEMA = "marts"
TTL = dt.timedelta(minutes=10)
BUILD_COMMAND = "make pipeline"

# The columns the dashboards rely on, per mart: the marts' dbt contract. A warehouse whose marts lack any of
# them is reported as out of date (rebuild it) instead of failing inside a query.
_MONEY = {
    "fct_borrower_loans": [
        "amount",
        "funded_amount",
        "monthly_payment",
        "principal_repaid",
        "interest_paid",
        "outstanding_principal",
    ],
    "fct_loan_schedule": [
        "payment",
        "principal",
        "interest",
        "balance_after",
        "paid_principal",
        "paid_interest",
    ],
    "fct_investor_portfolios": [
        "cash",
        "committed",
        "outstanding_principal",
        "principal_received",
        "interest_received",
        "total_invested",
        "portfolio_value",
    ],
    "fct_investor_notes": ["amount", "principal_received", "interest_received", "outstanding_principal"],
    "fct_platform_kpis_daily": [
        "originations",
        "repayments",
        "interest_paid",
        "deposits",
        "outstanding_principal",
        "cumulative_originations",
    ],
}
_OTHER = {
    "fct_borrower_loans": [
        "loan_id",
        "borrower_id",
        "borrower_username",
        "purpose",
        "grade",
        "status",
        "interest_rate",
        "term_months",
        "payments_count",
        "next_due_date",
        "created_at",
        "disbursed_at",
    ],
    "fct_loan_schedule": ["loan_id", "borrower_id", "installment_number", "due_date", "is_paid"],
    "fct_investor_portfolios": ["investor_id", "user_id", "username", "notes_count", "loans_count"],
    "fct_investor_notes": [
        "investment_id",
        "investor_id",
        "loan_id",
        "grade",
        "interest_rate",
        "loan_status",
        "invested_at",
    ],
    "fct_platform_kpis_daily": ["activity_date", "loans_listed", "loans_funded", "active_investors"],
}
MART_COLUMNS: dict[str, frozenset[str]] = {
    mart: frozenset(_OTHER[mart] + _MONEY[mart] + [f"{m}_cents" for m in _MONEY[mart]]) for mart in _MONEY
}

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")


class Warehouse(NamedTuple):
    """Which warehouse file to read, and which version of it (its mtime): the first key of every cache."""

    path: str
    version: int


class WarehouseProblem(NamedTuple):
    """Why the dashboards cannot show the warehouse; ``kind`` picks the message shown to the user."""

    kind: Literal["missing", "empty", "incomplete", "busy", "unreadable"]
    detail: str = ""


def _table(mart: str) -> str:
    # Identifiers cannot be bound parameters; both parts are constants of this module, never user input.
    return f'"{MARTS_SCHEMA}"."{mart}"'


def current_warehouse() -> Warehouse:
    """The warehouse named by the settings (``PEERLEND_WAREHOUSE_PATH``), stamped with its mtime."""
    path = Path(get_settings().warehouse_path)
    try:
        version = path.stat().st_mtime_ns
    except OSError:
        version = -1
    return Warehouse(str(path), version)


def _fetch(wh: Warehouse, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run one query on a short-lived read-only connection; keep DECIMALs as ``Decimal``."""
    con = duckdb.connect(wh.path, read_only=True)
    try:
        cursor = con.execute(sql, list(params))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def _one(df: pd.DataFrame) -> dict[str, Any] | None:
    return None if df.empty else df.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------- the warehouse


@st.cache_data(ttl=TTL, show_spinner=False)
def missing_columns(wh: Warehouse) -> dict[str, list[str]]:
    """Per mart, the contract columns the file lacks (every column when the mart itself is absent)."""
    df = _fetch(
        wh,
        "select table_name, column_name from information_schema.columns where table_schema = ?",
        [MARTS_SCHEMA],
    )
    present: dict[str, set[str]] = {}
    for table, column in zip(df["table_name"], df["column_name"], strict=True):
        present.setdefault(table, set()).add(column)
    return {
        mart: sorted(columns - present.get(mart, set()))
        for mart, columns in MART_COLUMNS.items()
        if columns - present.get(mart, set())
    }


def check_warehouse(wh: Warehouse) -> WarehouseProblem | None:
    """``None`` when every mart is there with its columns; otherwise what is wrong. Never raises."""
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
    if len(missing) == len(MART_COLUMNS) and all(len(missing[m]) == len(MART_COLUMNS[m]) for m in missing):
        return WarehouseProblem("empty")
    if missing:
        return WarehouseProblem(
            "incomplete", "; ".join(f"{mart}: {', '.join(cols)}" for mart, cols in sorted(missing.items()))
        )
    return None


# ------------------------------------------------------------------------------------------------- borrowers


@st.cache_data(ttl=TTL, show_spinner=False)
def borrowers(wh: Warehouse) -> pd.DataFrame:
    """Borrowers who have at least one loan: ``borrower_id, borrower_username, loans_count``."""
    return _fetch(
        wh,
        f"""
        select borrower_id, min(borrower_username) as borrower_username, count(*) as loans_count
        from {_table("fct_borrower_loans")}
        group by borrower_id
        order by borrower_username, borrower_id
        """,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def borrower_loans(wh: Warehouse, borrower_id: int) -> pd.DataFrame:
    """One borrower's loans, newest first (every column of ``fct_borrower_loans``)."""
    return _fetch(
        wh,
        f"""
        select *
        from {_table("fct_borrower_loans")}
        where borrower_id = ?
        order by created_at desc, loan_id desc
        """,
        [borrower_id],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def loan_schedule(wh: Warehouse, borrower_id: int, loan_id: int) -> pd.DataFrame:
    """The installments of one of this borrower's loans; empty when the loan is not the borrower's."""
    return _fetch(
        wh,
        f"""
        select *
        from {_table("fct_loan_schedule")}
        where borrower_id = ? and loan_id = ?
        order by installment_number
        """,
        [borrower_id, loan_id],
    )


# ------------------------------------------------------------------------------------------------- investors


@st.cache_data(ttl=TTL, show_spinner=False)
def investors(wh: Warehouse) -> pd.DataFrame:
    """Every investor: ``investor_id, username, notes_count``."""
    return _fetch(
        wh,
        f"""
        select investor_id, username, notes_count
        from {_table("fct_investor_portfolios")}
        order by username, investor_id
        """,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_portfolio(wh: Warehouse, investor_id: int) -> dict[str, Any] | None:
    """The investor's row of ``fct_investor_portfolios`` as a dict, or ``None``."""
    return _one(_fetch(wh, f"select * from {_table('fct_investor_portfolios')} where investor_id = ?", [investor_id]))


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_notes(wh: Warehouse, investor_id: int) -> pd.DataFrame:
    """The investor's notes, newest first."""
    return _fetch(
        wh,
        f"""
        select *
        from {_table("fct_investor_notes")}
        where investor_id = ?
        order by invested_at desc, investment_id desc
        """,
        [investor_id],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def investor_allocation(wh: Warehouse, investor_id: int) -> pd.DataFrame:
    """The investor's notes by loan grade: count, amount invested and outstanding principal."""
    return _fetch(
        wh,
        f"""
        select
            grade,
            count(*) as notes_count,
            sum(amount_cents) as amount_cents,
            sum(amount) as amount,
            sum(outstanding_principal_cents) as outstanding_principal_cents,
            sum(outstanding_principal) as outstanding_principal
        from {_table("fct_investor_notes")}
        where investor_id = ?
        group by grade
        order by grade
        """,
        [investor_id],
    )


# -------------------------------------------------------------------------------------------------- platform


@st.cache_data(ttl=TTL, show_spinner=False)
def platform_summary(wh: Warehouse) -> dict[str, Any] | None:
    """Platform totals: sums over every day, and the stocks (outstanding principal, active investors) as of
    the last day. ``None`` when the KPI mart has no rows."""
    return _one(
        _fetch(
            wh,
            f"""
            with days as (select * from {_table("fct_platform_kpis_daily")}),
            loans as (
                select count(*) as loans_count, count(*) filter (where disbursed_at is not null) as loans_disbursed
                from {_table("fct_borrower_loans")}
            )
            select
                min(activity_date) as first_date,
                max(activity_date) as last_date,
                sum(loans_listed) as loans_listed,
                sum(loans_funded) as loans_funded,
                sum(originations) as originations,
                sum(repayments) as repayments,
                sum(interest_paid) as interest_paid,
                sum(deposits) as deposits,
                arg_max(outstanding_principal, activity_date) as outstanding_principal,
                arg_max(active_investors, activity_date) as active_investors,
                any_value(loans.loans_count) as loans_count,
                any_value(loans.loans_disbursed) as loans_disbursed
            from days cross join loans
            having count(*) > 0
            """,
        )
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def platform_trend(wh: Warehouse, grain: Grain = "day") -> pd.DataFrame:
    """KPIs per day, week or month: flows summed, stocks (outstanding principal, cumulative originations) as
    of the period's last day."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    return _fetch(
        wh,
        f"""
        select
            cast(date_trunc(?, activity_date) as date) as period,
            sum(loans_listed) as loans_listed,
            sum(loans_funded) as loans_funded,
            sum(originations_cents) as originations_cents,
            sum(originations) as originations,
            sum(repayments_cents) as repayments_cents,
            sum(repayments) as repayments,
            sum(interest_paid_cents) as interest_paid_cents,
            sum(interest_paid) as interest_paid,
            arg_max(outstanding_principal_cents, activity_date) as outstanding_principal_cents,
            arg_max(outstanding_principal, activity_date) as outstanding_principal,
            arg_max(cumulative_originations_cents, activity_date) as cumulative_originations_cents,
            max(active_investors) as active_investors
        from {_table("fct_platform_kpis_daily")}
        group by period
        order by period
        """,
        [grain],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def loans_by_status_grade(wh: Warehouse) -> pd.DataFrame:
    """Loan count and amount per (status, grade)."""
    return _fetch(
        wh,
        f"""
        select status, grade, count(*) as loans_count, sum(amount_cents) as amount_cents, sum(amount) as amount
        from {_table("fct_borrower_loans")}
        group by status, grade
        order by status, grade
        """,
    )
