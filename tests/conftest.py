"""Shared fixtures: the API against SQLite and against PostgreSQL, each schema built by the
Alembic migrations, every table emptied between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.db.tables import Base
from api.main import create_app
from api.settings import PROJECT_ROOT, Settings

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("PEERLEND_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


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
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "peerlend.db"
    url = f"sqlite:///{path}"
    migrate(url)
    return url


def _settings(url: str, tmp: Path) -> Settings:
    return Settings(env="test", database_url=url, warehouse_path=tmp / "warehouse.duckdb")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    fixture = "postgres_database" if backend == "postgres" else "sqlite_database"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def app_for(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return create_app(_settings(database_url, tmp_path_factory.mktemp("app")))


def _empty_all_tables(app) -> None:  # type: ignore[no-untyped-def]
    engine = app.state.engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def client(app_for) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    _empty_all_tables(app_for)
    with TestClient(app_for, raise_server_exceptions=False) as test_client:
        yield test_client
