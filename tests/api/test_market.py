"""Done-when test of the marketplace, on PostgreSQL: hundreds of investors with auto-invest rules and dozens of
listings; auto-invest, manual investors, issuance, expiry and every notice delivered on three channels (the
feed, email to a real SMTP server in the test, signed webhooks to a receiver in the test, one of which fails
first and is retried with backoff). Then: no over-funding, no negative cash, a ledger that sums to zero, every
funded loan's parties told exactly once per channel, and expired listings released every cent."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.integrations.email.mailer import build_mailer
from api.integrations.webhooks.client import HttpWebhookSender
from api.integrations.webhooks.security import verify
from api.kit.clock import frozen_at
from api.ledger import repository as ledger_repo
from api.lending import auto_invest, listings
from api.lending.schemas import AutoInvestRules
from api.main import create_app
from api.notifications import outbox
from api.notifications import service as notifications
from tests import factories
from tests.api.helpers import invest
from tests.conftest import test_settings

INVESTORS = 240
LISTINGS = 36
SUBSCRIBERS = 30  # investors (and every borrower) with a webhook subscription


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


class _Receiver(BaseHTTPRequestHandler):
    deliveries: list[tuple[str, dict[str, str], bytes]] = []
    fail_first: set[str] = set()  # paths that answer 500 once
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            if self.path in self.fail_first:
                self.fail_first.discard(self.path)
                self.send_response(500)
                self.end_headers()
                return
            self.deliveries.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd checks its own readiness by connecting: it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[int]:
    _Receiver.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def test_a_market_of_hundreds_of_automated_investors(
    backend: str, database_url: str, tmp_path: Path, smtp: tuple[_Inbox, int], receiver: int
) -> None:
    if backend != "postgres":
        pytest.skip("the market test runs on PostgreSQL")
    inbox, smtp_port = smtp
    settings = test_settings(
        database_url, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp_port, webhook_allow_private_targets=True
    )
    app = create_app(settings)
    database = app.state.database
    hook = f"http://127.0.0.1:{receiver}"
    secrets: dict[str, str] = {}
    grades = ["A", "B", "C", "D", "E", "F", "G"]
    with database.transaction() as session:
        investors = []
        for n in range(INVESTORS):
            caller = factories.investor(session, cash_cents=(5 + n % 20) * 10_000)
            chosen = grades[n % 3 : n % 3 + 3 + n % 4]
            rules = AutoInvestRules.model_validate(
                {
                    "grades": chosen,
                    "amount_per_note": f"{25 * (1 + n % 2)}.00",
                    "max_per_loan": f"{25 * (2 + n % 3)}.00",
                    "cash_to_keep": f"{10 * (n % 5)}.00",
                }
            )
            auto_invest.save_rules(session, settings, caller, rules)
            if n < SUBSCRIBERS:
                made = notifications.subscribe(session, settings, caller.user_id, f"{hook}/i{n}", ["loan.funded"])
                secrets[f"/i{n}"] = made.secret
            investors.append(caller)
        loans = []
        for n in range(LISTINGS):
            borrower = factories.borrower(session, income_cents=(40 + 7 * n) * 100_000)
            made = notifications.subscribe(session, settings, borrower.user_id, f"{hook}/b{n}", ["loan.funded"])
            secrets[f"/b{n}"] = made.secret
            loans.append(
                factories.listing(
                    session, borrower, amount_cents=(40 + 4 * n) * 2_500, accept_partial_funding=n % 2 == 0
                )
            )
    _Receiver.fail_first = {"/i0", "/b0"}

    run = auto_invest.run(database, settings, trigger="test")
    assert run.listings == LISTINGS and run.notes > LISTINGS
    with TestClient(app, raise_server_exceptions=False) as client:
        with database.transaction() as session:  # verified, with cash (the test's SMTP server gets the mail)
            hand = factories.investor(session, cash_cents=90_000_000)
        token = client.post("/auth/token", data={"username": hand.username, "password": factories.PASSWORD})
        manual = {"Authorization": f"Bearer {token.json()['access_token']}"}
        # Two listings of three are filled by a manual investor; the rest wait for expiry.
        for loan in loans:
            if loan.loan_id % 3:
                row = client.get(f"/loans/{loan.loan_id}", headers=manual).json()
                left = float(row["amount"]) - float(row["funded_amount"])
                answer = invest(client, manual, loan.loan_id, f"{left:.2f}")
                assert answer.status_code == 201 and answer.json()["loan_status"] == "funded", answer.text
    with frozen_at(datetime.now(UTC) + timedelta(days=15)):
        ended = listings.expire_due(database, settings)
    assert len(ended.expired) + len(ended.funded_partially) == len([x for x in loans if x.loan_id % 3 == 0])

    mailer, sender = build_mailer(settings), HttpWebhookSender(allow_private=True, require_https=False, timeout=5)
    first = outbox.deliver_due(database, settings, mailer, sender, worker="test")
    assert first.failed == 2 and first.dead == 0  # the two failing receivers
    later = datetime.now(UTC) + timedelta(days=16)  # past the backoff, and the partial issuances made at expiry
    second = outbox.deliver_due(database, settings, mailer, sender, worker="test", now=later)
    assert second.sent > 2 and second.failed == 0  # the two retried, and the notices of the expiry's issuances
    assert outbox.deliver_due(database, settings, mailer, sender, worker="test", now=later).sent == 0

    with database.engine.connect() as connection:
        q = lambda sql: connection.execute(text(sql)).all()  # noqa: E731
        assert q("SELECT loan_id FROM loans WHERE funded_amount_cents > amount_cents") == []
        assert (
            q("SELECT account_id FROM ledger_accounts WHERE account_type = 'investor_cash' AND balance_cents > 0") == []
        )
        assert q("SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries") == [(0,)]
        # Expired listings released every cent: no commitment left on them, and no commitment money anywhere.
        assert (
            q(
                "SELECT i.investment_id FROM investments i JOIN loans l USING (loan_id) "
                "WHERE l.status = 'expired' AND i.status <> 'released' AND i.status <> 'cancelled'"
            )
            == []
        )
        assert (
            q(
                "SELECT account_id FROM ledger_accounts "
                "WHERE account_type = 'investor_commitments' AND balance_cents <> 0"
            )
            == []
        )
        funded = q("SELECT loan_id, borrower_id FROM loans WHERE status = 'current'")
        parties = {
            loan_id: {borrower}
            | {
                int(u)
                for (u,) in connection.execute(
                    text(
                        "SELECT DISTINCT v.user_id FROM investments i JOIN investors v USING (investor_id) "
                        "WHERE i.loan_id = :l AND i.status = 'issued'"
                    ),
                    {"l": loan_id},
                )
            }
            for loan_id, borrower in funded
        }
        feed = Counter(
            (int(loan), int(user))
            for loan, user in q("SELECT loan_id, user_id FROM notifications WHERE kind = 'loan_funded'")
        )
        emails = {int(u): e for u, e in q("SELECT user_id, email FROM users")}
    with database.transaction() as session:
        assert ledger_repo.balance_mismatches(session) == []
    assert len(funded) >= LISTINGS * 2 // 3
    expected = {(loan, user) for loan, users in parties.items() for user in users}
    assert feed == Counter(expected)  # the feed: once per party
    mailed = Counter()
    for recipients, message in inbox.messages:
        if "is funded" not in str(message["Subject"]):
            continue  # expiry notices
        loan_id = int(str(message["Subject"]).split("#")[1].split()[0])
        for address in recipients:
            mailed[(loan_id, address)] += 1
    assert mailed == Counter({(loan, emails[user]): 1 for loan, user in expected})  # email: once per party
    hooks = Counter()
    for path, headers, body in _Receiver.deliveries:
        signature = headers["Peerlend-Signature"]
        sent_at = int(signature.split(",")[0].removeprefix("t="))  # the retries ran on a clock moved ahead
        assert verify(secrets[path], signature, body, now=sent_at)
        assert not verify(secrets[path], signature, body + b" ", now=sent_at)
        hooks[(path, json.loads(body)["data"]["loan_id"])] += 1
    assert hooks and set(hooks.values()) == {1}  # webhooks: once per subscription and loan, retries included
