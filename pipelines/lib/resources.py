"""Resources: the API's transactional database (read) and the DuckDB warehouse (written privately,
published as read-only snapshots).

Both default to `api.settings.get_settings()` (env PEERLEND_DATABASE_URL / PEERLEND_WAREHOUSE_PATH),
resolved when a run uses them, so one code path serves SQLite + a local DuckDB file and PostgreSQL.

Two warehouse files, because DuckDB allows one writing process per file and an open reader in another
process blocks that writer ("Could not set lock on file"):
- the WORK file (PEERLEND_WAREHOUSE_WORK_PATH, default `<published>.work.duckdb`, e.g.
  data/warehouse.work.duckdb): only the pipeline opens it — extract, dbt and the checks;
- the PUBLISHED file (PEERLEND_WAREHOUSE_PATH, default data/warehouse.duckdb): what dashboards, analysts
  and the credit-model monitoring open read-only. The pipeline never opens it; it replaces it atomically
  with a completed copy of the work file (`pipelines.lib.publish`) after a run passed every check.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from api.settings import get_settings
from pipelines.lib.extract import SourceSnapshot, open_snapshot
from pipelines.lib.publish import PublishResult, publish

WORK_PATH_ENV = "PEERLEND_WAREHOUSE_WORK_PATH"


def default_work_path(published: Path) -> Path:
    configured = os.environ.get(WORK_PATH_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return published.with_name(f"{published.stem}.work{published.suffix or '.duckdb'}")


class SourceDatabase(dg.ConfigurableResource):
    """The API's database, read through ADBC in one consistent snapshot per run."""

    url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to api.settings database_url (PEERLEND_DATABASE_URL)."
    )

    def resolved_url(self) -> str:
        return self.url or get_settings().database_url

    @contextmanager
    def snapshot(self) -> Iterator[SourceSnapshot | None]:
        """One read transaction: every table read through it is one consistent cut. None when the SQLite
        file does not exist yet (nothing to read; it is not created)."""
        with open_snapshot(self.resolved_url()) as snap:
            if snap is None:
                dg.get_dagster_logger().warning(
                    f"source database {self.resolved_url()} does not exist; reading nothing"
                )
            yield snap


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse: a private work file the pipeline writes, published as a read-only snapshot."""

    path: str | None = Field(
        default=None,
        description="Published DuckDB file readers open; defaults to api.settings warehouse_path "
        "(PEERLEND_WAREHOUSE_PATH).",
    )
    work_path: str | None = Field(
        default=None,
        description=f"The pipeline's private work file; defaults to {WORK_PATH_ENV} or <published>.work.duckdb.",
    )

    def resolved_path(self) -> Path:
        """The published snapshot."""
        return Path(self.path or get_settings().warehouse_path).expanduser().resolve()

    def resolved_work_path(self) -> Path:
        if self.work_path:
            return Path(self.work_path).expanduser().resolve()
        if self.path:  # a warehouse named explicitly keeps its work file beside it
            published = self.resolved_path()
            return published.with_name(f"{published.stem}.work{published.suffix or '.duckdb'}")
        return default_work_path(self.resolved_path())

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The WORK file (the pipeline's own): nobody else opens it, so its writer is never blocked."""
        path = self.resolved_work_path()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            str(path),
            read_only=read_only,
            # the same budget dbt's profile gives DuckDB (it spills to disk past it)
            config={"memory_limit": os.environ.get("PEERLEND_DUCKDB_MEMORY_LIMIT", "5GB"), "threads": 2},
        )
        try:
            yield con
        finally:
            con.close()

    def publish(self) -> PublishResult:
        return publish(self.resolved_work_path(), self.resolved_path())
