"""Money through the ACH-like sandbox processor, over HTTP on SQLite and PostgreSQL: pending money is never
spendable, settlement is days later, returns reverse exactly what their transfer did (a payment's distribution
included, and later payments re-applied), webhooks are signed, replay-proof, deduplicated and order-free, and
reconciliation matches the processor's settlement report to the ledger."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.integrations.processor import jobs
from api.integrations.processor.webhooks import SIGNATURE_HEADER, signature_header
from api.kit.clock import frozen_at
from api.servicing.reconcile import reconcile
from tests.api.helpers import (
    SEED_PROFILE,
    create_loan,
    deposit,
    invest,
    key,
    login,
    register,
    register_investor,
)

FRIDAY = datetime(2027, 1, 15, 12, tzinfo=UTC)
MONDAY = datetime(2027, 1, 18, 12, tzinfo=UTC)
TUESDAY = datetime(2027, 1, 19, 12, tzinfo=UTC)
ONE_MONTH_LATER = datetime(2027, 2, 15, 12, tzinfo=UTC)  # a Monday


def run(client: TestClient, **options: Any) -> jobs.ProcessorRun:
    state = client.app.state  # type: ignore[attr-defined]
    return jobs.run(state.database, state.processor, state.settings, **options)


def books_reconcile(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    found = reconcile(state.database, state.processor)
    assert found.ok, found.differences


def cash(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    response = client.get("/investors/me/cash", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def pay(client: TestClient, loan_id: int, amount: str) -> dict[str, Any]:
    made = client.post(
        "/payments/make", json={"loan_id": loan_id, "amount": amount}, headers=login(client, "bella") | key()
    )
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture
def seed_loan(client: TestClient) -> Iterator[dict[str, Any]]:
    """The seed's loan ($5,000 at 6 % over 36 months), funded by ivan and iris on Friday 15 Jan 2027, its
    disbursement settled."""
    with frozen_at(FRIDAY):
        register(client, "bella", profile=SEED_PROFILE)
        loan = create_loan(client, login(client, "bella"), rate="6.00")
        for name in ("ivan", "iris"):
            register_investor(client, name)
            auth = login(client, name)
            deposit(client, auth, "3000.00")
            assert invest(client, auth, loan["loan_id"], "2500.00").status_code == 201
        run(client, settle_all_now=True)
    yield loan


def test_a_deposit_is_pending_and_unspendable_until_it_settles_two_business_days_later(client: TestClient) -> None:
    with frozen_at(FRIDAY):
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        made = deposit(client, auth, "100.00", settled=False)
        assert (made["status"], made["cash_balance"], made["pending_cash"]) == ("pending", "0.00", "100.00")
        register(client, "bella")
        loan = create_loan(client, login(client, "bella"))
        refused = invest(client, auth, loan["loan_id"], "25.00")
        assert refused.status_code == 409 and "available cash is 0.00" in refused.json()["detail"]
        withdrawal = client.post("/investors/me/withdrawals", json={"amount": "10.00"}, headers=auth | key())
        assert withdrawal.status_code == 409
        assert run(client).submitted == 1
    with frozen_at(MONDAY):  # one business day: not yet
        run(client)
        assert (cash(client, auth)["available"], cash(client, auth)["pending"]) == ("0.00", "100.00")
    with frozen_at(TUESDAY):  # two business days after Friday, the weekend skipped
        assert run(client).delivered == 1
        now = cash(client, auth)
        assert (now["available"], now["pending"]) == ("100.00", "0.00")
        assert now["transfers"][0]["status"] == "settled" and now["transfers"][0]["settled_on"] == "2027-01-19"
        assert invest(client, auth, loan["loan_id"], "25.00").status_code == 201
        portfolio = client.get("/investors/me/portfolio", headers=auth).json()
        assert (portfolio["cash_available"], portfolio["cash_pending"]) == ("75.00", "0.00")
        books_reconcile(client)


def test_a_deposit_returned_r01_the_next_business_day_never_becomes_cash(client: TestClient) -> None:
    with frozen_at(FRIDAY):
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        deposit(client, auth, "100.01", settled=False)  # the sandbox returns .01 with R01
        run(client)
    with frozen_at(MONDAY):
        run(client)
        now = cash(client, auth)
        assert (now["available"], now["pending"]) == ("0.00", "0.00")
        assert (now["transfers"][0]["status"], now["transfers"][0]["return_code"]) == ("returned", "R01")
        books_reconcile(client)


def test_a_withdrawal_leaves_cash_at_once_and_comes_back_if_the_bank_returns_it(client: TestClient) -> None:
    with frozen_at(FRIDAY):
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        deposit(client, auth, "300.00")
        out = client.post("/investors/me/withdrawals", json={"amount": "120.02"}, headers=auth | key())  # R02
        assert out.status_code == 201 and out.json()["cash_balance"] == "179.98"
        second = client.post("/investors/me/withdrawals", json={"amount": "179.99"}, headers=auth | key())
        assert second.status_code == 409  # the first one's money is already gone from available cash
        run(client)
    with frozen_at(MONDAY):
        run(client)
        assert cash(client, auth)["available"] == "300.00"
        books_reconcile(client)


def _captured(client: TestClient) -> list[tuple[bytes, dict[str, str]]]:
    """Let the sandbox raise its events and capture the signed deliveries instead of sending them."""
    state = client.app.state  # type: ignore[attr-defined]
    captured: list[tuple[bytes, dict[str, str]]] = []
    state.processor.deliver(lambda body, headers: captured.append((body, headers)) or 500)
    # by amount, so the test does not depend on the order the processor raised its events in
    return sorted(captured, key=lambda delivery: json.loads(delivery[0])["data"]["amount_cents"])


def test_webhooks_are_signed_replay_proof_deduplicated_and_order_free(client: TestClient) -> None:
    with frozen_at(FRIDAY):
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        deposit(client, auth, "50.00", settled=False)
        deposit(client, auth, "60.00", settled=False)
        outbox_run = jobs.outbox.submit_queued(client.app.state.database, client.app.state.processor)  # type: ignore[attr-defined]
        assert outbox_run.submitted == 2
        client.app.state.processor.settle_all_now()  # type: ignore[attr-defined]
        deliveries = _captured(client)
    assert len(deliveries) == 2
    url = "/integrations/processor/webhooks"
    body, headers = deliveries[1]
    secret = client.app.state.settings.processor_webhook_secret.get_secret_value()  # type: ignore[attr-defined]
    assert client.post(url, content=body, headers={SIGNATURE_HEADER: "t=1,v1=00"}).status_code == 401
    assert client.post(url, content=body).status_code == 401
    stale = signature_header(secret, body, now=int(time.time()) - 3_600)
    assert client.post(url, content=body, headers=stale).status_code == 401  # a replay of an old delivery
    forged = body.replace(b"6000", b"9000")
    assert client.post(url, content=forged, headers=headers).status_code == 401
    # the second event first (out of order), then again (a duplicate), then the first
    assert client.post(url, content=body, headers=headers).json() == {"outcome": "applied"}
    assert client.post(url, content=body, headers=signature_header(secret, body)).json() == {"outcome": "duplicate"}
    first, first_headers = deliveries[0]
    assert client.post(url, content=first, headers=first_headers).json() == {"outcome": "applied"}
    assert cash(client, auth)["available"] == "110.00"
    # a settlement for a transfer already returned (a late, reordered delivery) changes nothing
    event = json.loads(first)
    event["id"] = "evt_reordered"
    event["type"] = "transfer.returned"
    event["data"]["return_code"] = "R01"
    late = json.dumps(event).encode()
    with frozen_at(TUESDAY):
        assert client.post(url, content=late, headers=signature_header(secret, late)).json()["outcome"] == "applied"
    assert cash(client, auth)["available"] == "60.00"
    event["id"], event["type"], event["data"]["return_code"] = "evt_after_return", "transfer.settled", None
    again = json.dumps(event).encode()
    assert client.post(url, content=again, headers=signature_header(secret, again)).json()["outcome"] == "ignored"
    assert cash(client, auth)["available"] == "60.00"
    bad = json.dumps({"id": "x", "type": "transfer.exploded"}).encode()
    assert client.post(url, content=bad, headers=signature_header(secret, bad)).status_code == 400
    unknown = json.dumps({**event, "id": "evt_unknown", "data": {**event["data"], "client_reference": "pl_x"}})
    assert client.post(url, content=unknown, headers=signature_header(secret, unknown.encode())).status_code == 409


def test_webhooks_delivered_shuffled_and_twice_settle_every_transfer_once(client: TestClient) -> None:
    with frozen_at(FRIDAY):
        names = [f"inv{n}" for n in range(4)]
        for name in names:
            register_investor(client, name)
            deposit(client, login(client, name), f"{100 + 10 * names.index(name)}.00", settled=False)
        state = client.app.state  # type: ignore[attr-defined]
        jobs.outbox.submit_queued(state.database, state.processor)
        state.processor.settle_all_now()
        state.processor.deliver(
            jobs.in_process_delivery(state.database, state.settings), shuffle=random.Random(7), duplicate=True
        )
        assert [cash(client, login(client, n))["available"] for n in names] == ["100.00", "110.00", "120.00", "130.00"]
        books_reconcile(client)


def test_a_payment_is_pending_for_the_note_holders_until_it_settles(
    client: TestClient, seed_loan: dict[str, Any]
) -> None:
    with frozen_at(ONE_MONTH_LATER):
        ivan = login(client, "ivan")
        before = cash(client, ivan)
        paid = pay(client, seed_loan["loan_id"], "152.11")
        assert paid["status"] == "pending" and paid["distributions"]
        share = sum(
            Decimal(d["principal"]) + Decimal(d["interest"]) - Decimal(d["servicing_fee"])
            for d in paid["distributions"]
            if d["investor_id"] == client.get("/investors/me/portfolio", headers=ivan).json()["investor_id"]
        )
        now = cash(client, ivan)
        assert now["available"] == before["available"]
        assert now["pending"] == f"{share:.2f}"
        run(client, settle_all_now=True)
        settled = cash(client, ivan)
        assert settled["pending"] == "0.00"
        assert settled["available"] == f"{Decimal(before['available']) + share:.2f}"
        listed = client.get(f"/loans/{seed_loan['loan_id']}/payments", headers=login(client, "bella")).json()
        assert [p["status"] for p in listed] == ["settled"]
        books_reconcile(client)


def _principal(client: TestClient, loan_id: int) -> str:
    return str(client.get(f"/loans/{loan_id}/servicing", headers=login(client, "bella")).json()["principal"])


def test_a_returned_payment_reverses_its_distribution_and_the_loan_is_owed_again(
    client: TestClient, seed_loan: dict[str, Any]
) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        owed = _principal(client, loan_id)
        paid = pay(client, loan_id, "152.01")  # R01 in the sandbox, the next business day
        assert paid["distributions"] and _principal(client, loan_id) != owed
        run(client)
    with frozen_at(datetime(2027, 2, 16, 12, tzinfo=UTC)):
        run(client)
        listed = client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json()
        assert [(p["status"], p["return_code"]) for p in listed] == [("returned", "R01")]
        assert _principal(client, loan_id) == owed
        assert cash(client, login(client, "ivan"))["pending"] == "0.00"
        books_reconcile(client)


def test_returning_an_earlier_payment_re_applies_the_later_ones(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    state = client.app.state  # type: ignore[attr-defined]
    with frozen_at(ONE_MONTH_LATER):
        first = pay(client, loan_id, "152.11")
        second = pay(client, loan_id, "500.00")  # a prepayment the same day, after the first
        run(client)
        with state.database.transaction(write=False) as session:
            reference = session.execute(
                text("SELECT processor_reference FROM payments WHERE payment_id = :p"), {"p": first["payment_id"]}
            ).scalar_one()
        state.processor.force_return(reference, "R01")
    with frozen_at(datetime(2027, 2, 16, 12, tzinfo=UTC)):
        run(client)
        listed = client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json()
        statuses = {p["payment_id"]: p["status"] for p in listed}
        assert statuses[first["payment_id"]] == "returned"
        assert second["payment_id"] not in [p["payment_id"] for p in listed if p["status"] == "pending"]
        live = [p for p in listed if p["status"] in ("pending", "settled") and p["amount"] == "500.00"]
        assert len(live) == 1 and live[0]["payment_id"] != second["payment_id"]
        # the second payment now pays the month's interest first: its split changed
        assert live[0]["interest"] != second["interest"]
        books_reconcile(client)
    with frozen_at(datetime(2027, 2, 17, 12, tzinfo=UTC)):
        run(client)
        assert [
            p["status"]
            for p in client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json()
            if p["payment_id"] == live[0]["payment_id"]
        ] == ["settled"]
        books_reconcile(client)


def test_a_returned_payoff_reopens_the_loan(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    state = client.app.state  # type: ignore[attr-defined]
    with frozen_at(ONE_MONTH_LATER):
        bella = login(client, "bella")
        payoff = client.get(f"/loans/{loan_id}/payoff", headers=bella).json()["payoff"]
        paid = pay(client, loan_id, payoff)
        assert paid["loan_status"] == "repaid"
        run(client)
        state.processor.force_return(paid["processor_reference"], "R10")
    with frozen_at(datetime(2027, 2, 16, 12, tzinfo=UTC)):
        run(client)
        loan = client.get(f"/loans/{loan_id}", headers=login(client, "bella")).json()
        assert loan["status"] == "grace"  # open again, and a day past the installment due on the 15th
        books_reconcile(client)


def test_an_overpayment_is_refunded_through_the_processor(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        bella = login(client, "bella")
        payoff = client.get(f"/loans/{loan_id}/payoff", headers=bella).json()["payoff"]
        over = f"{Decimal(payoff) + 40:.2f}"
        paid = pay(client, loan_id, over)
        assert paid["excess"] == "40.00" and paid["loan_status"] == "repaid"
        too_much = client.post(f"/loans/{loan_id}/refunds", json={"amount": "40.01"}, headers=bella | key())
        assert too_much.status_code == 409
        done = client.post(f"/loans/{loan_id}/refunds", json={}, headers=bella | key())
        assert done.status_code == 201, done.text
        assert (done.json()["amount"], done.json()["held_for_borrower"]) == ("40.00", "0.00")
        again = client.post(f"/loans/{loan_id}/refunds", json={}, headers=bella | key())
        assert again.status_code == 409
        assert client.get(f"/loans/{loan_id}/servicing", headers=bella).json()["held_for_borrower"] == "0.00"
        run(client, settle_all_now=True)
        books_reconcile(client)


def test_reconciliation_reports_a_late_return_it_could_not_post(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    with frozen_at(FRIDAY):
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        made = deposit(client, auth, "100.00")
        out = client.post("/investors/me/withdrawals", json={"amount": "100.00"}, headers=auth | key())
        assert out.status_code == 201
        run(client, settle_all_now=True)
        state.processor.force_return(made["processor_reference"], "R10", on=FRIDAY.date())  # the money is gone
        run(client)
        found = reconcile(state.database, state.processor)
        assert not found.ok
        assert any("R10" in d and "not posted" in d for d in found.differences), found.differences
        assert any("processor says returned, we say settled" in d for d in found.differences)
        # what the ledger holds was not touched: its own proofs still hold
        assert found.ledger_total_cents == 0 and not found.balances_off_postings
