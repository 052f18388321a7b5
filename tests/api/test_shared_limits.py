"""With several workers, rate limits are counted in Redis, so they hold for the service as a whole: two
app instances (two workers) sharing one Redis let through exactly the limit, not the limit each. Runs
against the real Redis the test command starts (redis-server on 127.0.0.1:6379)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import test_settings

REDIS_URL = os.environ.get("PEERLEND_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") or os.environ.get("PEERLEND_REQUIRE_REDIS"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: the test command starts one (scripts/ensure_services.sh)")
    return REDIS_URL


def test_two_workers_share_one_login_limit(database_url: str, tmp_path: Path, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"  # counters of other runs never mix in
    workers = [
        create_app(
            test_settings(
                database_url,
                tmp_path,
                rate_limit_storage=redis_url,
                rate_limit_namespace=namespace,
                rate_limit_login="10/minute",
            )
        )
        for _ in range(2)
    ]
    clients = [TestClient(app, client=("203.0.113.9", 1234), raise_server_exceptions=False) for app in workers]
    codes = [
        clients[n % 2].post("/auth/token", data={"username": "nobody", "password": "x"}).status_code for n in range(60)
    ]
    for app in workers:
        app.state.database.dispose()
    assert codes.count(401) == 10 and codes.count(429) == 50
