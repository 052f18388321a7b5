"""The code location loads, names what the brief promises, and the extract allow-list decides about
every API table and column (secrets skipped, personal data excluded or masked)."""

from __future__ import annotations

import re
import typing
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from api.db import tables as t
from api.db.tables import Base
from api.identity import bands
from api.identity import schemas as profile_schemas
from api.kit import clock
from pipelines.lib.dbt_project import DBT_PROJECT_DIR
from pipelines.lib.extract import (
    APPEND_ONLY_TABLES,
    EXCLUDED_COLUMNS,
    EXTRACT,
    MUTABLE_TABLES,
    RAW_SCHEMA,
    SKIPPED_TABLES,
    Derived,
    age_band_expr,
    age_on_expr,
    drop_unlisted,
    extracted_columns,
    income_band_expr,
    load_table,
    open_snapshot,
    primary_key,
    source_tables,
    unclassified,
)

MARTS = (
    "fct_borrower_loans",
    "fct_loan_schedule",
    "fct_investor_portfolios",
    "fct_investor_notes",
    "fct_platform_kpis_daily",
    "dim_borrowers",
)
# What raw.user_profiles may hold, exactly (the issue: analysts see bands, not names or birthdays).
PROFILE_WAREHOUSE_COLUMNS = [
    "user_id",
    "age_band",
    "income_band",
    "employment_status",
    "employment_length_years",
    "housing",
    "risk_preference",
    "country",
    "updated_at",
]
PROFILE_PERSONAL = {
    "legal_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "employer",
    "annual_income_cents",
}


def test_definitions_load() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{name}" for name in source_tables()} <= keys
    assert {f"marts/{name}" for name in MARTS} <= keys
    # dbt sources are the extract assets: staging depends on raw
    assert dg.AssetKey(["raw", "loans"]) in graph.get(dg.AssetKey(["staging", "stg_loans"])).parent_keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert {"raw", "staging", "intermediate", "marts", "snapshots"} <= groups

    job = defs.resolve_job_def("warehouse_job")
    assert job.executor_def.name == dg.in_process_executor.name
    schedule = defs.resolve_schedule_def("warehouse_schedule")
    assert schedule.job_name == "warehouse_job"
    # the books' reconciliation reads the whole API database: nightly, in a job of its own
    reconciliation = dg.AssetKey("ledger_reconciliation")
    assert reconciliation not in job.asset_layer.selected_asset_keys
    nightly = defs.resolve_job_def("ledger_reconciliation_job")
    assert nightly.asset_layer.selected_asset_keys == {reconciliation}
    assert defs.resolve_schedule_def("ledger_reconciliation_schedule").job_name == "ledger_reconciliation_job"
    check_names = {k.name for k in graph.asset_check_keys}
    assert {
        "matches_source",
        "ledger_balanced",
        "balances_match_postings",
        "reconciles_with_source_ledger",
        "balances_match_source",
    } <= check_names
    sensor = defs.resolve_sensor_def("warehouse_freshness_sensor")
    assert sensor.job_name == "warehouse_job"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def _staging_values(model: str, column: str) -> set[str]:
    for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*.yml"):
        for entry in yaml.safe_load(path.read_text()).get("models", []):
            if entry["name"] != model:
                continue
            for col in entry["columns"]:
                if col["name"] == column:
                    for test in col.get("data_tests", []):
                        if isinstance(test, dict) and "accepted_values" in test:
                            return set(test["accepted_values"]["arguments"]["values"])
    raise LookupError(f"{model}.{column} has no accepted_values test")


def test_staging_vocabularies_follow_the_api() -> None:
    """The accepted values dbt tests are the API's own: account kinds, loan and note statuses."""
    from api.ledger.accounts import AccountKind
    from api.lending.tables import NOTE_STATUSES

    assert _staging_values("stg_ledger_accounts", "account_type") == {k.value for k in AccountKind}
    assert _staging_values("stg_investments", "note_status") == set(NOTE_STATUSES)
    loan_status = next(c for c in Base.metadata.tables["loans"].constraints if c.name == "ck_loans_status")
    assert _staging_values("stg_loans", "status") == set(re.findall(r"'(\w+)'", str(loan_status.sqltext)))


