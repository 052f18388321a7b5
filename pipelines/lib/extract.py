"""Copy the API's tables into the warehouse's `raw` schema.

What is copied is an ALLOW-list (`EXTRACT`): a table or column the API gains is not extracted until
someone adds it here, and `tests/pipelines/test_definitions.py` fails until every table and column of
the API's metadata is either extracted or listed, with a reason, in `SKIPPED_TABLES` / `EXCLUDED_COLUMNS`.
Personal data never leaves the source: secrets (password hashes, token hashes, sessions, IPs, the audit
log) are not read at all, and `user_profiles` arrives masked: age and income as bands computed in
memory with the API's own `api.domain.bands`, never names, birthdays, addresses, phones or employers.

Append-only tables load incrementally past a primary-key high-water mark; mutable tables are replaced
whole. Reads go through SQLAlchemy Core on the table definitions of `api.db.tables`, so SQLite and
PostgreSQL share one code path. Every run also drops whatever in `raw` the allow-list no longer names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api import clock
from api.db.tables import Base
from api.domain.bands import age_band, age_on, income_band

RAW_SCHEMA = "raw"


def _age_band_today(born: date | None) -> str | None:
    """The age band as of the extraction date; the birthday itself is never stored."""
    return None if born is None else age_band(age_on(born, clock.today()))


def _income_band(annual_income_cents: int | None) -> str | None:
    return None if annual_income_cents is None else income_band(int(annual_income_cents))


@dataclass(frozen=True)
class Derived:
    """A warehouse column computed in memory from one source column. With `compute`, the source value
    is masked (only the result is stored); without, the column is copied under a new name."""

    name: str
    source: str
    compute: Callable[[object], object] | None = None
    sql_type: str | None = None  # the warehouse type of a computed value; a renamed copy keeps its source's


# The allow-list: per extracted table, the warehouse columns of raw.<table>, in order. A plain name is a
# source column copied as is. Nothing else of the source is read.
EXTRACT: dict[str, tuple[str | Derived, ...]] = {
    "users": (
        "user_id",
        "username",
        "role",
        # renamed so no warehouse column is named like an email address
        Derived("verified_at", "email_verified_at"),
        "created_at",
    ),
    "investors": ("investor_id", "user_id", "username", "created_at"),
    "loans": (
        "loan_id",
        "borrower_id",
        "amount_cents",
        "interest_rate_bps",
        "term_months",
        "purpose",
        "grade",
        "probability_of_default_ppm",
        "score_model_version",
        "score_reasons",
        "status",
        "funded_amount_cents",
        "monthly_payment_cents",
        "created_at",
        "funded_at",
        "disbursed_at",
        "first_due_date",
        "closed_at",
    ),
    "investments": ("investment_id", "loan_id", "investor_id", "amount_cents", "created_at"),
    "installments": (
        "installment_id",
        "loan_id",
        "number",
        "due_date",
        "payment_cents",
        "principal_cents",
        "interest_cents",
        "balance_after_cents",
        "paid_principal_cents",
        "paid_interest_cents",
        "paid_at",
    ),
    "payments": (
        "payment_id",
        "loan_id",
        "payer_user_id",
        "amount_cents",
        "principal_cents",
        "interest_cents",
        "fees_cents",
        "processor_reference",
        "date",
        "created_at",
    ),
    "payment_distributions": (
        "distribution_id",
        "payment_id",
        "investment_id",
        "investor_id",
        "principal_cents",
        "interest_cents",
    ),
    "cash_transfers": ("transfer_id", "user_id", "direction", "amount_cents", "processor_reference", "created_at"),
    "ledger_accounts": ("account_id", "code", "account_type", "investor_id", "loan_id", "created_at"),
    "ledger_transactions": (
        "transaction_id",
        "kind",
        "loan_id",
        "payment_id",
        "transfer_id",
        "investment_id",
        "description",
        "created_at",
    ),
    "ledger_entries": ("entry_id", "transaction_id", "account_id", "amount_cents"),
    "notifications": ("notification_id", "user_id", "kind", "loan_id", "message", "created_at", "read_at"),
    "user_profiles": (
        "user_id",
        Derived("age_band", "date_of_birth", _age_band_today, "VARCHAR"),
        Derived("income_band", "annual_income_cents", _income_band, "VARCHAR"),
        "employment_status",
        "employment_length_years",
        "housing",
        "risk_preference",
        "country",
        "updated_at",
    ),
}

# Tables never read, with the reason.
SKIPPED_TABLES: dict[str, str] = {
    "idempotency_keys": "stored API responses of money-moving requests: operational, may hold personal data",
    "email_tokens": "secret: hashes of single-use email tokens",
    "auth_sessions": "secret: login sessions and client IPs",
    "refresh_tokens": "secret: refresh-token hashes",
    "audit_log": "personal: IPs, user agents and the changes made to people's records",
}

# Columns of extracted tables that are never read, with the reason.
EXCLUDED_COLUMNS: dict[str, dict[str, str]] = {
    "users": {
        "email": "personal",
        "password_hash": "secret",
        "failed_login_count": "security state, not analytics",
        "locked_until": "security state, not analytics",
        "password_changed_at": "security state, not analytics",
    },
    "user_profiles": {
        "legal_name": "personal",
        "address_line1": "personal",
        "address_line2": "personal",
        "city": "personal (location finer than the country)",
        "region": "personal (location finer than the country)",
        "postal_code": "personal",
        "phone": "personal",
        "employer": "personal (identifies a person together with the bands)",
    },
}

APPEND_ONLY_TABLES = (
    "ledger_transactions",
    "ledger_entries",
    "investments",
    "payments",
    "payment_distributions",
    "cash_transfers",
    "notifications",
)
MUTABLE_TABLES = ("users", "investors", "loans", "installments", "ledger_accounts", "user_profiles")


def unclassified(tables: Iterable[sa.Table]) -> list[str]:
    """Tables (`name`) and columns (`table.column`) of the API that nobody has decided about yet: neither
    extracted (copied or masked) nor listed in SKIPPED_TABLES / EXCLUDED_COLUMNS. The extractor does not
    read them; a test requires this list to be empty so each one is a conscious decision."""
    out = []
    for table in tables:
        if table.name in SKIPPED_TABLES:
            continue
        if table.name not in EXTRACT:
            out.append(table.name)
            continue
        read = {e.source if isinstance(e, Derived) else e for e in EXTRACT[table.name]}
        decided = read | set(EXCLUDED_COLUMNS.get(table.name, {}))
        out.extend(f"{table.name}.{c.name}" for c in table.columns if c.name not in decided)
    return sorted(out)


# DuckDB 2.0: a result read with fetchone() stays "unfinished" and then register()/unregister() raise
# ResourceInUseException, so results here are always read with fetchall().

# Rows re-read below the high-water mark on each incremental load. On PostgreSQL a transaction can
# commit a smaller id after a larger one was already read; re-reading a window (and inserting only the
# ids not yet present) picks such late rows up. The `matches_source` check catches anything older.
LOOKBACK_IDS = 1_000
BATCH_ROWS = 50_000

_ARROW_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "TIMESTAMP": pa.timestamp("us"),  # UTC, naive
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
}


def source_tables() -> dict[str, sa.Table]:
    """The extracted (allow-listed) tables, by name, in the order the API's metadata declares them."""
    return {t.name: t for t in Base.metadata.sorted_tables if t.name in EXTRACT}


