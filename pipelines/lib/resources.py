"""Resources: the API's transactional database (read) and the DuckDB warehouse (written privately,
published as read-only snapshots).

Both default to `api.settings.get_settings()` (env PEERLEND_DATABASE_URL / PEERLEND_WAREHOUSE_PATH),
resolved when a run uses them, so one code path serves SQLite + a local DuckDB file and PostgreSQL.

Two warehouse files, because DuckDB allows one writing process per file and an open reader in another
process blocks that writer ("Could not set lock on file"):
- the WORK file (PEERLEND_WAREHOUSE_WORK_PATH, default `<published>.work.duckdb`, e.g.
  data/warehouse.work.duckdb): only the pipeline opens it — extract, dbt and the checks;
- the PUBLISHED file (PEERLEND_WAREHOUSE_PATH, default data/warehouse.duckdb): what dashboards, analysts
  and the credit-model monitoring open read-only. The pipeline never writes it; after a run passed every
  check it renames the work file into its place (`pipelines.lib.publish`), and the next run's work file is
  an older published snapshot no reader holds, brought up to date by that run (`prepare_work`).
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
from pipelines.lib.publish import PublishResult, prepare_work, publish

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

    def ensure_work_file(self) -> str:
        """After a publish the work file is gone (it became the published one): take an older snapshot
        (pipelines.lib.publish.prepare_work). Returns how the work file came to be."""
        path = self.resolved_work_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        how = prepare_work(path, self.resolved_path())
        if how not in ("present", "new"):
            dg.get_dagster_logger().info(f"work file {path}: {how}")
        return how

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The WORK file (the pipeline's own): nobody else opens it, so its writer is never blocked."""
        self.ensure_work_file()
        with _open(self.resolved_work_path(), read_only=read_only) as con:
            yield con

    @contextmanager
    def connect_published(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The published snapshot, read-only as readers open it (default settings: DuckDB shares one instance
        per path within a process, and refuses a second with other settings)."""
        con = duckdb.connect(str(self.resolved_path()), read_only=True)
        try:
            yield con
        finally:
            con.close()

    def publish(self) -> PublishResult:
        return publish(self.resolved_work_path(), self.resolved_path())


@contextmanager
def _open(path: Path, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
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
