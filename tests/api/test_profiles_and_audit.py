"""Profiles: validation, who may list a loan, and the append-only, masked audit log."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.helpers import BORROWER_PROFILE, login, make_staff, register, register_investor

LOAN = {"amount": "5000.00", "term_months": 36, "purpose": "car", "credit_check_consent": True}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"phone": "555-0123"}, "phone"),
        ({"country": "us"}, "country"),
        ({"date_of_birth": "2999-01-01"}, "in the past"),
        ({"date_of_birth": "1800-01-01"}, "within the last 120 years"),
        ({"annual_income": 65000.5}, "decimal string"),
        ({"annual_income": "-1.00"}, "between 0.00"),
        ({"housing": "castle"}, "housing"),
        ({"employment_length_years": 99}, "employment_length_years"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_profile_fields_are_refused_and_nothing_changes(client: TestClient, change: dict, fragment: str) -> None:
    register(client, "bella")
    auth = login(client, "bella")
    before = client.get("/users/me", headers=auth).json()["profile"]
    response = client.patch("/users/me", json={"city": "Elsewhere", **change}, headers=auth)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert "2999-01-01" not in response.text and "1800-01-01" not in response.text
    assert client.get("/users/me", headers=auth).json()["profile"] == before


def test_an_incomplete_profile_cannot_list_a_loan(client: TestClient) -> None:
    register(client, "bella", ready=False)
    from tests.api.helpers import verify

    verify(client, "bella")
    auth = login(client, "bella")
    refused = client.post("/loans/create", json=LOAN, headers=auth)
    assert refused.status_code == 403 and refused.json()["code"] == "profile_incomplete"
    assert "legal_name" in refused.json()["detail"] and "annual_income" in refused.json()["detail"]
    me = client.get("/users/me", headers=auth).json()["profile"]
    assert me["complete_for_borrowing"] is False and "phone" in me["missing_for_borrowing"]


def test_minors_cannot_borrow(client: TestClient) -> None:
    register(client, "bella")
    auth = login(client, "bella")
    today = date.today()
    seventeen = today.replace(year=today.year - 17)
    assert client.patch("/users/me", json={"date_of_birth": seventeen.isoformat()}, headers=auth).status_code == 200
    refused = client.post("/loans/create", json=LOAN, headers=auth)
    assert refused.status_code == 403 and "at least 18" in refused.json()["detail"]
    assert seventeen.isoformat() not in refused.text


def test_risk_preference_is_for_investors(client: TestClient) -> None:
    register(client, "bella")
    register_investor(client, "ivan")
    assert (
        client.patch("/users/me", json={"risk_preference": "balanced"}, headers=login(client, "bella")).status_code
        == 422
    )
    ok = client.patch("/users/me", json={"risk_preference": "aggressive"}, headers=login(client, "ivan"))
    assert ok.status_code == 200 and ok.json()["profile"]["risk_preference"] == "aggressive"


def test_identity_changes_are_audited_masked(client: TestClient) -> None:
    register(client, "bella")
    auth = login(client, "bella") | {"User-Agent": "pytest-browser/1.0"}
    assert (
        client.patch(
            "/users/me", json={"legal_name": "Bella Okafor", "phone": "+15125559876"}, headers=auth
        ).status_code
        == 200
    )
    admin = make_staff(client, "ops", "admin")
    me = client.get("/users/me", headers=auth).json()
    log = client.get("/admin/audit-log", params={"subject_user_id": me["user_id"]}, headers=admin).json()["items"]
    actions = [entry["action"] for entry in log]
    assert actions[:2] == ["profile_updated", "profile_updated"] and "user_registered" in actions
    assert "email_verified" in actions
    latest = log[0]
    assert latest["actor_user_id"] == me["user_id"] and latest["user_agent"] == "pytest-browser/1.0"
    assert latest["ip"] == "testclient"
    assert latest["changes"]["legal_name"] == {"from": "B*** R***", "to": "B*** O***"}
    assert latest["changes"]["phone"]["to"] == "**********76"
    first_profile = log[1]["changes"]
    assert first_profile["date_of_birth"] == {"from": None, "to": "1990-**-**"}
    everything = str(log)
    for secret in ("Bella Okafor", "1990-04-17", "+15125559876", "12 Oak Street"):
        assert secret not in everything


def test_the_audit_log_cannot_be_edited_even_with_sql(client: TestClient) -> None:
    register(client, "bella")
    engine = client.app.state.database.engine  # type: ignore[attr-defined]
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM audit_log")).scalar() >= 2


def test_analysts_see_bands_not_people(client: TestClient) -> None:
    register(client, "bella")
    analyst = make_staff(client, "ana", "analyst")
    bands = client.get("/reports/borrowers", headers=analyst).json()
    assert bands["by_income"] == [{"band": "50k-75k", "borrowers": 1}]
    assert len(bands["by_age"]) == 1 and bands["by_age"][0]["band"] in {"25-34", "35-44"}
    assert BORROWER_PROFILE["legal_name"] not in str(bands)
