"""The exported reference docs and the ORM mappings must agree with the code and migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from api.db.tables import Base
from api.docs_export import OPENAPI_PATH, generated


def test_exported_docs_are_current() -> None:
    for path, text in generated():
        assert path.read_text() == text, f"{path.name} is out of date: run `make docs`"


def test_migrations_match_the_orm(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"the ORM and the migrations differ; add a migration: {diff}"


def test_seed_endpoints_are_in_the_spec() -> None:
    import json

    paths = json.loads(OPENAPI_PATH.read_text())["paths"]
    for path, method in [
        ("/users/register", "post"),
        ("/loans/create", "post"),
        ("/investors/register", "post"),
        ("/loans/list", "get"),
        ("/payments/make", "post"),
    ]:
        assert method in paths[path]
