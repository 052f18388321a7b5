"""The web app's own settings, read like the API's: `PEERLEND_`-prefixed environment variables (or `.env`).

The warehouse path is the API's setting (`PEERLEND_WAREHOUSE_PATH`, `api.settings`): one name for one file.
What only the web app needs lives here, so the API's settings object does not grow knobs it never reads.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERLEND_", env_file=".env", extra="ignore")

    api_url: str = Field(default="http://127.0.0.1:8000", description="Base URL of the Peerlend API the app calls.")
    api_timeout_seconds: float = Field(default=15.0, gt=0, description="Per-request timeout towards the API.")
    session_idle_minutes: int = Field(
        default=30, ge=1, description="A signed-in browser session idle this long is signed out."
    )
    forward_client_address: bool = Field(
        default=True,
        description="Send the browser's address to the API as X-Forwarded-For, so the API's per-client login "
        "limits apply to each person instead of to the app server. The API believes it only when the app's "
        "address is in PEERLEND_TRUSTED_PROXIES.",
    )
    warehouse_threads: int = Field(default=2, ge=1, description="DuckDB threads for the app's read-only queries.")
    warehouse_memory_limit: str = Field(default="2GB", description="DuckDB memory limit for the app's queries.")


@lru_cache
def get_dashboard_settings() -> DashboardSettings:
    return DashboardSettings()
