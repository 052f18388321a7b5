"""Concurrent investments that together exceed the loan: it is funded exactly to its amount and
nobody's cash goes below zero. Real threads against the real database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from fastapi.testclient import TestClient

from tests.api.helpers import create_loan, deposit, invest, login, register, register_investor


def test_concurrent_investments_never_overfund(client: TestClient, backend: str) -> None:
    register(client, "bella")
    loan_id = create_loan(client, login(client, "bella"), amount="1000.00")["loan_id"]
    names = [f"inv{i}" for i in range(8)]
    auths = []
    for name in names:
        register_investor(client, name)
        auth = login(client, name)
        deposit(client, auth, "300.00")
        auths.append(auth)
    # 8 investors x 2 requests x 150.00 = 2400.00 asked for a 1000.00 loan; each can afford 2 of them.
    attempts = [auth for auth in auths for _ in range(2)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda a: invest(client, a, loan_id, "150.00"), attempts))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    loan = client.get(f"/loans/{loan_id}", headers=auths[0]).json()
    accepted = [r for r in responses if r.status_code == 201]
    assert sum(Decimal(r.json()["amount"]) for r in accepted) == Decimal(loan["funded_amount"])
    # 150.00 steps cannot fill 1000.00 exactly: six fit (900.00), the rest are refused
    assert loan["funded_amount"] == "900.00" and len(accepted) == 6
    total_cash = Decimal(0)
    for auth in auths:
        portfolio = client.get("/investors/me/portfolio", headers=auth).json()
        assert Decimal(portfolio["cash"]) >= 0
        total_cash += Decimal(portfolio["cash"]) + Decimal(portfolio["committed"])
    assert total_cash == Decimal("2400.00")


def test_concurrent_spends_by_one_investor_never_overdraw(client: TestClient) -> None:
    register(client, "bella")
    loan_ids = [create_loan(client, login(client, "bella"))["loan_id"] for _ in range(4)]
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    deposit(client, auth, "100.00")
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda lid: invest(client, auth, lid, "50.00"), loan_ids * 2))
    assert sum(r.status_code == 201 for r in responses) == 2
    portfolio = client.get("/investors/me/portfolio", headers=auth).json()
    assert (portfolio["cash"], portfolio["committed"]) == ("0.00", "100.00")


def test_concurrent_completion_funds_exactly_once(client: TestClient) -> None:
    register(client, "bella")
    b_auth = login(client, "bella")
    loan_id = create_loan(client, b_auth, amount="1000.00")["loan_id"]
    auths = []
    for name in ("ann1", "ann2", "ann3", "ann4"):
        register_investor(client, name)
        auth = login(client, name)
        deposit(client, auth, "500.00")
        auths.append(auth)
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda a: invest(client, a, loan_id, "500.00"), auths))
    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409]
    assert [n["kind"] for n in client.get("/notifications", headers=b_auth).json()] == ["loan_funded"]
    assert len(client.get(f"/loans/{loan_id}/schedule", headers=b_auth).json()["installments"]) == 36
