"""Registration sends a real email over SMTP (a local aiosmtpd server); the user reads it,
verifies, and only then may borrow, invest or move cash."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api.integrations.email.mailer import token_from
from api.kit.clock import frozen_at
from api.main import create_app
from tests.api.helpers import BORROWER_PROFILE, PASSWORD, email_of, key, login
from tests.conftest import test_settings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"

    def for_address(self, address: str) -> list[Message]:
        return [m for m in self.messages if str(m["To"]) == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_client(database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[TestClient]:
    _, port = smtp
    app = create_app(
        test_settings(database_url, tmp_path, smtp_host="127.0.0.1", smtp_port=port, rate_limit_resend="2/hour")
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.database.dispose()


def _register(client: TestClient, name: str, role: str) -> None:
    body = {"username": name, "email": email_of(name), "password": PASSWORD}
    if role == "borrower":
        response = client.post("/users/register", json=body | {"role": role})
    else:
        response = client.post("/investors/register", json=body)
    assert response.status_code == 201, response.text
    assert "email_verified" not in response.json() or response.json()["email_verified"] is False


def test_register_read_the_email_verify_log_in_and_list_a_loan(
    mail_client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    _register(mail_client, "bella", "borrower")
    (message,) = inbox.for_address(email_of("bella"))
    assert message["Subject"] == "Verify your Peerlend email address"
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "http://127.0.0.1:8000/auth/verify-email?token=" in body

    # Before verifying: logging in and editing the profile work; borrowing does not.
    auth = login(mail_client, "bella")
    assert mail_client.patch("/users/me", json=BORROWER_PROFILE, headers=auth).status_code == 200
    loan = {"amount": "5000.00", "term_months": 36, "purpose": "car", "credit_check_consent": True}
    refused = mail_client.post("/loans/create", json=loan, headers=auth)
    assert refused.status_code == 403 and refused.json()["code"] == "email_not_verified"
    assert "verify your email" in refused.json()["detail"]

    # Follow the link, as a mail client would.
    link = body[body.index("/auth/verify-email?token=") :].split()[0]
    verified = mail_client.get(link)
    assert verified.status_code == 200, verified.text
    assert mail_client.get(link).status_code == 400  # single use
    assert mail_client.get("/users/me", headers=auth).json()["email_verified"] is True
    created = mail_client.post("/loans/create", json=loan, headers=auth)
    assert created.status_code == 201, created.text


def test_unverified_investors_cannot_move_money(mail_client: TestClient, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    _register(mail_client, "ivan", "investor")
    auth = login(mail_client, "ivan")
    for path in ("/investors/me/deposits", "/investors/me/withdrawals"):
        response = mail_client.post(path, json={"amount": "10.00"}, headers=auth | key())
        assert response.status_code == 403 and response.json()["code"] == "email_not_verified"
    assert mail_client.patch("/users/me", json={"risk_preference": "balanced"}, headers=auth).status_code == 200
    token = token_from(inbox.for_address(email_of("ivan"))[-1])
    assert mail_client.post("/auth/verify-email", json={"token": token}).status_code == 200
    assert mail_client.post("/investors/me/deposits", json={"amount": "10.00"}, headers=auth | key()).status_code == 201


def test_resend_replaces_the_old_link_and_is_rate_limited(mail_client: TestClient, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    _register(mail_client, "bella", "borrower")
    auth = login(mail_client, "bella")
    first = token_from(inbox.for_address(email_of("bella"))[0])
    assert mail_client.post("/auth/resend-verification", headers=auth).status_code == 202
    assert mail_client.post("/auth/resend-verification", headers=auth).status_code == 202
    limited = mail_client.post("/auth/resend-verification", headers=auth)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert len(inbox.for_address(email_of("bella"))) == 3
    assert mail_client.post("/auth/verify-email", json={"token": first}).status_code == 400  # replaced
    latest = token_from(inbox.for_address(email_of("bella"))[-1])
    assert mail_client.post("/auth/verify-email", json={"token": latest}).status_code == 200


def test_verification_links_expire(mail_client: TestClient, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    _register(mail_client, "bella", "borrower")
    token = token_from(inbox.for_address(email_of("bella"))[0])
    with frozen_at(datetime.now(UTC) + timedelta(hours=25)):
        expired = mail_client.post("/auth/verify-email", json={"token": token})
    assert expired.status_code == 400 and "expired" in expired.json()["detail"]


def test_without_smtp_messages_go_to_the_local_mailbox(client: TestClient) -> None:
    response = client.post(
        "/users/register",
        json={"username": "bella", "email": email_of("bella"), "password": PASSWORD, "role": "borrower"},
    )
    assert response.status_code == 201
    files = list(client.app.state.settings.mailbox_dir.glob("*.eml"))  # type: ignore[attr-defined]
    assert len(files) == 1
    # the raw file holds the whole link on one line, as README's grep expects
    match = re.search(r"http://\S*/auth/verify-email\?token=([A-Za-z0-9_-]+)", files[0].read_text())
    assert match is not None
    assert client.get(f"/auth/verify-email?token={match.group(1)}").status_code == 200
