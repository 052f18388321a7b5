"""Resources: the API's transactional database (read) and the DuckDB warehouse (write).

Both default to `api.settings.get_settings()` (env PEERLEND_DATABASE_URL / PEERLEND_WAREHOUSE_PATH),
resolved when a run uses them, so one code path serves SQLite + a local DuckDB file and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection, make_url

from api.settings import get_settings


class SourceDatabase(dg.ConfigurableResource):
    """The API's database, read through SQLAlchemy in one consistent snapshot per run."""

    url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to api.settings database_url (PEERLEND_DATABASE_URL)."
    )

    def resolved_url(self) -> str:
        return self.url or get_settings().database_url

    def _engine(self) -> sa.Engine:
        url = make_url(self.resolved_url())
        if url.get_backend_name() == "sqlite":
            database = url.database
            if database and database != ":memory:" and not Path(database).exists():
                # A fresh clone has no database yet: read an empty one instead of creating the file.
                dg.get_dagster_logger().warning(f"source database {database} does not exist; reading nothing")
                url = make_url("sqlite://")
            engine = sa.create_engine(url)

            # pysqlite would run each SELECT in autocommit; an explicit BEGIN gives one read snapshot.
            @sa.event.listens_for(engine, "connect")
            def _no_implicit_transactions(dbapi_connection, _record):  # noqa: ANN001
                dbapi_connection.isolation_level = None

            @sa.event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN")

            return engine
        if url.get_backend_name() == "postgresql":
            return sa.create_engine(
                url,
                isolation_level="REPEATABLE READ",
                execution_options={"postgresql_readonly": True},
            )
        return sa.create_engine(url)

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection inside one read transaction: every table read through it is one consistent cut."""
        engine = self._engine()
        try:
            with engine.connect() as conn, conn.begin():
                yield conn
        finally:
            engine.dispose()


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. DuckDB allows one writing process: only the pipeline writes."""

    path: str | None = Field(
        default=None, description="DuckDB file; defaults to api.settings warehouse_path (PEERLEND_WAREHOUSE_PATH)."
    )

    def resolved_path(self) -> Path:
        return Path(self.path or get_settings().warehouse_path).expanduser().resolve()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.resolved_path()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()