def _warehouse_names(table: str) -> list[str]:
    return [e.name if isinstance(e, Derived) else e for e in EXTRACT[table]]


def test_every_api_table_and_column_is_decided() -> None:
    """Allow-list completeness: a table or column the API gains fails here until it is extracted
    (EXTRACT) or excluded with a reason (SKIPPED_TABLES / EXCLUDED_COLUMNS)."""
    api_tables = {table.name: table for table in Base.metadata.sorted_tables}
    assert unclassified(api_tables.values()) == []
    # no stale or contradictory entries either
    assert set(EXTRACT) | set(SKIPPED_TABLES) <= set(api_tables)
    assert not set(EXTRACT) & set(SKIPPED_TABLES)
    assert set(EXCLUDED_COLUMNS) <= set(EXTRACT)
    for name, entries in EXTRACT.items():
        columns = set(api_tables[name].columns.keys())
        read = {e.source if isinstance(e, Derived) else e for e in entries}
        excluded = set(EXCLUDED_COLUMNS.get(name, {}))
        assert read <= columns, name
        assert excluded <= columns, name
        assert not read & excluded, name
        names = _warehouse_names(name)
        assert len(names) == len(set(names)), name
        assert all(reason for reason in EXCLUDED_COLUMNS.get(name, {}).values())
    assert all(SKIPPED_TABLES.values())
    # the extracted tables are exactly the loaded ones, each loaded one way
    assert set(source_tables()) == set(EXTRACT) == set(APPEND_ONLY_TABLES) | set(MUTABLE_TABLES)
    assert not set(APPEND_ONLY_TABLES) & set(MUTABLE_TABLES)
    # every extracted table can be typed and keeps its primary key under its own name
    for name, table in source_tables().items():
        assert [c.name for c in extracted_columns(table)] == _warehouse_names(name)
        (pk,) = table.primary_key.columns
        assert pk.name in _warehouse_names(name)


def test_allow_list_check_catches_a_new_table_or_column() -> None:
    """The completeness check above really fails on an undecided addition."""
    metadata = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table("kyc_documents", metadata, sa.Column("document_id", sa.Integer, primary_key=True))
    users = metadata.tables["users"]
    users.append_column(sa.Column("ssn", sa.String(11)))
    assert unclassified(metadata.sorted_tables) == ["kyc_documents", "users.ssn"]
    # and the extractor does not copy the new column meanwhile
    assert "ssn" not in {c.name for c in extracted_columns(users)}


def test_secrets_and_personal_data_are_not_extracted() -> None:
    assert {"idempotency_keys", "email_tokens", "auth_sessions", "refresh_tokens", "audit_log"} <= set(SKIPPED_TABLES)
    assert {"email", "password_hash", "password_changed_at"} <= set(EXCLUDED_COLUMNS["users"])
    assert "login_throttles" in SKIPPED_TABLES
    assert _warehouse_names("user_profiles") == PROFILE_WAREHOUSE_COLUMNS
    masked = {e.source: e for e in EXTRACT["user_profiles"] if isinstance(e, Derived)}
    assert set(masked) == {"date_of_birth", "annual_income_cents"}
    assert all(e.compute is not None for e in masked.values())  # read in memory only, never copied
    copied = {e for e in EXTRACT["user_profiles"] if isinstance(e, str)}
    assert not copied & PROFILE_PERSONAL
    assert PROFILE_PERSONAL - set(masked) <= set(EXCLUDED_COLUMNS["user_profiles"])
    assert "user_profiles" in MUTABLE_TABLES


