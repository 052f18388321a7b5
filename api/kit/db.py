"""Engines and transactions: the one owner of commit and rollback.

Every unit of work runs inside `Database.transaction()`, which begins, commits or rolls back, and closes
in the same thread and the same call. Request handlers get theirs from the route class in
`api.kit.routing`, so a cancelled request or a vanished client cannot leave a transaction (and, on SQLite,
the write lock) open. Services only flush; they never commit.

Reads and writes are told apart so SQLite can serve both at once: a write transaction starts with
`BEGIN IMMEDIATE` (it takes the write lock before it reads what it will change, which is what the row
locks give on PostgreSQL), a read transaction with a plain deferred `BEGIN`, and in WAL mode readers
never wait for the writer. In one process, writers queue on a lock in Python instead of spinning in
SQLite's busy handler; across processes the busy timeout still applies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.kit.errors import PeerlendError, ServiceUnavailable

log = structlog.get_logger("peerlend.db")

WRITE_OPTION = "peerlend_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A writer that cannot get the in-process write lock this quickly is answered 503 with Retry-After
# instead of piling up behind it.
SQLITE_WRITER_WAIT_S = 20.0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        in_memory = not database or database == ":memory:"
        options: dict[str, Any] = {} if in_memory else {"pool_size": 20, "max_overflow": 20, "pool_timeout": 10}
        options.update(kwargs)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options
        )
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A connection the server dropped fails its
    # statement, SQLAlchemy invalidates the pool, the request answers 503, and the next one reconnects.
    options = {"pool_size": 20, "max_overflow": 20, "pool_timeout": 10, "pool_recycle": 1800}
    options.update(kwargs)
    return create_engine(url, **options)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions by itself: `_on_begin` decides how each one starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # journal_mode is stored in the file: switching it needs a lock, so only ask when it is not WAL yet.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


_AFTER_COMMIT = "peerlend_after_commit"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` after this session's transaction commits, outside it and its locks (it opens its own).
    If the process dies in between, the work's own sweeper finds what is left to do."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


class Database:
    """One per process: the engine, and transactions that cannot outlive the call that opened them."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = build_engine(url, **engine_options)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.dialect = self.engine.dialect.name
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)
        self._write_sessions = sessionmaker(
            bind=self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False, autoflush=False
        )
        self._writer_lock = threading.Lock() if self.sqlite else None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """Commit when the block ends, roll back on any error except those whose bookkeeping must stay
        (PeerlendError.keeps_writes), and always close. Work registered with `after_commit` runs once the
        commit succeeded and every lock is released."""
        lock = self._writer_lock if write else None
        if lock is not None and not lock.acquire(timeout=SQLITE_WRITER_WAIT_S):
            raise ServiceUnavailable("the database is busy; retry shortly", retry_after=1)
        follow_ups: list[Callable[[], None]] = []
        try:
            session = (self._write_sessions if write else self._read_sessions)()
            try:
                yield session
                session.commit()
                follow_ups = session.info.get(_AFTER_COMMIT, [])
            except PeerlendError as exc:
                if exc.keeps_writes:
                    session.commit()
                else:
                    session.rollback()
                raise
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        finally:
            if lock is not None:
                lock.release()
        for follow_up in follow_ups:
            try:
                follow_up()
            except Exception as exc:  # the committed work stands; the follow-up's sweeper retries it
                log.error(
                    "after_commit_failed",
                    work=getattr(follow_up, "__name__", "?"),
                    error_type=type(exc).__name__,
                    exc_info=exc,
                )

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection without a transaction, for a single read that needs no snapshot (the session
        check on every request): one round trip instead of BEGIN, SELECT and ROLLBACK."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
