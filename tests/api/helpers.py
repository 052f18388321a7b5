"""Small HTTP helpers for API tests: every call goes through the app's HTTP interface."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"


def register(client: TestClient, username: str, role: str = "borrower") -> dict[str, Any]:
    response = client.post(
        "/users/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD, "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()


def register_investor(client: TestClient, username: str) -> dict[str, Any]:
    response = client.post(
        "/investors/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    return response.json()


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def deposit(client: TestClient, auth: dict[str, str], amount: str) -> dict[str, Any]:
    response = client.post("/investors/me/deposits", json={"amount": amount}, headers=auth | key())
    assert response.status_code == 201, response.text
    return response.json()


def create_loan(
    client: TestClient, auth: dict[str, str], amount: str = "5000.00", rate: str = "6.00", term: int = 36
) -> dict[str, Any]:
    response = client.post(
        "/loans/create",
        json={"amount": amount, "interest_rate": rate, "term_months": term, "purpose": "debt consolidation"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    return response.json()


def invest(client: TestClient, auth: dict[str, str], loan_id: int, amount: str) -> Any:
    return client.post(f"/loans/{loan_id}/investments", json={"amount": amount}, headers=auth | key())
