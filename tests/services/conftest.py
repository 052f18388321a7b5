"""Service-level tests: the domain services against a real migrated database (SQLite and PostgreSQL),
each test inside one transaction that is rolled back at the end, with factories instead of HTTP and
without argon2. Faster than the API tests by a wide margin; the API tests keep the HTTP contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from api.kit.db import build_engine
from api.ledger.repository import open_platform_accounts
from tests.conftest import migrate


@pytest.fixture(scope="session")
def service_engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    if backend == "postgres":
        engine = create_engine(str(request.getfixturevalue("postgres_database")))
    else:
        path: Path = tmp_path_factory.mktemp("services") / "services.db"
        migrate(f"sqlite:///{path}")
        engine = build_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def session(service_engine: Engine) -> Iterator[Session]:
    """One transaction per test, rolled back afterwards: what a test writes is never seen by the next."""
    connection = service_engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    open_platform_accounts(db_session)  # an API test on the same database may have emptied the tables
    try:
        yield db_session
    finally:
        db_session.close()
        outer.rollback()
        connection.close()