def test_profiles_are_masked_on_extraction(tmp_path: Path) -> None:
    """raw.user_profiles holds the bands of api.identity.bands, with the age as of the extraction date; a new
    extraction day re-bands every profile (the upsert rewrites only those whose band changed)."""
    from tests.pipelines.conftest import create_schema

    url = f"sqlite:///{tmp_path / 'source.db'}"
    # the migrations, as everywhere else (the API's metadata no longer round-trips through create_all: a
    # partial index's `postgresql_where` is a plain string)
    create_schema(url)
    engine = sa.create_engine(url)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                t.User(user_id=1, username="a", email="a@x.io", password_hash="h", role="borrower", created_at=day),
                t.User(user_id=2, username="b", email="b@x.io", password_hash="h", role="borrower", created_at=day),
                t.UserProfile(
                    user_id=1,
                    legal_name="Secret Person",
                    date_of_birth=date(2000, 7, 15),
                    annual_income_cents=2_500_000,
                    phone="+15550000000",
                    country="US",
                    updated_at=day,
                ),
                t.UserProfile(user_id=2, country="CA", updated_at=day),
            ]
        )
    engine.dispose()
    duck = duckdb.connect()
    try:
        rows = {}
        for today, expected_age_band, rewritten in (
            (datetime(2025, 7, 14, tzinfo=UTC), "18-24", 2),
            (datetime(2025, 7, 14, 18, tzinfo=UTC), "18-24", 0),  # same day: the watermark window, nothing new
            (datetime(2025, 7, 15, tzinfo=UTC), "25-34", 1),  # her birthday: only her row changes
        ):
            with clock.frozen_at(today), open_snapshot(url) as snap:
                result = load_table(snap, duck, Base.metadata.tables["user_profiles"])
            assert result.matches_source and result.warehouse_rows == 2
            assert result.rows_inserted + result.rows_updated == rewritten
            columns = [r[0] for r in duck.execute(f"describe {RAW_SCHEMA}.user_profiles").fetchall()]
            assert columns == PROFILE_WAREHOUSE_COLUMNS
            rows = {
                r[0]: r[1:]
                for r in duck.execute(
                    f"select user_id, age_band, income_band from {RAW_SCHEMA}.user_profiles"
                ).fetchall()
            }
            assert rows[1] == (expected_age_band, "25k-50k")
        assert rows[2] == (None, None)
        assert bands.age_band(bands.age_on(date(2000, 7, 15), date(2025, 7, 15))) == "25-34"

        # a raw table or column left by an older extractor is dropped
        duck.execute(f"create table {RAW_SCHEMA}.auth_sessions (session_id varchar, ip varchar)")
        duck.execute(f"alter table {RAW_SCHEMA}.user_profiles add column legal_name varchar")
        assert sorted(drop_unlisted(duck)) == ["auth_sessions", "user_profiles.legal_name"]
        assert [
            r[0] for r in duck.execute(f"describe {RAW_SCHEMA}.user_profiles").fetchall()
        ] == PROFILE_WAREHOUSE_COLUMNS
        assert drop_unlisted(duck) == []
    finally:
        duck.close()


def test_polars_bands_equal_the_api_on_every_boundary() -> None:
    """The vectorised bands (pipelines.lib.extract) are api.identity.bands on every floor, one below and one
    above, for ages (including 29 February birthdays, on leap and common years) and incomes."""
    incomes = sorted(
        {v for floor, _ in bands.INCOME_BANDS_CENTS for v in (floor - 1, floor, floor + 1) if v >= 0} | {0, 1, 10**12}
    )
    got = pl.select(income_band_expr(pl.Series(incomes, dtype=pl.Int64))).to_series().to_list()
    assert got == [bands.income_band(v) for v in incomes]
    assert pl.select(income_band_expr(pl.Series([None], dtype=pl.Int64))).item() is None

    days = [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
        date(2025, 2, 28),
        date(2025, 3, 1),
        date(2026, 7, 15),
    ]
    births = []
    for on in days:
        for floor, _ in bands.AGE_BANDS:
            for years in (floor - 1, floor, floor + 1):
                if 0 <= years < on.year - 1:
                    for born in (
                        on.replace(year=on.year - years)
                        if not (on.month == 2 and on.day == 29)
                        else date(on.year - years, 2, 28),
                        date(on.year - years, 2, 28),
                        date(on.year - years, 3, 1),
                        date(on.year - years - 1, 12, 31),
                        date(on.year - years, 1, 1),
                    ):
                        births.append(born)
        births += [date(2000, 2, 29), date(1960, 2, 29)]
        series = pl.Series(births, dtype=pl.Date)
        ages = pl.select(age_on_expr(series, on)).to_series().to_list()
        assert ages == [bands.age_on(b, on) for b in births], on
        labels = pl.select(age_band_expr(series, on)).to_series().to_list()
        assert labels == [bands.age_band(bands.age_on(b, on)) for b in births], on
        births = []


