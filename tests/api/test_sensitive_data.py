"""No password, token or full date of birth ever appears in a log line or an error response."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.kit.log_config import REDACTED, ScrubFilter, redact
from tests.api.helpers import BORROWER_PROFILE, PASSWORD, email_of, last_token, login, register, tokens

SECRETS_DOB = BORROWER_PROFILE["date_of_birth"]


def test_flows_leave_no_secret_in_logs_or_errors(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    register(client, "bella")
    pair = tokens(client, "bella")
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    responses = [
        client.post("/auth/token", data={"username": "bella", "password": "Wrong-" + PASSWORD}),
        client.post("/auth/token", data={"username": "nobody", "password": PASSWORD}),
        client.patch("/users/me", json={"date_of_birth": SECRETS_DOB, "phone": "bad"}, headers=auth),
        client.patch("/users/me", json={"date_of_birth": "2999-12-31"}, headers=auth),
        client.post(
            "/users/register", json={"username": "x1y", "email": "bad", "password": PASSWORD, "role": "borrower"}
        ),
        client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"] + "x"}),
        client.post("/auth/password/forgot", json={"email": email_of("bella")}),
    ]
    reset_token = last_token(client, "bella")
    responses.append(client.post("/auth/password/reset", json={"token": reset_token, "new_password": "short"}))
    responses.append(client.get("/users/me", headers={"Authorization": "Bearer not.a.jwt"}))
    assert login(client, "bella")
    output = capsys.readouterr()
    logged = output.out + output.err
    assert "login_failed" in logged  # the security events are logged ...
    bodies = " ".join(r.text for r in responses)
    for secret in (PASSWORD, pair["access_token"], pair["refresh_token"], reset_token, SECRETS_DOB, "2999-12-31"):
        assert secret not in logged, f"{secret[:12]}... leaked into the logs"  # ... without their secrets
        assert secret not in bodies, f"{secret[:12]}... leaked into an error response"


def test_redaction_of_structured_events_and_access_log_lines() -> None:
    event = redact(None, "info", {"event": "x", "password": "p", "date_of_birth": "1990-01-01", "note": "token=abc123"})
    assert event["password"] == event["date_of_birth"] == REDACTED
    assert event["note"] == f"token={REDACTED}"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/auth/verify-email?token=SECRETSECRETSECRET", "1.1", 200),
        None,
    )
    ScrubFilter().filter(record)
    assert "SECRETSECRETSECRET" not in record.getMessage()
