"""Passwords, lockout, rate limits, refresh rotation, logout and password reset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.identity.security
from api.identity.auth import login_delay_seconds
from api.kit.clock import frozen_at
from api.main import create_app
from tests.api.helpers import PASSWORD, email_of, last_token, login, register, tokens
from tests.conftest import test_settings


@pytest.fixture
def strict_client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = test_settings(database_url, tmp_path, login_max_failures=3, rate_limit_login="100/minute")
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.database.dispose()


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short", "at least 10 characters"), ("password123", "too weak"), ("bella-bella-bella", "too weak")],
)
def test_weak_passwords_are_refused(client: TestClient, password: str, fragment: str) -> None:
    response = client.post(
        "/users/register",
        json={"username": "bella", "email": email_of("bella"), "password": password, "role": "borrower"},
    )
    assert response.status_code == 422 and fragment in response.json()["detail"]
    assert password not in response.text


def test_login_does_the_same_work_whether_or_not_the_user_exists(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    register(client, "bella")
    calls: list[str] = []
    real = api.identity.security._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_[:9])
            return real.verify(hash_, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    monkeypatch.setattr(api.identity.security, "_hasher", CountingHasher())
    assert client.post("/auth/token", data={"username": "bella", "password": "wrong-password-1"}).status_code == 401
    assert client.post("/auth/token", data={"username": "ghost", "password": "wrong-password-1"}).status_code == 401
    assert calls == ["$argon2id", "$argon2id"]  # one full argon2id verification each
    unknown = client.post("/auth/token", data={"username": "ghost", "password": "x"}).json()
    known = client.post("/auth/token", data={"username": "bella", "password": "x"}).json()
    assert unknown == known  # same words: nothing tells whether the account exists


def test_repeated_failures_slow_down_that_client_and_nobody_else(strict_client: TestClient) -> None:
    """Failures count per (account, client address): an attacker hammering bella from one place is made
    to wait, while bella herself, from anywhere else, still logs in."""
    register(strict_client, "bella")
    with frozen_at(datetime.now(UTC)):  # the waits are seconds long: keep the clock still
        for _ in range(3):
            wrong = strict_client.post("/auth/token", data={"username": "bella", "password": "nope-nope-nope"})
            assert wrong.status_code == 401
        throttled = strict_client.post("/auth/token", data={"username": "bella", "password": PASSWORD})
        assert throttled.status_code == 429 and throttled.json()["code"] == "login_throttled"
        assert int(throttled.headers["Retry-After"]) > 0
        elsewhere = TestClient(strict_client.app, client=("198.51.100.7", 40000))
        assert elsewhere.post("/auth/token", data={"username": "bella", "password": PASSWORD}).status_code == 200


def test_waits_grow_with_each_failure_up_to_the_cap(database_url: str, tmp_path: Path) -> None:
    settings = test_settings(database_url, tmp_path, login_max_failures=5, lockout_minutes=15)
    assert [login_delay_seconds(settings, n) for n in (1, 4, 5, 6, 7, 10, 40)] == [0, 0, 1, 2, 4, 32, 900]


def test_login_is_rate_limited_per_client(database_url: str, tmp_path: Path) -> None:
    app = create_app(test_settings(database_url, tmp_path, rate_limit_login="3/minute"))
    with TestClient(app, raise_server_exceptions=False) as client:
        codes = [client.post("/auth/token", data={"username": "x", "password": "y"}).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        limited = client.post("/auth/token", data={"username": "x", "password": "y"})
        assert 0 < int(limited.headers["Retry-After"]) <= 60
    app.state.database.dispose()


def test_registration_is_rate_limited(database_url: str, tmp_path: Path) -> None:
    app = create_app(test_settings(database_url, tmp_path, rate_limit_register="2/minute"))
    with TestClient(app, raise_server_exceptions=False) as client:
        codes = [
            client.post(
                "/investors/register",
                json={"username": f"inv{i}", "email": f"inv{i}@example.com", "password": PASSWORD},
            ).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
    app.state.database.dispose()


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(client: TestClient) -> None:
    register(client, "bella")
    first = tokens(client, "bella")
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "signed out" in replay.json()["detail"]
    # the thief's replay revoked the whole session, including the legitimate new tokens
    assert client.get("/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 401
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_logout_revokes_the_access_token_at_once(client: TestClient) -> None:
    register(client, "bella")
    auth = login(client, "bella")
    other = login(client, "bella")
    assert client.post("/auth/logout", headers=auth).status_code == 200
    assert client.get("/users/me", headers=auth).status_code == 401
    assert client.get("/users/me", headers=other).status_code == 200  # other sessions stay


def test_password_change_signs_out_other_sessions(client: TestClient) -> None:
    register(client, "bella")
    here, elsewhere = login(client, "bella"), login(client, "bella")
    wrong = client.post(
        "/auth/password/change",
        json={"current_password": "not-it-at-all", "new_password": "a brand new passphrase"},
        headers=here,
    )
    assert wrong.status_code == 401
    changed = client.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=here,
    )
    assert changed.status_code == 200, changed.text
    assert client.get("/users/me", headers=here).status_code == 200
    assert client.get("/users/me", headers=elsewhere).status_code == 401
    assert client.post("/auth/token", data={"username": "bella", "password": PASSWORD}).status_code == 401
    assert login(client, "bella", "a brand new passphrase")


def test_password_reset_by_emailed_token(client: TestClient) -> None:
    register(client, "bella")
    session = login(client, "bella")
    unknown = client.post("/auth/password/forgot", json={"email": "nobody@example.com"})
    known = client.post("/auth/password/forgot", json={"email": email_of("bella")})
    assert unknown.status_code == known.status_code == 202 and unknown.json() == known.json()
    token = last_token(client, "bella")
    weak = client.post("/auth/password/reset", json={"token": token, "new_password": "password1"})
    assert weak.status_code == 422
    reset = client.post("/auth/password/reset", json={"token": token, "new_password": "lighthouse keeper at dawn"})
    assert reset.status_code == 200, reset.text
    assert (
        client.post("/auth/password/reset", json={"token": token, "new_password": "another good phrase"}).status_code
        == 400
    )
    assert client.get("/users/me", headers=session).status_code == 401  # every session ended
    assert login(client, "bella", "lighthouse keeper at dawn")


def test_a_long_passphrase_is_accepted(client: TestClient) -> None:
    # found by schemathesis: zxcvbn refuses input over 72 characters; only the first 72 are judged
    long_password = "correct horse battery staple " * 4
    body = {"username": "bella", "email": email_of("bella"), "password": long_password, "role": "borrower"}
    assert client.post("/users/register", json=body).status_code == 201
    assert login(client, "bella", long_password)