def test_a_crashed_extraction_resumes_without_duplicates_and_equals_a_full_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table loads in its own transaction from marks read from the data: a run that dies half-way
    leaves whole tables, the rerun completes them without duplicating a row, and the result is what a full
    refresh reads, relation for relation."""
    from pipelines.lib import extract
    from tests.pipelines.conftest import add_second_month_to, build_story

    url = f"sqlite:///{tmp_path / 'source.db'}"
    story = build_story(url, tmp_path)
    tables = list(source_tables().values())
    resumed, fresh = duckdb.connect(str(tmp_path / "resumed.duckdb")), duckdb.connect()
    try:
        with open_snapshot(url) as snap:
            for table in tables[:5]:
                load_table(snap, resumed, table)
            real = extract._to_frame

            def killed(*args: object, **kwargs: object) -> pl.DataFrame:
                real(*args, **kwargs)  # type: ignore[arg-type]
                raise RuntimeError("killed half-way through a table")

            monkeypatch.setattr(extract, "_to_frame", killed)
            with pytest.raises(RuntimeError):
                load_table(snap, resumed, tables[5])
            monkeypatch.undo()
        add_second_month_to(story)  # and the source moves on before the rerun
        with open_snapshot(url) as snap:
            results = [load_table(snap, resumed, table) for table in tables]
            refreshed = [load_table(snap, fresh, table, full_refresh=True) for table in tables]
        assert all(r.matches_source for r in results + refreshed)
        for table in tables:
            pk = primary_key(table).name
            assert not resumed.execute(
                f'select "{pk}" from raw."{table.name}" group by 1 having count(*) > 1'
            ).fetchall()
            order = f'order by "{pk}"'
            assert (
                resumed.execute(f'select * from raw."{table.name}" {order}').fetchall()
                == fresh.execute(f'select * from raw."{table.name}" {order}').fetchall()
            ), table.name
    finally:
        resumed.close()
        fresh.close()


def test_immutable_tables_count_the_window_after_the_day_s_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An insert-only table is counted whole on the platform day's first run; later runs that day count only
    the window past the mark in the source (no scan) and take the rows below it as held, so they still see
    every new row. A row that vanished below the window is caught by the next day's first run."""
    from pipelines.lib import extract
    from tests.pipelines.conftest import add_second_month_to, build_story

    url = f"sqlite:///{tmp_path / 'source.db'}"
    story = build_story(url, tmp_path)
    table = source_tables()["cash_transfers"]
    duck = duckdb.connect(str(tmp_path / "w.duckdb"))
    monkeypatch.setattr(extract, "LOOKBACK_IDS", 0)  # the story's ids are far below the real window
    try:
        with clock.frozen_at(datetime(2026, 7, 14, 12, tzinfo=UTC)):
            with open_snapshot(url) as snap:
                first = load_table(snap, duck, table)
            extract.record_run(duck, first.rows_inserted, ["cash_transfers"])
            add_second_month_to(story)
            with open_snapshot(url) as snap:
                later = load_table(snap, duck, table)
            assert later.rows_inserted == 1 and later.matches_source  # the deposit, counted in the window
            with story.engine().begin() as conn:  # a breach of the contract: a transfer below the mark deleted
                conn.execute(sa.text("delete from cash_transfers where transfer_id = 1"))
            with open_snapshot(url) as snap:
                assert load_table(snap, duck, table).matches_source  # trusted below the mark, that day
            extract.record_run(duck, 0)
        with clock.frozen_at(datetime(2026, 7, 15, 12, tzinfo=UTC)), open_snapshot(url) as snap:
            next_day = load_table(snap, duck, table)
        assert not next_day.matches_source and next_day.source_rows == next_day.warehouse_rows - 1
    finally:
        duck.close()


def _accepted_values(yml: dict, model: str, column: str) -> list[str]:
    (node,) = [m for m in yml["models"] if m["name"] == model]
    (col,) = [c for c in node["columns"] if c["name"] == column]
    (test,) = [t for t in col.get("data_tests", []) if isinstance(t, dict) and "accepted_values" in t]
    return test["accepted_values"]["arguments"]["values"]