@dataclass(frozen=True)
class WarehouseColumn:
    """One column of raw.<table>: its name and type there, the source column it is read from, and the
    function that masks the source value in memory (None: copied as is)."""

    name: str
    sql_type: str
    source: sa.Column
    compute: Callable[[object], object] | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.sql_type]


def _source_type(column: sa.Column) -> str:
    t = column.type
    while isinstance(t, sa.TypeDecorator):  # e.g. the API's UtcDateTime
        t = t.impl_instance
    if isinstance(t, sa.BigInteger):
        return "BIGINT"
    if isinstance(t, sa.Integer):
        return "INTEGER"
    if isinstance(t, sa.DateTime):
        return "TIMESTAMP"
    if isinstance(t, sa.Date):
        return "DATE"
    if isinstance(t, sa.Boolean):
        return "BOOLEAN"
    if isinstance(t, sa.String | sa.Text):
        return "VARCHAR"
    raise TypeError(f"no warehouse type for {column.table.name}.{column.name} ({t!r})")


def extracted_columns(table: sa.Table) -> list[WarehouseColumn]:
    """The allow-listed warehouse columns of `table` (KeyError if the table is not extracted)."""
    out = []
    for entry in EXTRACT[table.name]:
        if isinstance(entry, Derived):
            source = table.c[entry.source]
            sql_type = entry.sql_type if entry.compute is not None else (entry.sql_type or _source_type(source))
            if sql_type is None:
                raise TypeError(f"{table.name}.{entry.name}: a computed column needs a sql_type")
            out.append(WarehouseColumn(entry.name, sql_type, source, entry.compute))
        else:
            source = table.c[entry]
            out.append(WarehouseColumn(entry, _source_type(source), source))
    return out


