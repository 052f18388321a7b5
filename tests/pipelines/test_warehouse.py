"""End to end: the story's SQLite database (built through the API) -> raw (incremental) -> dbt -> the
published snapshot, with every check.

One test drives the runs in order (first load; a month later, incremental, with an analyst's read-only
session held open on the published file; a rerun with no change) so pytest-xdist never runs the pipeline
twice in parallel on the same warehouse. Expected money figures come from the API's own domain functions
(api.payments.schedule.amortize, api.payments.split.split_pro_rata) through the Story helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from api.kit import clock
from api.payments.schedule import installment_state, is_past_due
from api.settings import get_settings
from pipelines.lib.extract import EXTRACT
from pipelines.lib.publish import retired_dir
from pipelines.lib.resources import default_work_path

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
    "throttle",
)

INVESTOR_COLUMNS = (
    "cash_cents, committed_cents, outstanding_principal_cents, principal_received_cents, "
    "interest_received_cents, total_invested_cents, portfolio_value_cents, notes_count, loans_count"
)
RAW_TABLES = set(EXTRACT)  # every allow-listed table, the marketplace's and servicing's included


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
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("credit_model"),
        )


def published() -> Path:
    return get_settings().warehouse_path


def _query(sql: str, path: Path | None = None) -> list[tuple]:
    con = duckdb.connect(str(path or published()), read_only=True)
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


def relation_fingerprints(path: Path) -> dict[str, str]:
    """An md5 of every relation's full content (rows in a total order), per relation."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') order by 1, 2"
        ).fetchall()
        out = {}
        for schema, name in relations:
            ((digest,),) = con.execute(
                f"select md5(coalesce(string_agg(cast(r as varchar), chr(10) order by cast(r as varchar)), '')) "
                f'from (select * from "{schema}"."{name}") as r'
            ).fetchall()
            out[f"{schema}.{name}"] = digest
        return out
    finally:
        con.close()


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
        if isinstance(v, str)
        and k not in ("country", "employment_status", "housing", "risk_preference", "annual_income")
    ]
    # the surname alone too (first names can coincide with usernames, which are not personal data here)
    values += [p["legal_name"].split()[-1] for p in profiles]
    values += ["bella@example.com", "ivan@example.com"]
    for p in profiles:
        born: date = p["date_of_birth"]
        values += [born.isoformat(), born.strftime("%m/%d/%Y"), born.strftime("%d/%m/%Y"), born.strftime("%Y%m%d")]
    return values


