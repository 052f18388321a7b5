"""Copy the API's tables into the warehouse's `raw` schema.

Append-only tables load incrementally past a primary-key high-water mark; mutable tables are replaced
whole. Reads go through SQLAlchemy Core on the table definitions of `api.db.tables`, so SQLite and
PostgreSQL share one code path. Personal data (users.email, users.password_hash) never leaves the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.db.tables import Base

RAW_SCHEMA = "raw"

APPEND_ONLY_TABLES = (
    "ledger_transactions",
    "ledger_entries",
    "investments",
    "payments",
    "payment_distributions",
    "cash_transfers",
    "notifications",
)
MUTABLE_TABLES = ("users", "investors", "loans", "installments", "ledger_accounts")
SKIPPED_TABLES = frozenset({"idempotency_keys"})
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {"users": frozenset({"email", "password_hash"})}

# DuckDB 2.0: a result read with fetchone() stays "unfinished" and then register()/unregister() raise
# ResourceInUseException, so results here are always read with fetchall().

# Rows re-read below the high-water mark on each incremental load. On PostgreSQL a transaction can
# commit a smaller id after a larger one was already read; re-reading a window (and inserting only the
# ids not yet present) picks such late rows up. The `matches_source` check catches anything older.
LOOKBACK_IDS = 1_000
BATCH_ROWS = 50_000


def source_tables() -> dict[str, sa.Table]:
    """The extracted tables, by name, in the order the API's metadata declares them."""
    return {t.name: t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES}


def extracted_columns(table: sa.Table) -> list[sa.Column]:
    excluded = EXCLUDED_COLUMNS.get(table.name, frozenset())
    return [c for c in table.columns if c.name not in excluded]


def primary_key(table: sa.Table) -> sa.Column:
    (pk,) = table.primary_key.columns
    return pk


def _types(column: sa.Column) -> tuple[str, pa.DataType]:
    t = column.type
    while isinstance(t, sa.TypeDecorator):  # e.g. the API's UtcDateTime
        t = t.impl_instance
    if isinstance(t, sa.BigInteger):
        return "BIGINT", pa.int64()
    if isinstance(t, sa.Integer):
        return "INTEGER", pa.int32()
    if isinstance(t, sa.DateTime):
        return "TIMESTAMP", pa.timestamp("us")  # UTC, naive
    if isinstance(t, sa.Date):
        return "DATE", pa.date32()
    if isinstance(t, sa.Boolean):
        return "BOOLEAN", pa.bool_()
    if isinstance(t, sa.String | sa.Text):
        return "VARCHAR", pa.string()
    raise TypeError(f"no warehouse type for {column.table.name}.{column.name} ({t!r})")


def _utc_naive(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _to_arrow(columns: Sequence[sa.Column], rows: Sequence[Sequence[object]]) -> pa.Table:
    arrays = []
    for i, column in enumerate(columns):
        _, arrow_type = _types(column)
        values = [row[i] for row in rows]
        if pa.types.is_timestamp(arrow_type):
            values = [_utc_naive(v) for v in values]  # type: ignore[arg-type]
        arrays.append(pa.array(values, type=arrow_type))
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def _ddl(table: sa.Table) -> str:
    cols = ", ".join(f'"{c.name}" {_types(c)[0]}' for c in extracted_columns(table))
    return f'"{RAW_SCHEMA}"."{table.name}" ({cols})'


def _ensure_columns(duck: duckdb.DuckDBPyConnection, table: sa.Table) -> None:
    """Add columns the API has gained since the raw table was created (append-only tables persist)."""
    existing = {
        r[0]
        for r in duck.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, table.name],
        ).fetchall()
    }
    for column in extracted_columns(table):
        if column.name not in existing:
            duck.execute(f'alter table "{RAW_SCHEMA}"."{table.name}" add column "{column.name}" {_types(column)[0]}')


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
    target = f'"{RAW_SCHEMA}"."{table.name}"'
    incremental = table.name in APPEND_ONLY_TABLES and not full_refresh
    present = _exists_in_source(conn, table)
    select_cols = [table.c[c.name] for c in columns]

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
