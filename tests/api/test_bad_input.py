"""Every bad input gets a 4xx that says what is wrong, and writes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import SEED_PROFILE, create_loan, deposit, invest, key, login, register, register_investor


@pytest.fixture
def world(client: TestClient) -> dict:
    register(client, "bella", profile=SEED_PROFILE)  # grade A: every rate from 5.49 % up is allowed
    register(client, "bob")
    register_investor(client, "ivan")
    auth = {"bella": login(client, "bella"), "bob": login(client, "bob"), "ivan": login(client, "ivan")}
    deposit(client, auth["ivan"], "1000.00")
    loan = create_loan(client, auth["bella"])
    return {"auth": auth, "loan_id": loan["loan_id"]}


def _portfolio(client: TestClient, auth: dict[str, str]) -> dict:
    return client.get("/investors/me/portfolio", headers=auth).json()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"amount": "-5000.00", "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "greater than zero"),
        ({"amount": "5000.001", "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "two decimal places"),
        ({"amount": 5000.5, "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "decimal string"),
        ({"amount": "5000.00", "interest_rate": "0.50", "term_months": 36, "purpose": "car"}, "between 1.00 and 36.00"),
        (
            {"amount": "5000.00", "interest_rate": "40.00", "term_months": 36, "purpose": "car"},
            "between 1.00 and 36.00",
        ),
        ({"amount": "5000.00", "interest_rate": "6.00", "term_months": 7, "purpose": "car"}, "term_months"),
        ({"amount": "5010.00", "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "multiple of 25.00"),
        ({"amount": "100.00", "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "between 1000.00"),
        ({"amount": "5000.00", "interest_rate": "6.00", "term_months": 36}, "purpose"),
        ({"amount": "abc", "interest_rate": "6.00", "term_months": 36, "purpose": "car"}, "decimal number"),
    ],
)
def test_bad_loan_requests(client: TestClient, world: dict, payload: dict, fragment: str) -> None:
    body = {**payload, "credit_check_consent": True}
    response = client.post("/loans/create", json=body, headers=world["auth"]["bella"])
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    listing = client.get("/loans/list", headers=world["auth"]["bella"]).json()["items"]
    assert len(listing) == 1


@pytest.mark.parametrize(
    ("amount", "status", "fragment"),
    [
        ("-25.00", 422, "greater than zero"),
        ("0.00", 422, "greater than zero"),
        ("25.005", 422, "two decimal places"),
        ("30.00", 422, "multiple of 25.00"),
        ("2000.00", 409, "available cash is 1000.00"),
        ("5025.00", 409, "needs only 5000.00 more"),
    ],
)
def test_bad_investments_write_nothing(
    client: TestClient, world: dict, amount: str, status: int, fragment: str
) -> None:
    response = invest(client, world["auth"]["ivan"], world["loan_id"], amount)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    portfolio = _portfolio(client, world["auth"]["ivan"])
    assert (portfolio["cash"], portfolio["committed"], portfolio["notes"]) == ("1000.00", "0.00", [])


def test_unknown_loan_is_404(client: TestClient, world: dict) -> None:
    response = invest(client, world["auth"]["ivan"], 999_999, "25.00")
    assert response.status_code == 404 and "loan 999999 not found" in response.json()["detail"]
    assert client.get("/loans/999999", headers=world["auth"]["ivan"]).status_code == 404


def test_a_borrower_cannot_invest(client: TestClient, world: dict) -> None:
    response = invest(client, world["auth"]["bob"], world["loan_id"], "25.00")
    assert response.status_code == 403
    assert "investor" in response.json()["detail"]


def test_an_investor_cannot_pay_a_loan(client: TestClient, world: dict) -> None:
    response = client.post(
        "/payments/make", json={"loan_id": world["loan_id"], "amount": "10.00"}, headers=world["auth"]["ivan"] | key()
    )
    assert response.status_code == 403


def test_a_borrower_cannot_pay_someone_elses_loan_or_see_it(client: TestClient, world: dict) -> None:
    response = client.post(
        "/payments/make", json={"loan_id": world["loan_id"], "amount": "10.00"}, headers=world["auth"]["bob"] | key()
    )
    assert response.status_code == 404
    assert client.get(f"/loans/{world['loan_id']}", headers=world["auth"]["bob"]).status_code == 404
    assert client.get("/loans/list", headers=world["auth"]["bob"]).json()["items"] == []


def test_paying_a_loan_that_is_not_active_is_409(client: TestClient, world: dict) -> None:
    response = client.post(
        "/payments/make", json={"loan_id": world["loan_id"], "amount": "10.00"}, headers=world["auth"]["bella"] | key()
    )
    assert response.status_code == 409 and "listed" in response.json()["detail"]


def test_no_token_is_401_and_bad_login_is_401(client: TestClient, world: dict) -> None:
    assert client.get("/loans/list").status_code == 401
    assert client.post("/auth/token", data={"username": "bella", "password": "wrong-password!"}).status_code == 401
    assert client.post("/auth/token", data={"username": "nobody", "password": "wrong-password!"}).status_code == 401


def test_duplicate_registration_is_409(client: TestClient, world: dict) -> None:
    response = client.post(
        "/users/register",
        json={"username": "bella", "email": "other@example.com", "password": "long-enough-pw", "role": "borrower"},
    )
    assert response.status_code == 409 and "username" in response.json()["detail"]
    response = client.post(
        "/investors/register", json={"username": "new", "email": "BELLA@example.com", "password": "long-enough-pw"}
    )
    assert response.status_code == 409 and "email" in response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "x", "email": "x@example.com", "password": "long-enough-pw", "role": "borrower"},
        {"username": "okname", "email": "not-an-email", "password": "long-enough-pw", "role": "borrower"},
        {"username": "okname", "email": "ok@example.com", "password": "short", "role": "borrower"},
        {"username": "okname", "email": "ok@example.com", "password": "long-enough-pw", "role": "admin"},
    ],
)
def test_bad_registrations_are_422(client: TestClient, payload: dict) -> None:
    response = client.post("/users/register", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_listing_filters_and_pagination(client: TestClient, world: dict) -> None:
    bella = world["auth"]["bella"]
    for rate in ("7.00", "8.00", "9.00", "10.00"):
        create_loan(client, bella, rate=rate)
    ivan = world["auth"]["ivan"]
    first = client.get("/loans/list", params={"limit": 2}, headers=ivan).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get("/loans/list", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ivan).json()
    third = client.get("/loans/list", params={"limit": 2, "cursor": second["next_cursor"]}, headers=ivan).json()
    ids = [i["loan_id"] for page in (first, second, third) for i in page["items"]]
    assert len(ids) == 5 == len(set(ids)) and third["next_cursor"] is None
    rates = [
        i["interest_rate"] for i in client.get("/loans/list", params={"min_rate": "8.00"}, headers=ivan).json()["items"]
    ]
    assert sorted(rates) == ["10.00", "8.00", "9.00"]
    assert client.get("/loans/list", params={"status": "nonsense"}, headers=ivan).status_code == 422
    assert client.get("/loans/list", params={"cursor": "abc"}, headers=ivan).status_code == 422
    assert client.get("/loans/list", params={"cursor": "\u00b9"}, headers=ivan).status_code == 422
    assert client.get(f"/loans/{2**63}", headers=ivan).status_code == 422
