"""Bulk writes of the simulated book: every table through one ADBC bulk ingestion (Arrow, no Python rows), chunk
after chunk, into a schema the Alembic migrations made.

ADBC rather than SQLAlchemy executemany: a 1M-loan book is about 100M rows, and ADBC appends an Arrow table in
one call per table and chunk (no per-row Python objects). Polars' own `write_database` would reach the same
driver but opens and commits its own connection per call, and cannot drop the indexes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy.engine import make_url

# Parents before children (foreign keys), as the migrations declare them.
WRITE_ORDER = [
    "users",
    "investors",
    "user_profiles",
    "loans",
    "investments",
    "installments",
    "cash_transfers",
    "payments",
    "payment_distributions",
    "ledger_accounts",
    "ledger_transactions",
    "ledger_entries",
    "notifications",
    "loan_events",
    "loan_fees",
    "note_charge_offs",
    "loan_servicing",
]
SQLITE_CACHE_KIB = 512 * 1024
# Tables whose key is an identity column (the sequence must continue after the book's ids on PostgreSQL).
IDENTITY = {
    "users": "user_id",
    "investors": "investor_id",
    "loans": "loan_id",
    "investments": "investment_id",
    "installments": "installment_id",
    "cash_transfers": "transfer_id",
    "payments": "payment_id",
    "payment_distributions": "distribution_id",
    "ledger_accounts": "account_id",
    "ledger_transactions": "transaction_id",
    "ledger_entries": "entry_id",
    "notifications": "notification_id",
    "loan_events": "event_id",
    "loan_fees": "fee_id",
}

# One joined UPDATE (SQLite >= 3.33 and PostgreSQL): each staged row finds its account by key.
BALANCES_UPDATE = (
    "update ledger_accounts set balance_cents = b.balance_cents, updated_at = b.updated_at "
    "from clone_balances b where b.account_id = ledger_accounts.account_id"
)


def _for_sqlite(frame: pl.DataFrame) -> pa.Table:
    """SQLite keeps what SQLAlchemy writes: timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', dates as ISO text."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime("%Y-%m-%d %H:%M:%S%.6f").alias(name))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%Y-%m-%d").alias(name))
        else:
            out.append(col)
    return frame.select(out).to_arrow()


# PostgreSQL's COPY (binary) takes exactly the column's width: Polars' Int64 into an `integer` column is refused.
_PG_INTS = {"integer": pl.Int32, "smallint": pl.Int16, "bigint": pl.Int64}


def _for_postgres(frame: pl.DataFrame, types: dict[str, str]) -> pa.Table:
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            col = col.dt.replace_time_zone("UTC")
        elif dtype.is_integer() and types.get(name) in _PG_INTS:
            col = col.cast(_PG_INTS[types[name]])
        out.append(col)
    return frame.select(out).to_arrow()


