"""End to end: the story's SQLite database -> raw (incremental) -> dbt marts, with every check.

One test drives both runs so that pytest-xdist never runs the (~25 s) pipeline twice in parallel
workers on the same warehouse."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from api import clock
from api.settings import get_settings

# Column names no warehouse relation may have (all schemas). Multi-word patterns match anywhere in the
# name; single words match a whole `_`-separated part, so `ip` flags `client_ip` but not `principal`.
FORBIDDEN_COLUMN_PATTERNS = (
    "legal_name",
    "date_of_birth",
    "birth",
    "address",
    "phone",
    "email",
    "password",
    "token",
    "ip",
    "user_agent",
    "postal_code",
    "employer",
    "annual_income",
    "city",
    "locked_until",
    "failed_login",
)

INVESTOR_COLUMNS = (
    "cash_cents, committed_cents, outstanding_principal_cents, principal_received_cents, "
    "interest_received_cents, total_invested_cents, portfolio_value_cents, notes_count, loans_count"
)


def _materialize_all(today: datetime) -> dg.ExecuteInProcessResult:
    """Materialize everything with the platform's clock at `today` (the age bands are as of then)."""
    from pipelines.definitions import defs

    # An ephemeral instance: the persistent SQLite one under DAGSTER_HOME adds seconds per run and
    # the tests read nothing back from it.
    with dg.DagsterInstance.ephemeral() as instance, clock.frozen_at(today):
        return dg.materialize(
            [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
        )


def _query(sql: str) -> list[tuple]:
    con = duckdb.connect(str(get_settings().warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _loaded(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    """rows_read / rows_inserted / row_count per raw table, from the materialization metadata."""
    out = {}
    for mat in result.asset_materializations_for_node("raw_tables"):
        out[mat.asset_key.path[1]] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _forbidden(column: str) -> bool:
    name = column.lower()
    parts = set(re.split(r"[^a-z0-9]+", name))
    return any((p in name) if "_" in p else (p in parts) for p in FORBIDDEN_COLUMN_PATTERNS)


def _personal_values(profiles: list[dict[str, Any]]) -> list[str]:
    """Every personal string of the story's profiles, and the birthdays in the usual spellings."""
    values = [
        v
        for p in profiles
        for k, v in p.items()
        if isinstance(v, str) and k not in ("country", "employment_status", "housing", "risk_preference")
    ]
    # the surname alone too (first names can coincide with usernames, which are not personal data here)
    values += [p["legal_name"].split()[-1] for p in profiles]
    values += ["bella@example.com", "ivan@example.com"]
    for p in profiles:
        born: date = p["date_of_birth"]
        values += [born.isoformat(), born.strftime("%m/%d/%Y"), born.strftime("%d/%m/%Y"), born.strftime("%Y%m%d")]
    return values


def _assert_no_personal_data(story: Any) -> None:
    """No warehouse column is named like personal data or a secret, and no personal value of the story
    (names, birthdays, address, phone, employer, email) is in any VARCHAR, DATE or TIMESTAMP value."""
    con = duckdb.connect(str(get_settings().warehouse_path), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        schemas = {c[0] for c in columns}
        assert {"raw", "staging", "intermediate", "marts"} <= schemas
        assert not [f"{s}.{t}.{c}" for s, t, c, _ in columns if _forbidden(c)]
        assert not {t for s, t, _, _ in columns if s == "raw"} & {
            "idempotency_keys",
            "email_tokens",
            "auth_sessions",
            "refresh_tokens",
            "audit_log",
        }

        profiles = list(story.profiles.values())
        needles = [v.lower() for v in _personal_values(profiles)]
        birthdays = [p["date_of_birth"] for p in profiles]
        leaks = []
        scanned = 0
        for schema, table, column, data_type in columns:
            ref = f'"{schema}"."{table}"'
            col = f'"{column}"'
            if data_type == "VARCHAR":
                where = " or ".join("contains(lower(" + col + "), ?)" for _ in needles)
                params: list[object] = needles
            elif data_type in ("DATE", "TIMESTAMP"):
                where = " or ".join(f"cast({col} as date) = ?" for _ in birthdays)
                params = birthdays
            else:
                continue
            scanned += 1
            ((n,),) = con.execute(f"select count(*) from {ref} where {where}", params).fetchall()
            if n:
                leaks.append((f"{schema}.{table}.{column}", n))
        assert scanned > 100
        assert not leaks
    finally:
        con.close()


def _assert_all_checks_passed(result: dg.ExecuteInProcessResult) -> None:
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    failed = [(e.asset_key.to_user_string(), e.check_name, e.metadata) for e in evaluations if not e.passed]
    assert not failed
    names = {e.check_name for e in evaluations}
    assert {"matches_source", "ledger_balanced", "reconciles_with_source_ledger"} <= names
    # dbt tests arrive as checks too (unique/not_null/relationships/accepted_values/contracted marts)
    assert len(evaluations) > 150


def test_pipeline_builds_marts_and_loads_incrementally(
    pipeline_env: tuple[Path, Any], add_second_month: Callable[[Any], None]
) -> None:
    root, story = pipeline_env
    assert get_settings().warehouse_path == root / "warehouse.duckdb"

    # ---- first run: everything from scratch
    # the day before the borrower (born 1991-07-15) turns 35
    first = _materialize_all(datetime(2026, 7, 14, 12, tzinfo=UTC))
    _assert_all_checks_passed(first)
    loaded = _loaded(first)
    assert set(loaded) == {
        "users",
        "investors",
        "loans",
        "investments",
        "installments",
        "payments",
        "payment_distributions",
        "cash_transfers",
        "ledger_accounts",
        "ledger_transactions",
        "ledger_entries",
        "notifications",
        "user_profiles",
    }
    assert loaded["ledger_entries"]["load_mode"] == "incremental"
    assert loaded["user_profiles"]["load_mode"] == "full_refresh"
    assert loaded["loans"]["load_mode"] == "full_refresh"

    # personal data stays in the source
    users_columns = {
        r[0]
        for r in _query(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'users'"
        )
    }
    assert users_columns == {"user_id", "username", "role", "verified_at", "created_at"}
    assert not _query("select * from information_schema.tables where table_name = 'idempotency_keys'")
    _assert_no_personal_data(story)
    dim_columns = [r[0] for r in _query("describe marts.dim_borrowers")]
    assert dim_columns == [
        "borrower_id",
        "username",
        "age_band",
        "income_band",
        "employment_status",
        "housing",
        "country",
        "loans_count",
        "borrowed_cents",
        "borrowed",
    ]
    borrowers = {
        r[0]: r[1:] for r in _query(f"select borrower_id, {', '.join(dim_columns[1:])} from marts.dim_borrowers")
    }
    assert {k: tuple(str(v) for v in row) for k, row in borrowers.items()} == {
        story.borrower_id: ("bella", "25-34", "50k-75k", "employed", "rent", "US", "2", "500000", "5000.00"),
        story.profileless_borrower_id: ("bo", "unknown", "unknown", "None", "None", "None", "0", "0", "0.00"),
    }
    profiles = dict(_query("select user_id, age_band || ' / ' || income_band from staging.stg_user_profiles"))
    assert sorted(profiles.values()) == ["25-34 / 50k-75k", "65+ / 150k+"]

    inv1, inv2 = story.investor_ids
    portfolios = {
        r[0]: r[1:]
        for r in _query(f"select investor_id, {INVESTOR_COLUMNS} from marts.fct_investor_portfolios order by 1")
    }
    # ivan: deposited 4,000.00, 3,000.00 into loan 1 (60 %); got 76.27 principal + 15.00 interest back
    assert portfolios[inv1] == (109_127, 0, 292_373, 7_627, 1_500, 300_000, 401_500, 1, 1)
    # iris: deposited 3,000.00, 2,000.00 into loan 1 (40 %), 500.00 committed to the listed loan 2
    assert portfolios[inv2] == (56_084, 50_000, 194_916, 5_084, 1_000, 250_000, 301_000, 2, 2)
    (dollars,) = _query(f"select portfolio_value, cash from marts.fct_investor_portfolios where investor_id = {inv1}")
    assert [str(v) for v in dollars] == ["4015.00", "1091.27"]

    loan = _query(
        "select status, interest_rate, amount_cents, funded_amount_cents, monthly_payment_cents, "
        "principal_repaid_cents, interest_paid_cents, outstanding_principal_cents, payments_count, "
        f"next_due_date from marts.fct_borrower_loans where loan_id = {story.loan_id}"
    )[0]
    assert [str(v) for v in loan] == [
        "active",
        "6.00",
        "500000",
        "500000",
        "15211",
        "12711",
        "2500",
        "487289",
        "1",
        "2026-05-04",
    ]

    schedule = _query(
        "select count(*), sum(principal_cents), count(*) filter (where is_paid) from marts.fct_loan_schedule "
        f"where loan_id = {story.loan_id}"
    )[0]
    assert schedule == (36, 500_000, 1)

    notes = _query(
        "select investment_id, outstanding_principal_cents, interest_received_cents "
        "from marts.fct_investor_notes order by 1"
    )
    assert [n[1:] for n in notes] == [(292_373, 1_500), (194_916, 1_000), (0, 0)]

    kpis = _query(
        "select count(*), min(activity_date)::varchar, max(activity_date)::varchar, "
        "sum(originations_cents), sum(deposits_cents), sum(repayments_cents), sum(loans_listed), "
        "sum(loans_funded) from marts.fct_platform_kpis_daily"
    )[0]
    assert kpis == (35, "2026-03-01", "2026-04-04", 500_000, 700_000, 15_211, 2, 1)
    (last_day,) = _query(
        "select outstanding_principal_cents, cumulative_originations_cents "
        "from marts.fct_platform_kpis_daily order by activity_date desc limit 1"
    )
    assert last_day == (487_289, 500_000)

    # ---- second run: a month later; only the new rows of append-only tables are loaded
    before = dict(
        _query(
            "select 'ledger_entries', count(*) from raw.ledger_entries union all "
            "select 'payments', count(*) from raw.payments"
        )
    )
    add_second_month(story)
    # the borrower's birthday: she is 35 now, and reported a raise (mutable profiles are re-read whole)
    second = _materialize_all(datetime(2026, 7, 15, 12, tzinfo=UTC))
    _assert_all_checks_passed(second)
    loaded = _loaded(second)
    new_rows = {
        "ledger_transactions": 3,
        "ledger_entries": 2 + 9 + 2,
        "payments": 1,
        "payment_distributions": 2,
        "cash_transfers": 1,
        "notifications": 1,
        "investments": 0,
    }
    for table, n in new_rows.items():
        assert loaded[table]["rows_inserted"] == n, table
        # the lookback window re-reads recent ids but never more than the table holds
        assert loaded[table]["rows_read"] <= loaded[table]["row_count"]
    assert _query("select count(*) from raw.ledger_entries")[0][0] == before["ledger_entries"] + 13
    assert _query("select count(*) from raw.payments")[0][0] == before["payments"] + 1
    assert not _query("select entry_id from raw.ledger_entries group by entry_id having count(*) > 1")
    # mutable tables are replaced: installment 2 is now paid
    assert (
        _query(f"select count(*) filter (where is_paid) from marts.fct_loan_schedule where loan_id = {story.loan_id}")[
            0
        ][0]
        == 2
    )

    portfolios = {
        r[0]: r[1:]
        for r in _query(f"select investor_id, {INVESTOR_COLUMNS} from marts.fct_investor_portfolios order by 1")
    }
    assert portfolios[inv1] == (128_254, 0, 284_708, 15_292, 2_962, 300_000, 412_962, 1, 1)
    assert portfolios[inv2] == (62_168, 50_000, 189_806, 10_194, 1_974, 250_000, 301_974, 2, 2)
    (outstanding,) = _query(
        f"select outstanding_principal_cents from marts.fct_borrower_loans where loan_id = {story.loan_id}"
    )[0]
    assert outstanding == 474_514
    assert _query(f"select age_band, income_band from marts.dim_borrowers where borrower_id = {story.borrower_id}") == [
        ("35-44", "75k-100k")
    ]
    _assert_no_personal_data(story)


@pytest.mark.parametrize("bad_entry_cents", [1])
def test_reconciliation_detects_an_unbalanced_source(pipeline_env: tuple[Path, Any], bad_entry_cents: int) -> None:
    """The source-side reading behind `reconciles_with_source_ledger` flags a transaction that does not balance."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from api.db import tables as t
    from pipelines.lib.reconcile import read_source_ledger

    root, story = pipeline_env
    url = f"sqlite:///{root / 'broken.db'}"
    engine = sa.create_engine(url)
    t.Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        s.add(t.LedgerAccount(account_id=1, code="investor_cash:9", account_type="investor_cash", investor_id=None))
        s.add(t.LedgerTransaction(transaction_id=1, kind="deposit", description="broken"))
        s.add(t.LedgerEntry(entry_id=1, transaction_id=1, account_id=1, amount_cents=-bad_entry_cents))
    with engine.connect() as conn:
        ledger = read_source_ledger(conn, max_entry_id=1)
    engine.dispose()
    assert ledger.total_cents == -bad_entry_cents
    assert ledger.unbalanced_transactions == [1]
    assert ledger.investor_balances == {
        9: {
            "cash_cents": bad_entry_cents,
            "committed_cents": 0,
            "outstanding_principal_cents": 0,
            "interest_received_cents": 0,
        }
    }


@pytest.mark.postgres
def test_extract_reads_postgres(tmp_path: Path, story_builder: Callable[[str], Any]) -> None:
    """The same extract code reads PostgreSQL (REPEATABLE READ snapshot, timestamptz -> naive UTC)."""
    import os
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from pipelines.defs.raw.assets import raw_tables
    from pipelines.lib.resources import SourceDatabase, Warehouse

    admin_url = os.environ.get("PEERLEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not admin_url:
        pytest.skip("PEERLEND_TEST_POSTGRES_URL is empty")
    name = f"peerlend_pipelines_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        story = story_builder(url)
        warehouse_path = tmp_path / "pg_warehouse.duckdb"
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize(
                [raw_tables],
                resources={"source": SourceDatabase(url=url), "warehouse": Warehouse(path=str(warehouse_path))},
                instance=instance,
            )
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
        con = duckdb.connect(str(warehouse_path), read_only=True)
        try:
            disbursed_at, column_type = con.execute(
                f"select disbursed_at::varchar, typeof(disbursed_at) from raw.loans where loan_id = {story.loan_id}"
            ).fetchall()[0]
            ((entries, total),) = con.execute("select count(*), sum(amount_cents) from raw.ledger_entries").fetchall()
        finally:
            con.close()
        assert (disbursed_at, column_type) == ("2026-03-04 12:00:00", "TIMESTAMP")
        assert entries > 0 and total == 0
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