def _assert_no_personal_data(story: Any, path: Path) -> None:
    """No warehouse column is named like personal data or a secret, and no personal value of the story
    (names, birthdays, address, phone, employer, email) is in any VARCHAR, DATE or TIMESTAMP value."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        schemas = {c[0] for c in columns}
        assert {"raw", "staging", "intermediate", "marts", "snapshots"} <= schemas
        assert not [f"{s}.{t}.{c}" for s, t, c, _ in columns if _forbidden(c)]
        assert not {t for s, t, _, _ in columns if s == "raw"} & {
            "idempotency_keys",
            "email_tokens",
            "auth_sessions",
            "refresh_tokens",
            "audit_log",
            "login_throttles",
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
    assert {
        "matches_source",
        "ledger_balanced",
        "balances_match_postings",
        "reconciles_with_source_ledger",
        "balances_match_source",
        "totals_match_source",
        "assert_account_balances_equal_postings",
        "assert_note_cash_flows_match_distributions",
    } <= names
    # dbt tests arrive as checks (unique/relationships/accepted_values/singular), never as observations
    assert len(evaluations) > 150
    observations = [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert not observations, [e.message for e in observations][:5]


def _source_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()) for t in RAW_TABLES}
    finally:
        engine.dispose()


def _servicing_fees(url: str, investment_id: int) -> int:
    """The servicing fee the platform kept from a note's distributions so far (0 before servicing shipped):
    the note's cash is its principal and interest less this."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("payment_distributions")}
            if "servicing_fee_cents" not in columns:
                return 0
            return int(
                conn.execute(
                    sa.text(
                        "select coalesce(sum(servicing_fee_cents), 0) from payment_distributions "
                        "where investment_id = :i"
                    ),
                    {"i": investment_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def first_run(pipeline_env: tuple[Path, Any]) -> dg.ExecuteInProcessResult:
    """The first pipeline run, on the day before the borrower (born 1991-07-15) turns 35."""
    return _materialize_all(datetime(2026, 7, 14, 12, tzinfo=UTC))


def test_pipeline_builds_marts_loads_incrementally_and_publishes(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult, add_second_month: Callable[[Any], None]
) -> None:
    root, story = pipeline_env
    assert published() == root / "warehouse.duckdb"
    work = default_work_path(published())
    assert work == root / "warehouse.work.duckdb"
    schedule = story.schedule()
    first_shares = story.note_shares(1)

    # ---- first run: everything from scratch
    first = first_run
    _assert_all_checks_passed(first)
    loaded = _loaded(first)
    assert set(loaded) == RAW_TABLES
    assert {v["load_mode"] for v in loaded.values()} == {"incremental"}
    assert published().exists() and work.exists()

    # personal data stays in the source
    users_columns = {
        r[0]
        for r in _query(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'users'"
        )
    }
    assert users_columns == {"user_id", "username", "role", "verified_at", "created_at", "updated_at"}
    assert not _query("select * from information_schema.tables where table_name = 'idempotency_keys'")
    _assert_no_personal_data(story, published())
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
        story.profileless_borrower_id: ("bob", "unknown", "unknown", "None", "None", "None", "0", "0", "0.00"),
    }
    profiles = dict(_query("select user_id, age_band || ' / ' || income_band from staging.stg_user_profiles"))
    assert sorted(profiles.values()) == ["25-34 / 50k-75k", "65+ / 150k+"]

    inv1, inv2 = story.investor_ids
    (p1, i1), (p2, i2) = first_shares
    assert p1 + p2 == schedule[0].principal_cents and i1 + i2 == schedule[0].interest_cents
    portfolios = {
        r[0]: r[1:]
        for r in _query(f"select investor_id, {INVESTOR_COLUMNS} from marts.fct_investor_portfolios order by 1")
    }
    # ivan: deposited 4,000.00, 3,000.00 into loan 1 (60 %), got his share of installment 1 back
    fee1, fee2 = (_servicing_fees(story.url, i) for i in story.investment_ids[:2])
    ivan_cash = 400_000 - 300_000 + p1 + i1 - fee1
    assert portfolios[inv1] == (ivan_cash, 0, 300_000 - p1, p1, i1, 300_000, ivan_cash + 300_000 - p1, 1, 1)
    # iris: deposited 3,000.00, 2,000.00 into loan 1 (40 %), 500.00 committed to the listed loan 2
    iris_cash = 300_000 - 200_000 - 50_000 + p2 + i2 - fee2
    assert portfolios[inv2] == (
        iris_cash,
        50_000,
        200_000 - p2,
        p2,
        i2,
        250_000,
        iris_cash + 50_000 + 200_000 - p2,
        2,
        2,
    )

    loan = _query(
        "select status, interest_rate, amount_cents, funded_amount_cents, monthly_payment_cents, "
        "principal_repaid_cents, interest_paid_cents, outstanding_principal_cents, payments_count, "
        f"next_due_date, days_past_due from marts.fct_borrower_loans where loan_id = {story.loan_id}"
    )[0]
    assert [str(v) for v in loan] == [
        "current",
        "6.00",
        "500000",
        "500000",
        str(schedule[0].payment_cents),
        str(schedule[0].principal_cents),
        str(schedule[0].interest_cents),
        str(500_000 - schedule[0].principal_cents),
        "1",
        str(schedule[1].due_date),
        # as of 2026-07-14 installments 2-4 (due 05-03, 06-03, 07-03) are unpaid: 72 days late
        str((date(2026, 7, 14) - schedule[1].due_date).days),
    ]

    rows = _query(
        "select installment_number, due_date, principal_cents, interest_cents, balance_after_cents "
        f"from marts.fct_loan_schedule where loan_id = {story.loan_id} order by 1"
    )
    assert rows == [
        (p.number, p.due_date, p.principal_cents, p.interest_cents, p.balance_after_cents) for p in schedule
    ]

    notes = _query(
        "select investment_id, outstanding_principal_cents, interest_received_cents "
        "from marts.fct_investor_notes order by 1"
    )
    assert [n[1:] for n in notes] == [(300_000 - p1, i1), (200_000 - p2, i2), (0, 0)]
    flows = _query("select investment_id, principal_cents, interest_cents from marts.fct_note_cash_flows order by 1")
    assert flows == [(story.investment_ids[0], p1, i1), (story.investment_ids[1], p2, i2)]

    kpis = _query(
        "select count(*), min(activity_date)::varchar, max(activity_date)::varchar, "
        "sum(originations_cents), sum(deposits_cents), sum(repayments_cents), sum(loans_listed), "
        "sum(loans_funded) from marts.fct_platform_kpis_daily"
    )[0]
    assert kpis == (34, "2026-03-01", "2026-04-03", 500_000, 700_000, schedule[0].payment_cents, 2, 1)
    monthly = _query(
        "select month_date::varchar, originations_count, originations_cents, outstanding_principal_cents "
        "from marts.fct_platform_kpis_monthly order by 1"
    )
    assert monthly[0] == ("2026-03-01", 1, 500_000, 500_000)
    assert monthly[-1][0] == "2026-07-01" and len(monthly) == 5
    states = _query("select month_date::varchar, loan_state, loans_count from marts.fct_loan_states_monthly order by 1")
    assert states == [
        ("2026-03-01", "current", 1),
        ("2026-04-01", "current", 1),  # paid on the due date (04-03): on time
        ("2026-05-01", "dpd_1_30", 1),  # 05-03 unpaid at 05-31: 28 days
        ("2026-06-01", "dpd_31_60", 1),
        ("2026-07-01", "dpd_61_90", 1),
    ]
    history = _query(
        f"select previous_status, status from marts.fct_loan_status_history where loan_id = {story.loan_id} "
        "order by event_id"
    )
    # the lifecycle as the API recorded it (then whatever servicing did to the late loan)
    assert history[:4] == [(None, "requested"), ("requested", "listed"), ("listed", "funded"), ("funded", "current")]
    assert _query("select count(*) from snapshots.snp_loans")[0][0] == 2

    # ---- second run: a month later, with an analyst's read-only session open on the published file
    before = _source_counts(story.url)
    add_second_month(story)
    after = _source_counts(story.url)
    analyst = duckdb.connect(str(published()), read_only=True)
    try:
        old_payments = analyst.execute("select count(*) from marts.fct_borrower_loans").fetchall()
        # the borrower's birthday: she is 35 now, and reported a raise (re-banded, upserted)
        second = _materialize_all(datetime(2026, 7, 15, 12, tzinfo=UTC))
        _assert_all_checks_passed(second)
        # the open session still reads its consistent, older snapshot
        assert analyst.execute("select count(*) from marts.fct_borrower_loans").fetchall() == old_payments
        (old_paid,) = analyst.execute(
            f"select payments_count from marts.fct_borrower_loans where loan_id = {story.loan_id}"
        ).fetchall()[0]
        assert old_paid == 1
    finally:
        analyst.close()
    # the next open sees the new snapshot
    assert _query(f"select payments_count from marts.fct_borrower_loans where loan_id = {story.loan_id}") == [(2,)]

    loaded = _loaded(second)
    for table in RAW_TABLES:
        new_rows = after[table] - before[table]
        assert loaded[table]["rows_inserted"] == new_rows, table
        assert loaded[table]["row_count"] == after[table], table
        # the safety window re-reads recent rows but never more than the table holds
        assert loaded[table]["rows_read"] <= loaded[table]["row_count"], table
    assert loaded["payments"]["rows_inserted"] == 1
    assert loaded["installments"]["rows_updated"] == 1  # installment 2 is now paid
    assert loaded["user_profiles"]["rows_updated"] == 1  # bella's raise and birthday; ivan's bands unchanged
    assert not _query("select entry_id from raw.ledger_entries group by entry_id having count(*) > 1")
    assert (
        _query(f"select count(*) from marts.fct_loan_schedule where is_paid and loan_id = {story.loan_id}")[0][0] == 2
    )

    (p1b, i1b), (p2b, i2b) = story.note_shares(2)
    portfolios = {
        r[0]: r[1:]
        for r in _query(f"select investor_id, {INVESTOR_COLUMNS} from marts.fct_investor_portfolios order by 1")
    }
    fee1b, fee2b = (_servicing_fees(story.url, i) for i in story.investment_ids[:2])
    ivan_cash += p1b + i1b + 10_000 - (fee1b - fee1)
    iris_cash += p2b + i2b - (fee2b - fee2)
    assert portfolios[inv1][:5] == (ivan_cash, 0, 300_000 - p1 - p1b, p1 + p1b, i1 + i1b)
    assert portfolios[inv2][:5] == (iris_cash, 50_000, 200_000 - p2 - p2b, p2 + p2b, i2 + i2b)
    (outstanding,) = _query(
        f"select outstanding_principal_cents from marts.fct_borrower_loans where loan_id = {story.loan_id}"
    )[0]
    assert outstanding == 500_000 - schedule[0].principal_cents - schedule[1].principal_cents
    assert _query(f"select age_band, income_band from marts.dim_borrowers where borrower_id = {story.borrower_id}") == [
        ("35-44", "75k-100k")
    ]
    _assert_no_personal_data(story, published())

    # ---- third run: nothing changed: nothing is written, every relation stays byte-identical
    fingerprints = relation_fingerprints(published())
    # the second run published by renaming its work file into place (no copy); the snapshot it replaced,
    # the one the analyst had open, is retired: the next run with something to build starts from it
    assert not work.exists()
    (retired,) = retired_dir(published()).glob("*.duckdb")
    third = _materialize_all(datetime(2026, 7, 15, 13, tzinfo=UTC))
    _assert_all_checks_passed(third)
    # the extract found the published snapshot current: no work file was made, nothing was written
    assert not work.exists() and retired.exists()
    assert all(v["published_snapshot_current"] is True for v in _loaded(third).values())
    assert all(v["rows_inserted"] == 0 and v["rows_updated"] == 0 for v in _loaded(third).values())
    assert relation_fingerprints(published()) == fingerprints
    assert len(fingerprints) > 50
    # the raw ledger checks are those of the published build, whose raw tables these still are
    held = {
        e.check_name: e.metadata
        for e in third.get_asset_check_evaluations()
        if e.check_name in ("ledger_balanced", "balances_match_postings")
    }
    assert set(held) == {"ledger_balanced", "balances_match_postings"}
    assert all(m["raw_unchanged_since_published_build"].value is True for m in held.values())
    # while the second run, after new rows, computed them
    recomputed = [e for e in second.get_asset_check_evaluations() if e.check_name == "ledger_balanced"]
    assert recomputed and "ledger_total_cents" in recomputed[0].metadata
    # the reconciliation is never carried over: it read the API's database again in this run
    (totals,) = [e for e in third.get_asset_check_evaluations() if e.check_name == "totals_match_source"]
    assert totals.passed and totals.metadata["source_entries"].value == totals.metadata["warehouse_entries"].value > 0
    # the second run was the platform day's first: it checked the whole raw ledger
    assert recomputed[0].metadata["scope"].value == "everything"

    # ---- fourth run, the same day, after one more deposit: its work file is the retired first build, a day
    # and a month behind, brought up to date (for that file it is the day's first run: the raw ledger is
    # checked whole)
    assert _deposit_and_run(story, datetime(2026, 7, 15, 13, 30, tzinfo=UTC)) == "everything"
    assert not retired.exists() and not work.exists()
    assert _query("select count(*) from raw.cash_transfers")[0][0] == _source_counts(story.url)["cash_transfers"]
    assert len(list(retired_dir(published()).glob("*.duckdb"))) == 1  # the second run's build

    # ---- fifth run, the same day, after the borrower's next payment too: its work file is the second run's
    # build, of this day, so the raw ledger checks read only what changed since the published build (the
    # deposit's and the payment's accounts), and the loan and investor marts recompute only the loan and
    # the investors it touched (test_incremental_models_equal_a_full_refresh checks they are still right)
    paid_before = _query(f"select payments_count from marts.fct_borrower_loans where loan_id = {story.loan_id}")
    story.pay_next(datetime(2026, 7, 15, 14, 0, tzinfo=UTC))
    story.move_money(datetime(2026, 7, 15, 14, 5, tzinfo=UTC), settle_all_now=True)
    assert _deposit_and_run(story, datetime(2026, 7, 15, 14, 30, tzinfo=UTC)) == "changed since the published build"
    assert _query(f"select payments_count from marts.fct_borrower_loans where loan_id = {story.loan_id}") == [
        (paid_before[0][0] + 1,)
    ]
    # and the two marts took their narrow path (what changed since the published build), not a rebuild
    from pipelines.defs.warehouse.dbt import dbt_target_path
    from pipelines.lib.resources import Warehouse

    compiled = dbt_target_path(Warehouse()) / "compiled" / "peerlend" / "models" / "marts"
    assert "changed_loans as (" in (compiled / "fct_borrower_loans.sql").read_text()
    assert "changed_investors as (" in (compiled / "fct_investor_portfolios.sql").read_text()
    assert _query("select count(*) from raw.cash_transfers")[0][0] == _source_counts(story.url)["cash_transfers"]
    assert len(list(retired_dir(published()).glob("*.duckdb"))) == 1


def _deposit_and_run(story: Any, at_: datetime) -> str:
    """A $25 deposit by iris, settled, then a run; every check must pass. Returns the raw ledger checks' scope."""
    with story.on(at_) as client:
        story.call(client, "POST", "/investors/me/deposits", "iris", json={"amount": "25.00"})
    story.move_money(at_ + timedelta(minutes=10), settle_all_now=True)
    result = _materialize_all(at_ + timedelta(minutes=30))
    _assert_all_checks_passed(result)
    ledger = {
        e.check_name: e.metadata
        for e in result.get_asset_check_evaluations()
        if e.check_name in ("ledger_balanced", "balances_match_postings")
    }
    (scope,) = {m["scope"].value for m in ledger.values()}
    if scope != "everything":
        accounts = _query("select count(*) from raw.ledger_accounts")[0][0]
        assert 2 <= ledger["balances_match_postings"]["accounts_checked"].value < accounts
    return str(scope)


# The incremental models (each recomputes only what a published build's marks say is new) and the marts
# that read them.
INCREMENTAL_RELATIONS = (
    "intermediate.int_ledger_entries_joined",
    "intermediate.int_ledger_daily",
    "intermediate.int_ledger_monthly",
    "marts.fct_ledger_account_balances",
    "marts.fct_platform_kpis_daily",
    "marts.fct_platform_kpis_monthly",
    "marts.fct_cash_flows_monthly",
    "marts.fct_borrower_loans",
    "marts.fct_investor_portfolios",
)


def test_incremental_models_equal_a_full_refresh(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult
) -> None:
    """After the runs above (a first build, an incremental one a month later that merged only the new postings'
    accounts, days and months, a no-change one), `dbt run --full-refresh` of the incremental models and the
    marts they feed, on a copy of the published warehouse, gives exactly the same rows."""
    import os
    import shutil
    import subprocess

    from pipelines.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable

    root, _ = pipeline_env
    marks = dict(_query("select table_name, max_id from raw._published_marks"))
    assert marks["ledger_entries"] > 0  # the incremental models had a mark to merge from
    scratch = root / "full_refresh.duckdb"
    shutil.copyfile(published(), scratch)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PEERLEND_WAREHOUSE_WORK_PATH": str(scratch)}
    models = [r.split(".")[1] for r in INCREMENTAL_RELATIONS]
    done = subprocess.run(
        [dbt_executable(), "run", "--full-refresh", "--select", *models, "--target-path", str(root / "dbt_fr_target")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    incremental = relation_fingerprints(published())
    refreshed = relation_fingerprints(scratch)
    assert {r: incremental[r] for r in INCREMENTAL_RELATIONS} == {r: refreshed[r] for r in INCREMENTAL_RELATIONS}


def test_installment_state_matches_the_api_on_every_installment(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult
) -> None:
    """dbt's installment state and lateness are the API's functions (api/payments/schedule.py), row by row,
    including on and around the due date (the old model called an installment paid on its due date late)."""
    root, _ = pipeline_env
    rows = _query(
        "select loan_id, installment_number, due_date, principal_cents + interest_cents, "
        "paid_principal_cents + paid_interest_cents, installment_state, is_past_due, days_past_due "
        "from marts.fct_loan_schedule"
    )
    assert len(rows) == 36
    (as_of,) = _query("select max(observed_date) from intermediate.int_loan_month_states")[0]
    for loan_id, number, due, due_cents, paid_cents, state, late, days in rows:
        assert state == installment_state(due_cents, paid_cents), (loan_id, number)
        assert late == is_past_due(due, as_of, due_cents, paid_cents), (loan_id, number)
        assert days == ((as_of - due).days if late else 0)


def test_descriptions_are_persisted_as_comments(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult
) -> None:
    """persist_docs: every model and mart column an analyst reads carries its dbt description in DuckDB."""
    rows = _query(
        "select schema_name, table_name, comment from duckdb_tables() where schema_name in ('marts', 'intermediate', "
        "'snapshots') union all select schema_name, view_name, comment from duckdb_views() "
        "where schema_name in ('marts', 'staging', 'intermediate')"
    )
    assert len(rows) > 30
    assert [f"{s}.{t}" for s, t, c in rows if not c] == []
    columns = _query(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where schema_name in ('marts', 'staging', 'intermediate')"
    )
    assert len(columns) > 300
    assert [f"{s}.{t}.{c}" for s, t, c, comment in columns if not comment] == []


def test_dbt_unit_tests_pass(pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult) -> None:
    """The dbt unit tests (hand-made inputs, with late and charged-off loans for the marts that servicing will
    feed) pass; the pipeline's own builds skip them."""
    import os
    import shutil
    import subprocess

    from pipelines.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable

    root, _ = pipeline_env
    # unit tests read the columns of the relations they mock: run them on a copy of the built warehouse
    scratch = root / "unit_tests.duckdb"
    shutil.copyfile(published(), scratch)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PEERLEND_WAREHOUSE_WORK_PATH": str(scratch)}
    done = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit", "--target-path", str(root / "dbt_unit_target")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    passed = re.search(r"PASS=(\d+)", done.stdout)
    assert passed and int(passed.group(1)) >= 12


def test_account_uniqueness_tests_read_changed_accounts_and_still_catch_a_duplicate(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult
) -> None:
    """On an incremental build the uniqueness tests of ledger accounts read only the accounts that share a key
    with one restamped since the published build (raw._published_stamps), so a new row duplicating an old,
    untouched account is still caught; a full build reads every account."""
    import os
    import shutil
    import subprocess

    from pipelines.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable

    root, _ = pipeline_env
    scratch = root / "duplicate_account.duckdb"
    shutil.copyfile(published(), scratch)
    con = duckdb.connect(str(scratch))
    try:
        ((stamp,),) = con.execute(
            "select max_stamp from raw._published_stamps where table_name = 'ledger_accounts'"
        ).fetchall()
        # the oldest account, copied under its own id with a stamp past the published build's
        con.execute(
            "insert into raw.ledger_accounts select * replace (? as updated_at) from raw.ledger_accounts "
            "order by updated_at limit 1",
            [stamp + timedelta(hours=1)],
        )
    finally:
        con.close()
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PEERLEND_WAREHOUSE_WORK_PATH": str(scratch)}
    target = root / "dbt_duplicate_target"
    done = subprocess.run(
        [dbt_executable(), "test", "--select", "stg_ledger_accounts,test_name:unique", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout[-4000:]
    assert re.search(r"FAIL 1 unique_stg_ledger_accounts_account_id", done.stdout), done.stdout[-4000:]
    compiled = next((target / "compiled").rglob("unique_stg_ledger_accounts_account_id.sql")).read_text()
    assert "updated_at" in compiled and ">= cast('" in compiled  # windowed, not a scan of every account


def test_dbt_lookbacks_are_the_extractors() -> None:
    """dbt re-tests the same windows below a published build's marks as the extract re-reads."""
    import yaml

    from pipelines.lib import extract
    from pipelines.lib.dbt_project import DBT_PROJECT_DIR

    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert variables["ledger_lookback_ids"] == extract.LOOKBACK_IDS
    assert timedelta(minutes=variables["updated_lookback_minutes"]) == extract.LOOKBACK_UPDATED


@pytest.mark.parametrize("bad_cents", [1])
def test_reconciliation_detects_a_difference_of_one_cent(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult, bad_cents: int
) -> None:
    """The reconciliation behind `balances_match_source` / `reconciles_with_source_ledger` flags a source
    whose account balance is one cent off what the warehouse holds."""
    import shutil

    from pipelines.lib.extract import open_snapshot
    from pipelines.lib.reconcile import read_source, reconcile, warehouse_mark

    root, story = pipeline_env
    broken = root / "broken.db"
    shutil.copyfile(root / "peerlend.db", broken)
    engine = sa.create_engine(f"sqlite:///{broken}")
    with engine.begin() as conn:
        (account_id, investor_id) = conn.execute(
            # the account changed longest ago: outside the extract's look-back window, so only the
            # reconciliation can see its balance move without its stamp
            sa.text(
                "select account_id, owner_id from ledger_accounts where account_type = 'investor_cash' "
                "order by updated_at, account_id limit 1"
            )
        ).one()
        conn.execute(
            sa.text("update ledger_accounts set balance_cents = balance_cents - :d where account_id = :a"),
            {"d": bad_cents, "a": account_id},
        )
    engine.dispose()
    work = published()  # the newest build (a work file, if any, may be an older snapshot)
    with open_snapshot(story.url) as good, duckdb.connect(str(work), read_only=True) as duck:
        ok = reconcile(good, duck)
    assert ok.ledger_passed and ok.investors_passed, (ok.account_mismatches, ok.investor_mismatches)
    with open_snapshot(f"sqlite:///{broken}") as snap, duckdb.connect(str(work), read_only=True) as duck:
        result = reconcile(snap, duck)
        # the source read ahead (as the pipeline does while dbt builds) at the same mark gives the same
        # verdict; one read at another mark is not used, so it cannot hide the difference
        with open_snapshot(f"sqlite:///{broken}") as early:
            ahead = read_source(early, warehouse_mark(duck))
        assert reconcile(snap, duck, ahead=ahead) == result
        with open_snapshot(story.url) as good:
            stale = read_source(good, (warehouse_mark(duck) or 0) - 1)
        assert reconcile(snap, duck, ahead=stale) == result
    assert not result.ledger_passed and not result.investors_passed
    assert [m["account_id"] for m in result.account_mismatches] == [account_id]
    assert result.source_total_cents == -bad_cents
    (mismatch,) = result.investor_mismatches
    assert mismatch["investor_id"] == investor_id
    assert mismatch["source"]["cash_cents"] == mismatch["warehouse"]["cash_cents"] + bad_cents

    # the per-kind totals, which run on every load, see it too
    from pipelines.lib.reconcile import reconcile_totals

    with open_snapshot(story.url) as good, duckdb.connect(str(work), read_only=True) as duck:
        fine = reconcile_totals(good, duck)
        # the pipeline takes the source's side from the reconciliation's read of every account: the same figures
        assert reconcile_totals(good, duck, read=reconcile(good, duck)).metadata() == fine.metadata()
    assert fine.passed, fine.metadata()
    assert fine.outstanding["investor_notes"]["source_cents"] > 0
    with open_snapshot(f"sqlite:///{broken}") as snap, duckdb.connect(str(work), read_only=True) as duck:
        off = reconcile_totals(snap, duck)
        assert reconcile_totals(snap, duck, read=reconcile(snap, duck)).metadata() == off.metadata()
    assert not off.passed
    assert [m["kind"] for m in off.kind_mismatches] == ["investor_cash"]

    # A pipeline run on that source finds nothing new to extract (the balance moved without its
    # updated_at), so dbt is not rebuilt, yet the run fails: the reconciliation reads the source every time.
    from pipelines.definitions import defs
    from pipelines.lib.resources import SourceDatabase

    ((day,),) = _query("select max(as_of_date) from raw.extract_as_of", work)
    fingerprints = relation_fingerprints(published())
    resources = {**(defs.resources or {}), "source": SourceDatabase(url=f"sqlite:///{broken}")}
    with (
        dg.DagsterInstance.ephemeral() as instance,
        # after the story's last run, the same platform day
        clock.frozen_at(datetime(day.year, day.month, day.day, 16, tzinfo=UTC)),
    ):
        rerun = dg.materialize(
            [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
            resources=resources,
            instance=instance,
            raise_on_error=False,
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("credit_model"),
        )
    assert not rerun.success
    assert all(v["rows_inserted"] == 0 and v["rows_updated"] == 0 for v in _loaded(rerun).values())
    failed = {e.check_name for e in rerun.get_asset_check_evaluations() if not e.passed}
    assert {"totals_match_source", "balances_match_source"} <= failed
    assert relation_fingerprints(published()) == fingerprints


@pytest.mark.postgres
def test_extract_reads_postgres(tmp_path: Path, story_builder: Callable[[str, Path], Any]) -> None:
    """The same extract code reads PostgreSQL (REPEATABLE READ snapshot, timestamptz -> naive UTC)."""
    import os
    import uuid

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
        story = story_builder(url, tmp_path)
        warehouse = Warehouse(path=str(tmp_path / "pg_warehouse.duckdb"))
        for _ in range(2):  # the second run's probes find every table unchanged: nothing read, nothing written
            with dg.DagsterInstance.ephemeral() as instance:
                result = dg.materialize(
                    [raw_tables],
                    resources={"source": SourceDatabase(url=url), "warehouse": warehouse},
                    instance=instance,
                )
            assert result.success
            assert all(e.passed for e in result.get_asset_check_evaluations())
        second = _loaded(result)
        assert all(v["rows_inserted"] == 0 and v["rows_updated"] == 0 for v in second.values())
        # PostgreSQL's probes (extract(epoch) sums) match the first run's, so no window is read
        read = {k: v["rows_read"] for k, v in second.items() if v["rows_read"]}
        # only rows still in a non-final state (a committed note, pending outbox messages) are re-read
        from pipelines.lib.extract import LOAD_MODES, ById

        assert read and all(isinstance(LOAD_MODES[k], ById) and LOAD_MODES[k].reopen for k in read), read
        assert "installments" not in read and "ledger_entries" not in read
        con = duckdb.connect(str(warehouse.resolved_work_path()), read_only=True)
        try:
            disbursed_at, column_type = con.execute(
                f"select disbursed_at::varchar, typeof(disbursed_at) from raw.loans where loan_id = {story.loan_id}"
            ).fetchall()[0]
            ((entries, total),) = con.execute("select count(*), sum(amount_cents) from raw.ledger_entries").fetchall()
        finally:
            con.close()
        assert (disbursed_at, column_type) == ("2026-03-03 14:00:00", "TIMESTAMP")
        assert entries > 0 and total == 0
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---- for analysts: the guide's questions, the SQL shell, the open loan data set ------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analyst_guide.md"


def guide_queries() -> list[tuple[str, list[str], str]]:
    """(name, expected columns, SQL) of every question in docs/analyst_guide.md."""
    text = GUIDE.read_text()
    found = re.findall(r"<!-- query: (\w+); columns: ([^>]*?) -->\s*```sql\n(.*?)```", text, flags=re.S)
    return [(name, [c.strip() for c in columns.split(",")], sql) for name, columns, sql in found]


def test_analyst_guide_questions_run(pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult) -> None:
    """Every SQL answer in the analyst guide runs on the warehouse the pipeline built and returns the columns
    it promises (today's book has no late or charged-off loans, so some return no rows or no losses)."""
    queries = guide_queries()
    assert {"default_rate_by_grade_and_vintage", "investor_nar_distribution", "roll_rates"} <= {q[0] for q in queries}
    assert "realised_against_predicted_by_grade" in {q[0] for q in queries}
    assert len(GUIDE.read_text().split("```sql")) - 1 == len(queries)  # no question without its columns
    con = duckdb.connect(str(published()), read_only=True)
    try:
        for name, columns, sql in queries:
            result = con.execute(sql)
            assert [d[0] for d in result.description] == columns, name
            result.fetchall()
    finally:
        con.close()


def test_sql_shell_is_read_only_on_the_published_snapshot(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult
) -> None:
    import subprocess
    import sys

    one = subprocess.run(
        [sys.executable, "-m", "pipelines.sql_shell", "-c", "select count(*) as loans from marts.fct_borrower_loans"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "loans" in one.stdout and "2" in one.stdout
    session = subprocess.run(
        [sys.executable, "-m", "pipelines.sql_shell"],
        input=".tables\nselect grade,\n  count(*) as n from marts.fct_borrower_loans group by 1 order by 1;\n"
        "create table marts.x (a int);\n.quit\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "marts.fct_borrower_loans" in session.stdout and "One row per loan" in session.stdout
    assert "read-only" in session.stdout.lower() and "error:" in session.stdout  # the write was refused


def test_export_loans_writes_an_open_data_set(
    pipeline_env: tuple[Path, Any], first_run: dg.ExecuteInProcessResult, tmp_path: Path
) -> None:
    import json

    import polars as pl

    from pipelines.export_loans import COLUMNS, export

    root, story = pipeline_env
    target = export(tmp_path / "export")
    frame = pl.read_parquet(target)
    assert frame.columns == [c.name for c in COLUMNS]
    assert frame["loan_id"].to_list() == sorted({story.loan_id, story.listed_loan_id})
    assert not [c for c in frame.columns if _forbidden(c) or c in ("borrower_id", "username", "borrower_username")]
    loan = frame.filter(pl.col("loan_id") == story.loan_id).row(0, named=True)
    assert (loan["grade"] is not None, loan["outcome"], str(loan["amount"]), loan["issue_month"]) == (
        True,
        "open",
        "5000.00",
        date(2026, 3, 1),
    )
    dictionary = json.loads((tmp_path / "export" / "data_dictionary.json").read_text())
    assert [d["column"] for d in dictionary] == frame.columns and all(d["description"] for d in dictionary)
    assert "| `outcome` |" in (tmp_path / "export" / "data_dictionary.md").read_text()