def test_dbt_accepted_values_follow_the_api() -> None:
    """The bands and answers dbt accepts are the API's own (api.identity.bands, api.schemas.profiles)."""
    staging = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_staging.yml").read_text())
    marts = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/_marts.yml").read_text())
    age_bands = [label for _, label in bands.AGE_BANDS]
    income_bands = [label for _, label in bands.INCOME_BANDS_CENTS]
    assert _accepted_values(staging, "stg_user_profiles", "age_band") == age_bands
    assert _accepted_values(staging, "stg_user_profiles", "income_band") == income_bands
    assert _accepted_values(marts, "dim_borrowers", "age_band") == [*age_bands, "unknown"]
    assert _accepted_values(marts, "dim_borrowers", "income_band") == [*income_bands, "unknown"]
    for column, literal in (
        ("employment_status", profile_schemas.EmploymentStatus),
        ("housing", profile_schemas.Housing),
        ("risk_preference", profile_schemas.RiskPreference),
    ):
        assert _accepted_values(staging, "stg_user_profiles", column) == list(typing.get_args(literal)), column


def test_data_dictionary_is_current() -> None:
    """docs/data_dictionary.md is what `python -m pipelines.data_dictionary` generates from the manifest now,
    and it covers every mart column with a type and a description."""
    from pipelines.data_dictionary import OUTPUT, load_manifest, render

    manifest = load_manifest()
    assert OUTPUT.read_text() == render(manifest), "run `uv run python -m pipelines.data_dictionary`"
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            assert node["description"], node["name"]
            for name, column in node["columns"].items():
                assert column.get("description"), f"{node['name']}.{name}"
                if node["schema"] == "marts":
                    assert column.get("data_type"), f"{node['name']}.{name}"
    for mart in MARTS:
        assert f"### `marts.{mart}`" in OUTPUT.read_text()


