from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import create_loan, login, register, register_investor, settle


def test_same_key_same_body_replays_without_moving_money(client: TestClient) -> None:
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    headers = auth | {"Idempotency-Key": "dep-1"}
    first = client.post("/investors/me/deposits", json={"amount": "100.00"}, headers=headers)
    again = client.post("/investors/me/deposits", json={"amount": "100.00"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert client.get("/investors/me/cash", headers=auth).json()["pending"] == "100.00"
    settle(client)
    cash = client.get("/investors/me/cash", headers=auth).json()
    assert (cash["available"], len(cash["transfers"])) == ("100.00", 1)


def test_same_key_other_body_is_refused(client: TestClient) -> None:
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    headers = auth | {"Idempotency-Key": "dep-1"}
    assert client.post("/investors/me/deposits", json={"amount": "100.00"}, headers=headers).status_code == 201
    response = client.post("/investors/me/deposits", json={"amount": "200.00"}, headers=headers)
    assert response.status_code == 422 and "different request" in response.json()["detail"]
    settle(client)
    assert client.get("/investors/me/portfolio", headers=auth).json()["cash"] == "100.00"


def test_missing_key_is_400_and_moves_nothing(client: TestClient) -> None:
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    response = client.post("/investors/me/deposits", json={"amount": "100.00"}, headers=auth)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert client.get("/investors/me/portfolio", headers=auth).json()["cash"] == "0.00"


def test_a_failed_request_does_not_burn_its_key(client: TestClient) -> None:
    register(client, "bella")
    loan_id = create_loan(client, login(client, "bella"))["loan_id"]
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    headers = auth | {"Idempotency-Key": "inv-1"}
    refused = client.post(f"/loans/{loan_id}/investments", json={"amount": "25.00"}, headers=headers)
    assert refused.status_code == 409  # no cash yet
    client.post("/investors/me/deposits", json={"amount": "25.00"}, headers=auth | {"Idempotency-Key": "dep"})
    settle(client)
    accepted = client.post(f"/loans/{loan_id}/investments", json={"amount": "25.00"}, headers=headers)
    assert accepted.status_code == 201, accepted.text
    replay = client.post(f"/loans/{loan_id}/investments", json={"amount": "25.00"}, headers=headers)
    assert replay.json() == accepted.json()
    portfolio = client.get("/investors/me/portfolio", headers=auth).json()
    assert (portfolio["cash"], portfolio["committed"], len(portfolio["notes"])) == ("0.00", "25.00", 1)


def test_keys_are_per_user(client: TestClient) -> None:
    register_investor(client, "ivan")
    register_investor(client, "iris")
    for name in ("ivan", "iris"):
        headers = login(client, name) | {"Idempotency-Key": "same"}
        assert client.post("/investors/me/deposits", json={"amount": "10.00"}, headers=headers).status_code == 201
