"""Bring a database to the newest schema with the Alembic migrations (the schema's source of truth)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from api.settings import PROJECT_ROOT


def upgrade(url: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