class Writer:
    def __init__(self, url: str, log: Callable[[str], None] = lambda _: None) -> None:
        self.url = make_url(url)
        self.log = log
        self.dialect = self.url.get_backend_name()
        self.indexes: list[str] = []
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> Writer:
        if self.dialect == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite_driver

            if not self.url.database or self.url.database == ":memory:":
                raise ValueError("the simulator writes into a SQLite file")
            self.conn: Any = sqlite_driver.connect(self.url.database, autocommit=True)
            with self.conn.cursor() as cur:  # a bulk load that a crash may lose: the benchmark rebuilds it then
                cur.execute("pragma synchronous = off")
                # index builds sort on disk, not in memory (at 1M loans, 68M postings: many GiB otherwise)
                cur.execute("pragma temp_store = file")
                # CREATE INDEX sorts within cache_size pages and merges the rest from the temp file: with the
                # default 2 MiB, indexing 70M postings re-read ~900 GB from the page cache and did not finish in
                # 18 minutes; 512 MiB keeps memory bounded and the merge to a few passes
                cur.execute(f"pragma cache_size = -{SQLITE_CACHE_KIB}")
            self.conn.adbc_connection.set_options(**{"adbc.connection.autocommit": "false"})
            self.pg_columns = {}
            # Maintaining secondary indexes row by row costs more than building them once at the end.
            with self.conn.cursor() as cur:
                cur.execute(
                    "select name, sql from sqlite_master where type = 'index' and sql is not null "
                    "and tbl_name in (" + ", ".join(f"'{t}'" for t in WRITE_ORDER) + ")"
                )
                for index_name, sql in cur.fetchall():
                    cur.execute(f'drop index "{index_name}"')
                    self.indexes.append(sql)
            self.conn.adbc_connection.commit()
        elif self.dialect == "postgresql":
            import adbc_driver_postgresql.dbapi as pg_driver

            uri = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = pg_driver.connect(uri)
            with self.conn.cursor() as cur:
                cur.execute(
                    "select table_name, column_name, data_type from information_schema.columns "
                    "where table_schema = current_schema()"
                )
                columns: dict[str, dict[str, str]] = {}
                for table, column, data_type in cur.fetchall():
                    columns.setdefault(table, {})[column] = data_type
            self.pg_columns = columns
        else:
            raise ValueError(f"unsupported database {self.dialect!r} (SQLite or PostgreSQL)")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.conn.close()

    def convert(self, table: str, frame: pl.DataFrame) -> pa.Table:
        if self.dialect == "sqlite":
            return _for_sqlite(frame)
        return _for_postgres(frame, self.pg_columns.get(table, {}))

    def _commit(self) -> None:
        # the driver's own commit: the DB-API wrapper, opened in autocommit mode for the pragma, would skip it
        self.conn.adbc_connection.commit()

    def check_platform_accounts(self, expected: pl.DataFrame) -> None:
        """The migrations opened the platform's accounts (processor cash id 1, fee and servicing income after it);
        the book's platform accounts are those rows, their balances set at the end."""
        with self.conn.cursor() as cur:
            cur.execute("select account_id, account_type from ledger_accounts order by account_id")
            existing = [(int(a), str(k)) for a, k in cur.fetchall()]
        wanted = [(int(a), str(k)) for a, k in expected.sort("account_id").iter_rows()]
        if existing != wanted:
            raise RuntimeError(f"expected only the migrations' platform accounts {wanted}, found {existing}")

    def write(self, tables: dict[str, pl.DataFrame], counts: dict[str, int]) -> None:
        """Append each table (in foreign-key order), one bulk ingestion and one commit per table."""
        for name in WRITE_ORDER:
            frame = tables.get(name)
            if frame is None or frame.is_empty():
                continue
            started = time.perf_counter()
            with self.conn.cursor() as cur:
                cur.adbc_ingest(name, self.convert(name, frame), mode="append")
            self._commit()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            counts[name] = counts.get(name, 0) + frame.height

    def set_balances(self, balances: pl.DataFrame) -> None:
        """Balances (and updated_at) of accounts written before their postings: through a staging table, one
        statement. updated_at matters: the migrations stamped the platform's rows with the wall clock, which
        would put the extract's updated_at watermark ahead of the book's whole timeline.

        The staging table is indexed on account_id and joined by UPDATE ... FROM (SQLite >= 3.33 and PostgreSQL
        alike): the earlier correlated subqueries against the unindexed table scanned it once per account, about
        2,000 s of a 1M-loan build."""
        with self.conn.cursor() as cur:
            cur.adbc_ingest("clone_balances", self.convert("ledger_accounts", balances), mode="replace", temporary=True)
            cur.execute("create unique index clone_balances_account on clone_balances (account_id)")
            cur.execute(BALANCES_UPDATE)
            cur.execute("drop table clone_balances")
        self._commit()

    def finish(self, ids: dict[str, int]) -> None:
        if self.indexes:
            started = time.perf_counter()
            with self.conn.cursor() as cur:
                for sql in self.indexes:
                    cur.execute(sql)
            self._commit()
            self.seconds["indexes"] = time.perf_counter() - started
            self.log(f"rebuilt {len(self.indexes)} indexes in {self.seconds['indexes']:.1f} s")
        if self.dialect == "postgresql":
            with self.conn.cursor() as cur:  # the identity sequences continue after the book's ids
                for name, pk in IDENTITY.items():
                    cur.execute(
                        f"select setval(pg_get_serial_sequence('{name}', '{pk}'), "
                        f"(select coalesce(max({pk}), 1) from {name}))"
                    )
            self._commit()
        del ids
        self.log("written: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