def test_portable_sql_keeps_engine_specific_syntax_in_dispatch_macros() -> None:
    """Models, tests and snapshots use dbt's cross-database macros; DuckDB-only syntax lives only in
    dbt/macros/portable/ (adapter.dispatch), so the project can build on Spark."""
    import re

    duckdb_only = re.compile(
        r"\btry_cast\b|\bgenerate_series\b|\bunnest\b|::|\binterval\s+'?\d|\bfilter\s*\(\s*where|\bqualify\b|//"
    )
    offenders = []
    for folder in ("models", "tests", "snapshots"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*.sql"):
            text = re.sub(r"--[^\n]*", "", path.read_text())
            if duckdb_only.search(text):
                offenders.append(str(path.relative_to(DBT_PROJECT_DIR)))
    assert offenders == []
    portable = (DBT_PROJECT_DIR / "macros" / "portable").glob("*.sql")
    for path in portable:
        text = path.read_text()
        for macro in re.findall(r"adapter\.dispatch\('(\w+)'", text):
            assert f"duckdb__{macro}" in text and f"spark__{macro}" in text and f"default__{macro}" in text


def test_freshness_sensor_runs_when_the_source_changed_and_never_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sensor requests a run when the API's database changed (one indexed max() per table), skips when it
    did not, and never queues a second run while one is in flight."""
    from api.settings import get_settings
    from pipelines.defs.schedules import warehouse_freshness_sensor, warehouse_job
    from tests.pipelines.conftest import add_second_month_to, build_story

    url = f"sqlite:///{tmp_path / 'source.db'}"
    story = build_story(url, tmp_path)
    monkeypatch.setenv("PEERLEND_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        with dg.instance_for_test() as instance:
            first = warehouse_freshness_sensor(dg.build_sensor_context(instance=instance))
            assert isinstance(first, dg.SensorResult) and len(first.run_requests or []) == 1
            cursor = first.cursor
            again = warehouse_freshness_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
            assert isinstance(again, dg.SkipReason) and "not changed" in (again.skip_message or "")

            add_second_month_to(story)
            changed = warehouse_freshness_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
            assert isinstance(changed, dg.SensorResult) and changed.cursor != cursor

            run = instance.create_run_for_job(job_def=warehouse_job.resolve(asset_graph=_asset_graph()))
            instance.handle_new_event(
                dg.EventLogEntry(
                    error_info=None,
                    level="debug",
                    user_message="",
                    run_id=run.run_id,
                    timestamp=0.0,
                    dagster_event=dg.DagsterEvent(
                        event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
                    ),
                )
            )
            busy = warehouse_freshness_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
            assert isinstance(busy, dg.SkipReason) and "in flight" in (busy.skip_message or "")
    finally:
        get_settings.cache_clear()


def _asset_graph():  # noqa: ANN202
    from pipelines.definitions import defs

    return defs.resolve_asset_graph()


def test_the_project_s_own_dagster_calls_raise_no_warnings() -> None:
    """Loading the code location raises no deprecation, supersession or beta warning from the project's own
    code (warnings raised inside third-party packages are theirs to fix)."""
    import subprocess
    import sys

    probe = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from pipelines.definitions import defs\n"
        "    defs.resolve_asset_graph(); defs.resolve_job_def('warehouse_job')\n"
        "own = [f'{w.category.__name__} {w.filename}:{w.lineno} {w.message}' for w in caught\n"
        "       if '/pipelines/' in w.filename and 'site-packages' not in w.filename]\n"
        "print('\\n'.join(own) or 'clean')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "clean", done.stdout


def test_clone_keeps_the_api_s_invariants(tmp_path: Path) -> None:
    """The benchmark's clone generator writes a book the API's own rules would have written: balanced
    transactions, balances = postings, schedules = amortize (due dates included), payment splits =
    split_pro_rata on the notes' outstanding principal, loans repaid exactly when their schedule is paid."""
    from collections import defaultdict

    from api.payments.schedule import amortize
    from api.payments.split import split_pro_rata
    from pipelines import clone

    url = f"sqlite:///{tmp_path / 'clone.db'}"
    book = clone.build(url, clone.CloneSpec(loans=300, seed=7))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        q = lambda sql: conn.execute(sa.text(sql)).all()  # noqa: E731
        assert q("select transaction_id from ledger_entries group by 1 having sum(amount_cents) <> 0") == []
        assert (
            q(
                "select a.account_id from ledger_accounts a left join (select account_id, sum(amount_cents) s "
                "from ledger_entries group by 1) e using (account_id) where a.balance_cents <> coalesce(e.s, 0)"
            )
            == []
        )
        loans = q("select loan_id, amount_cents, interest_rate_bps, term_months, disbursed_at, status from loans")
        schedules = defaultdict(list)
        for row in q("select loan_id, number, due_date, principal_cents, interest_cents, paid_at from installments"):
            schedules[row[0]].append(row[1:])
        notes = defaultdict(list)
        for row in q("select loan_id, investment_id, amount_cents from investments order by investment_id"):
            notes[row[0]].append([row[1], row[2]])
        shares = {
            (r[0], r[1]): (r[2], r[3])
            for r in q("select payment_id, investment_id, principal_cents, interest_cents from payment_distributions")
        }
        payments = defaultdict(list)
        for row in q(
            "select loan_id, payment_id, principal_cents, interest_cents, status from payments order by payment_id"
        ):
            payments[row[0]].append(row[1:])
        disbursed = 0
        for loan_id, amount, rate, term, disbursed_at, status in loans:
            if disbursed_at is None:
                assert schedules[loan_id] == [] and status in ("listed", "expired", "cancelled")
                continue
            disbursed += 1
            day = datetime.fromisoformat(disbursed_at).date()
            plan = amortize(amount, rate, term, day)
            got = sorted(schedules[loan_id])
            assert [(p.number, p.due_date.isoformat(), p.principal_cents, p.interest_cents) for p in plan] == [
                g[:4] for g in got
            ]
            # a loan prepaid in full is repaid with its later installments never paid (as the API's replay
            # writes them); a loan still open never has every installment paid
            if status != "repaid":
                assert not all(g[4] is not None for g in got)
            outstanding = dict(map(tuple, notes[loan_id]))
            for payment_id, principal, interest, payment_status in payments[loan_id]:
                ids = [n for n, _ in notes[loan_id]]
                weights = [outstanding[n] for n in ids]
                if sum(weights) == 0:
                    weights = [a for _, a in notes[loan_id]]
                expected = zip(split_pro_rata(principal, weights), split_pro_rata(interest, weights), strict=True)
                for n, (p, i) in zip(ids, expected, strict=True):
                    assert shares.get((payment_id, n), (0, 0)) == (p, i)
                    if payment_status == "settled":  # a returned payment's distribution was reversed
                        outstanding[n] -= p
    engine.dispose()
    assert disbursed > 250 and book.rows()["ledger_entries"] > 0