def primary_key(table: sa.Table) -> sa.Column:
    (pk,) = table.primary_key.columns
    return pk


def _utc_naive(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _to_arrow(columns: Sequence[WarehouseColumn], rows: Sequence[Sequence[object]]) -> pa.Table:
    """Rows of the source columns (one per warehouse column, in order) -> the warehouse batch. Masked
    source values exist only here, in memory."""
    arrays = []
    for i, column in enumerate(columns):
        values = [row[i] for row in rows]
        if column.compute is not None:
            values = [column.compute(v) for v in values]
        if pa.types.is_timestamp(column.arrow_type):
            values = [_utc_naive(v) for v in values]  # type: ignore[arg-type]
        arrays.append(pa.array(values, type=column.arrow_type))
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def _ddl(table: sa.Table) -> str:
    cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in extracted_columns(table))
    return f'"{RAW_SCHEMA}"."{table.name}" ({cols})'


def _warehouse_columns(duck: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    return [
        r[0]
        for r in duck.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [RAW_SCHEMA, table_name],
        ).fetchall()
    ]


def _ensure_columns(duck: duckdb.DuckDBPyConnection, table: sa.Table) -> None:
    """Add columns the allow-list has gained since the raw table was created (append-only tables persist)."""
    existing = set(_warehouse_columns(duck, table.name))
    for column in extracted_columns(table):
        if column.name not in existing:
            duck.execute(f'alter table "{RAW_SCHEMA}"."{table.name}" add column "{column.name}" {column.sql_type}')


