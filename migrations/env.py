"""Alembic environment: the URL comes from the one settings object (PEERLEND_DATABASE_URL)
unless a caller passes `sqlalchemy.url` explicitly (tests do)."""

from __future__ import annotations

import warnings

from alembic import context

from api.db.tables import Base
from api.kit.db import build_engine
from api.settings import get_settings

# SQLite's table copies (batch mode) reflect `users`, whose lower(...) indexes SQLite cannot reflect; the
# migrations that copy it re-create them, so the warning is noise.
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = build_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
