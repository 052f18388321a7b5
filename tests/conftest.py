"""Shared fixtures: the API against SQLite and against PostgreSQL, each schema built by the
Alembic migrations. SQLite tests get a fresh copy of a migrated database; PostgreSQL tests share
one database per test process, emptied between tests."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.db.tables import Base
from api.ledger.repository import open_platform_accounts
from api.main import create_app
from api.settings import PROJECT_ROOT, Settings

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("PEERLEND_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
GENEROUS_LIMIT = "100000/minute"


def migrate(url: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test process, dropped at the end."""
    admin_url = make_url(POSTGRES_URL)
    name = f"peerlend_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgres":
        url = str(request.getfixturevalue("postgres_database"))
        engine = create_engine(url)
        tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        with engine.begin() as connection:
            # TRUNCATE does not fire the audit log's row triggers; nothing else may empty it.
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        with Session(engine) as session, session.begin():
            open_platform_accounts(session)
        engine.dispose()
        return url
    copy = tmp_path / "peerlend.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), copy)
    return f"sqlite:///{copy}"


def test_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "warehouse_path": tmp_path / "warehouse.duckdb",
        "mailbox_dir": tmp_path / "mailbox",
        "rate_limit_login": GENEROUS_LIMIT,
        "rate_limit_register": GENEROUS_LIMIT,
        "rate_limit_token": GENEROUS_LIMIT,
        "rate_limit_resend": GENEROUS_LIMIT,
        "login_max_failures": 1000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    application = create_app(test_settings(database_url, tmp_path))
    yield application
    application.state.database.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
