from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import deposit, key, login, make_staff, register_investor, settle


def test_withdrawals_never_exceed_cash_and_keep_the_books_balanced(client: TestClient) -> None:
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    deposit(client, auth, "100.00")
    ok = client.post("/investors/me/withdrawals", json={"amount": "40.00"}, headers=auth | key())
    assert ok.status_code == 201 and ok.json()["cash_balance"] == "60.00"
    assert ok.json()["direction"] == "withdrawal"
    too_much = client.post("/investors/me/withdrawals", json={"amount": "60.01"}, headers=auth | key())
    assert too_much.status_code == 409 and "available cash is 60.00" in too_much.json()["detail"]
    for bad in ("0.00", "-1.00", "1.001"):
        assert client.post("/investors/me/withdrawals", json={"amount": bad}, headers=auth | key()).status_code == 422
    assert client.get("/investors/me/portfolio", headers=auth).json()["cash"] == "60.00"
    trial = client.get("/admin/ledger/trial-balance", headers=make_staff(client, "ops", "admin")).json()
    assert trial["total"] == "0.00"
    balances = {a["code"]: a["balance"] for a in trial["accounts"]}
    # the withdrawal is on its way out until the processor settles it
    assert (balances["processor_cash"], balances["processor_in_transit"]) == ("100.00", "-40.00")
    settle(client)
    trial = client.get("/admin/ledger/trial-balance", headers=login(client, "ops")).json()
    balances = {a["code"]: a["balance"] for a in trial["accounts"]}
    assert (balances["processor_cash"], balances["processor_in_transit"]) == ("60.00", "0.00")


def test_a_deposit_over_the_limit_is_refused(client: TestClient) -> None:
    register_investor(client, "ivan")
    auth = login(client, "ivan")
    response = client.post("/investors/me/deposits", json={"amount": "1000000.01"}, headers=auth | key())
    assert response.status_code == 422 and "may not exceed 1000000.00" in response.json()["detail"]
