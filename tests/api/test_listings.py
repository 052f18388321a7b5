"""Listings that never fund: cancelled by the borrower or expired; committed cash goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.kit.clock import frozen_at
from tests.api.helpers import create_loan, deposit, invest, key, login, make_staff, register, register_investor


def _setup(client: TestClient) -> tuple[dict[str, str], dict[str, str], int]:
    register(client, "bella")
    register_investor(client, "ivan")
    bella, ivan = login(client, "bella"), login(client, "ivan")
    deposit(client, ivan, "1000.00")
    loan_id = create_loan(client, bella)["loan_id"]
    assert invest(client, ivan, loan_id, "400.00").status_code == 201
    return bella, ivan, loan_id


def test_cancelling_returns_committed_cash_and_notifies(client: TestClient) -> None:
    bella, ivan, loan_id = _setup(client)
    assert client.get("/investors/me/portfolio", headers=ivan).json()["committed"] == "400.00"
    cancelled = client.post(f"/loans/{loan_id}/cancel", headers=bella | key())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    assert (portfolio["cash"], portfolio["committed"], portfolio["portfolio_value"]) == ("1000.00", "0.00", "1000.00")
    assert [n["kind"] for n in client.get("/notifications", headers=ivan).json()] == ["loan_cancelled"]
    assert "400.00 is back" in client.get("/notifications", headers=ivan).json()[0]["message"]
    late = invest(client, ivan, loan_id, "25.00")
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]
    again = client.post(f"/loans/{loan_id}/cancel", headers=bella | key())
    assert again.status_code == 409
    trial = client.get("/admin/ledger/trial-balance", headers=make_staff(client, "ops", "admin")).json()
    assert trial["total"] == "0.00" and trial["unbalanced_transactions"] == []


def test_only_the_borrower_cancels_and_only_while_listed(client: TestClient) -> None:
    bella, ivan, loan_id = _setup(client)
    register(client, "bob")
    assert client.post(f"/loans/{loan_id}/cancel", headers=login(client, "bob") | key()).status_code == 404
    assert client.post(f"/loans/{loan_id}/cancel", headers=ivan | key()).status_code == 403
    assert client.post(f"/loans/{loan_id}/cancel", headers=bella).status_code == 400  # no Idempotency-Key
    deposit(client, ivan, "5000.00")
    assert invest(client, ivan, loan_id, "4600.00").json()["loan_status"] == "funded"
    funded = client.post(f"/loans/{loan_id}/cancel", headers=bella | key())
    assert funded.status_code == 409 and "only a listed loan" in funded.json()["detail"]


def test_stale_listings_expire(client: TestClient) -> None:
    bella, ivan, old_loan = _setup(client)
    admin = make_staff(client, "ops", "admin")
    assert client.post("/admin/loans/expire", headers=admin).json() == {
        "expired_loan_ids": [],
        "funded_partially_loan_ids": [],
    }
    with frozen_at(datetime.now(UTC) + timedelta(days=15)):
        # sessions last 14 days too: log in again in the future
        bella, admin = login(client, "bella"), login(client, "ops")
        fresh_loan = create_loan(client, bella)["loan_id"]
        expired = client.post("/admin/loans/expire", headers=admin).json()["expired_loan_ids"]
        ivan = login(client, "ivan")
    assert expired == [old_loan]
    assert client.get(f"/loans/{old_loan}", headers=bella).json()["status"] == "expired"
    assert client.get(f"/loans/{fresh_loan}", headers=bella).json()["status"] == "listed"
    assert client.get("/investors/me/portfolio", headers=ivan).json()["cash"] == "1000.00"