def drop_unlisted(duck: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop every table, view and column of `raw` that the allow-list does not name, e.g. one copied by
    an older version of this extractor or since moved to SKIPPED_TABLES / EXCLUDED_COLUMNS. Returns
    what was dropped (`table` or `table.column`)."""
    dropped: list[str] = []
    relations = duck.execute(
        "select table_name, table_type from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
    ).fetchall()
    for name, kind in relations:
        if name not in EXTRACT:
            duck.execute(f'drop {"view" if kind == "VIEW" else "table"} "{RAW_SCHEMA}"."{name}"')
            dropped.append(name)
            continue
        allowed = {e.name if isinstance(e, Derived) else e for e in EXTRACT[name]}
        for column in _warehouse_columns(duck, name):
            if column not in allowed:
                duck.execute(f'alter table "{RAW_SCHEMA}"."{name}" drop column "{column}"')
                dropped.append(f"{name}.{column}")
    return dropped


@dataclass(frozen=True)
class LoadResult:
    table: str
    mode: str  # "incremental" | "full_refresh"
    rows_read: int
    rows_inserted: int
    high_water_mark: int | None
    warehouse_rows: int
    source_rows: int  # source rows up to the high-water mark (incremental) or all (full refresh)

    @property
    def matches_source(self) -> bool:
        return self.warehouse_rows == self.source_rows


def _exists_in_source(conn: Connection, table: sa.Table) -> bool:
    return sa.inspect(conn).has_table(table.name)


def load_table(
    conn: Connection, duck: duckdb.DuckDBPyConnection, table: sa.Table, *, full_refresh: bool = False
) -> LoadResult:
    """Load one table into raw.<table> in one DuckDB transaction and count it against the source."""
    columns = extracted_columns(table)
    pk = primary_key(table)
    if pk.name not in {c.name for c in columns}:
        raise ValueError(f"{table.name}: the primary key {pk.name} must be extracted under its own name")
    target = f'"{RAW_SCHEMA}"."{table.name}"'
    incremental = table.name in APPEND_ONLY_TABLES and not full_refresh
    present = _exists_in_source(conn, table)
    # Only the allow-listed source columns are read, one per warehouse column (labelled, so a source
    # column feeding two warehouse columns is read twice rather than merged).
    select_cols = [c.source.label(f"c{i}") for i, c in enumerate(columns)]

    duck.execute(f'create schema if not exists "{RAW_SCHEMA}"')
    duck.execute("begin transaction")
    try:
        rows_read = rows_inserted = 0
        if incremental:
            duck.execute(f"create table if not exists {_ddl(table)}")
            _ensure_columns(duck, table)
            ((hwm,),) = duck.execute(f'select max("{pk.name}") from {target}').fetchall()
            floor = None if hwm is None else max(hwm - LOOKBACK_IDS, 0)
            query = sa.select(*select_cols).order_by(pk)
            if floor is not None:
                query = query.where(pk > floor)
            col_list = ", ".join(f'"{c.name}"' for c in columns)
            insert = (
                f"insert into {target} ({col_list}) select {col_list} from batch "
                f'where "{pk.name}" not in (select "{pk.name}" from {target}'
                + (f' where "{pk.name}" > {int(floor)})' if floor is not None else ")")
            )
        else:
            duck.execute(f"create or replace table {_ddl(table)}")
            query = sa.select(*select_cols).order_by(pk)
            col_list = ", ".join(f'"{c.name}"' for c in columns)
            insert = f"insert into {target} ({col_list}) select {col_list} from batch"

        if present:
            result = conn.execution_options(yield_per=BATCH_ROWS).execute(query)
            for partition in result.partitions():
                duck.register("batch", _to_arrow(columns, partition))
                ((inserted,),) = duck.execute(insert).fetchall()
                duck.unregister("batch")
                rows_read += len(partition)
                rows_inserted += int(inserted)

        ((new_hwm, warehouse_rows),) = duck.execute(f'select max("{pk.name}"), count(*) from {target}').fetchall()
        duck.execute("commit")
    except BaseException:
        duck.execute("rollback")
        raise

    if not present:
        source_rows = 0
    elif incremental and new_hwm is not None:
        source_rows = conn.execute(sa.select(sa.func.count()).select_from(table).where(pk <= new_hwm)).scalar_one()
    elif incremental:
        source_rows = 0
    else:
        source_rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    return LoadResult(
        table=table.name,
        mode="incremental" if incremental else "full_refresh",
        rows_read=rows_read,
        rows_inserted=rows_inserted,
        high_water_mark=new_hwm,
        warehouse_rows=warehouse_rows,
        source_rows=source_rows,
    )


def unbalanced_ledger(duck: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(ledger total in cents, number of transactions whose postings do not sum to zero) in raw."""
    ((total,),) = duck.execute(f'select coalesce(sum(amount_cents), 0) from "{RAW_SCHEMA}".ledger_entries').fetchall()
    ((bad,),) = duck.execute(
        f'select count(*) from (select transaction_id from "{RAW_SCHEMA}".ledger_entries '
        "group by transaction_id having sum(amount_cents) <> 0)"
    ).fetchall()
    return int(total), int(bad)
