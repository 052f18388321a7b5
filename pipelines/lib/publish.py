"""Publish the work file as the read-only snapshot readers open: copy, verify, rename.

`os.replace` is atomic on POSIX: a reader that opens the published path gets either the whole old file
or the whole new one, never a half-copied file. A reader that already has the old file open keeps it
(its inode lives until closed), so it goes on seeing one consistent, older snapshot; its next open sees
the new one. The writer never touches the published file, so no reader can block it.

    uv run python -c "from pipelines.lib.resources import Warehouse; print(Warehouse().publish())"
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

BUILT_TABLE = "_published_build"
# the keys a published build covered, per immutable raw table (record_built_marks)
MARKS_TABLE = "_published_marks"


def built_generation(duck: duckdb.DuckDBPyConnection) -> int | None:
    """The extract generation (pipelines.lib.extract.generation) the last published build was made from."""
    exists = duck.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [BUILT_TABLE]
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = duck.execute(f'select generation from raw."{BUILT_TABLE}"').fetchall()
    return int(rows[0][0]) if rows else None


def record_built_generation(duck: duckdb.DuckDBPyConnection, generation: int) -> None:
    """After a build passed every test and reconciliation: its generation, and the marks of what it covered
    (`record_built_marks`), in one transaction."""
    duck.execute("begin transaction")
    try:
        duck.execute(f'create table if not exists raw."{BUILT_TABLE}" (generation BIGINT)')
        duck.execute(f'delete from raw."{BUILT_TABLE}"')
        duck.execute(f'insert into raw."{BUILT_TABLE}" values (?)', [generation])
        record_built_marks(duck)
        duck.execute("commit")
    except BaseException:
        duck.execute("rollback")
        raise


def _immutable_tables() -> dict[str, str]:
    """{raw table: its integer key} for the append-only tables whose rows never change once written (no
    `reopen`): what a mark can vouch for."""
    from pipelines.lib.extract import LOAD_MODES, ById, primary_key, source_tables

    tables = source_tables()
    return {
        name: primary_key(tables[name]).name
        for name, mode in LOAD_MODES.items()
        if isinstance(mode, ById) and mode.reopen is None and name in tables
    }


def record_built_marks(duck: duckdb.DuckDBPyConnection) -> None:
    """raw._published_marks: the largest key of each immutable raw table as the build saw it (nothing writes
    raw between dbt and this). dbt's `published_mark` macro reads them: rows past a mark are what the next
    incremental build tests and rebuilds; rows up to it were built and tested by a published build."""
    duck.execute(f'create or replace table raw."{MARKS_TABLE}" (table_name VARCHAR, max_id BIGINT)')
    present = {
        r[0]
        for r in duck.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
    }
    for table, key in sorted(_immutable_tables().items()):
        if table in present:
            duck.execute(f'insert into raw."{MARKS_TABLE}" select ?, max("{key}") from raw."{table}"', [table])


def clear_built_marks(duck: duckdb.DuckDBPyConnection) -> None:
    """Before a build of everything: without marks, every test reads every row and every incremental
    model that asks for a mark rebuilds from all rows."""
    duck.execute(f'drop table if exists raw."{MARKS_TABLE}"')


@dataclass(frozen=True)
class PublishResult:
    published: Path
    bytes: int
    checkpoint_seconds: float
    copy_seconds: float
    seconds: float


class NothingToPublish(FileNotFoundError):
    pass


def publish(work: Path, published: Path, *, fsync: bool = True) -> PublishResult:
    """Copy `work` (closed by every writer) next to `published` and rename it into place."""
    started = time.perf_counter()
    if not work.exists():
        raise NothingToPublish(f"no warehouse work file at {work}: run the pipeline first")
    # Fold the write-ahead log into the file: a copy of the main file alone would miss the last writes.
    con = duckdb.connect(str(work))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    wal = work.with_name(work.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise RuntimeError(f"{wal} is not empty after a checkpoint: is another process writing {work}?")
    checkpointed = time.perf_counter()

    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(work, tmp)  # sendfile(2) on Linux: no copy through Python
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        copied = time.perf_counter()
        # never rename a file DuckDB cannot open over a good one
        check = duckdb.connect(str(tmp), read_only=True)
        try:
            check.execute("select count(*) from information_schema.tables").fetchall()
        finally:
            check.close()
        os.replace(tmp, published)
    finally:
        if tmp.exists():
            tmp.unlink()
    if fsync:  # the rename itself, durably
        fd = os.open(published.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return PublishResult(
        published=published,
        bytes=published.stat().st_size,
        checkpoint_seconds=checkpointed - started,
        copy_seconds=copied - checkpointed,
        seconds=time.perf_counter() - started,
    )
