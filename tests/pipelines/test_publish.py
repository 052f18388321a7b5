"""Publication by rename: the work file becomes the published snapshot, the snapshot it replaces is retired,
and the next work file is the oldest retired snapshot no reader holds (else a copy)."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.publish import RETIRED_KEPT, held_open, prepare_work, publish, retired_dir


def _write(path: Path, value: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create or replace table t as select ? as v", [value])
    finally:
        con.close()


def _read(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute("select v from t").fetchall()[0][0])
    finally:
        con.close()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "warehouse.work.duckdb", tmp_path / "warehouse.duckdb"


def test_the_first_publish_copies_and_later_ones_rename(files: tuple[Path, Path]) -> None:
    work, published = files
    _write(work, 1)
    first = publish(work, published, fsync=False)
    assert first.mode == "copy" and work.exists() and _read(published) == 1
    _write(work, 2)
    second = publish(work, published, fsync=False)
    assert second.mode == "rename" and second.copy_seconds == 0
    assert not work.exists() and _read(published) == 2
    (retired,) = retired_dir(published).glob("*.duckdb")
    assert _read(retired) == 1
    # the next work file is that retired snapshot, one build behind, renamed (no copy)
    assert prepare_work(work, published).startswith("retired snapshot")
    assert _read(work) == 1 and not retired.exists()


def test_a_reader_keeps_its_snapshot_and_its_file_is_not_taken(files: tuple[Path, Path]) -> None:
    work, published = files
    _write(work, 1)
    publish(work, published, fsync=False)
    _write(work, 2)
    # another process has the published snapshot (build 1) open, as a dashboard would
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(published)!r}, read_only=True); "
            "print(c.execute('select v from t').fetchall()[0][0], flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "1"
        publish(work, published, fsync=False)
        (retired,) = retired_dir(published).glob("*.duckdb")
        assert held_open(retired)  # its inode is the reader's
        # so the work file is a copy of the published snapshot, and the reader's file is left alone
        assert prepare_work(work, published) == "copy of the published snapshot"
        assert _read(work) == 2 and retired.exists()
    finally:
        assert reader.stdin is not None
        reader.stdin.close()
        reader.wait(timeout=30)
    assert not held_open(retired)


def test_a_snapshot_open_in_this_process_is_not_taken(files: tuple[Path, Path]) -> None:
    """DuckDB's file locks do not conflict within one process: the open descriptors are checked too."""
    work, published = files
    _write(work, 1)
    publish(work, published, fsync=False)
    _write(work, 2)
    analyst = duckdb.connect(str(published), read_only=True)
    try:
        publish(work, published, fsync=False)
        (retired,) = retired_dir(published).glob("*.duckdb")
        assert held_open(retired)
        assert prepare_work(work, published) == "copy of the published snapshot"
        assert analyst.execute("select v from t").fetchall() == [(1,)]
    finally:
        analyst.close()


def test_only_the_newest_retired_snapshots_are_kept(files: tuple[Path, Path]) -> None:
    work, published = files
    for value in range(RETIRED_KEPT + 3):
        _write(work, value)
        publish(work, published, fsync=False)
        # a work file copied fresh each time (as when every retired snapshot is held), so none is taken
        work.unlink(missing_ok=True)
    kept = sorted(retired_dir(published).glob("*.duckdb"))
    assert len(kept) == RETIRED_KEPT
    assert [_read(k) for k in kept] == list(range(RETIRED_KEPT + 3))[-RETIRED_KEPT - 1 : -1]


def test_a_link_to_the_published_snapshot_is_never_the_work_file(files: tuple[Path, Path]) -> None:
    """A publish interrupted between keeping the old snapshot and the rename leaves a retired link to the
    snapshot that is still published: writing it would write what readers read."""
    import os

    work, published = files
    _write(work, 1)
    publish(work, published, fsync=False)
    work.unlink()
    retired_dir(published).mkdir()
    os.link(published, retired_dir(published) / "00000000000000000001.duckdb")
    assert prepare_work(work, published) == "copy of the published snapshot"
    assert not list(retired_dir(published).glob("*.duckdb"))
    assert os.stat(work).st_ino != os.stat(published).st_ino
