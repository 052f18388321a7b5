"""Payments through the servicing replay, over HTTP on SQLite and PostgreSQL: any amount, payoff quotes that
close the loan with no residue, distribution less the servicing fee, every movement balanced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.kit.clock import frozen_at
from tests.api.helpers import (
    SEED_PROFILE,
    create_loan,
    deposit,
    invest,
    key,
    login,
    make_staff,
    register,
    register_investor,
    settle,
)

ISSUED_AT = datetime(2027, 1, 15, 12, tzinfo=UTC)
ONE_MONTH_LATER = datetime(2027, 2, 15, 12, tzinfo=UTC)


@pytest.fixture
def seed_loan(client: TestClient) -> Iterator[dict[str, Any]]:
    """The seed's loan ($5,000 at 6 % over 36 months), funded half by ivan and half by iris on 15 Jan 2027."""
    with frozen_at(ISSUED_AT):
        register(client, "bella", profile=SEED_PROFILE)
        loan = create_loan(client, login(client, "bella"), rate="6.00")
        investors = [register_investor(client, name) for name in ("ivan", "iris")]
        for name in ("ivan", "iris"):
            auth = login(client, name)
            deposit(client, auth, "3000.00")
            assert invest(client, auth, loan["loan_id"], "2500.00").status_code == 201
        assert client.get(f"/loans/{loan['loan_id']}", headers=login(client, "bella")).json()["status"] == "current"
    yield {"loan_id": loan["loan_id"], "investors": [i["investor_id"] for i in investors]}


def pay(client: TestClient, loan_id: int, amount: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        "/payments/make",
        json={"loan_id": loan_id, "amount": amount},
        headers=login(client, "bella") | (headers or key()),
    )


def trial_balance(client: TestClient) -> dict[str, Decimal]:
    trial = client.get("/admin/ledger/trial-balance", headers=make_staff_once(client)).json()
    assert trial["total"] == "0.00" and trial["unbalanced_transactions"] == []
    return {a["code"]: Decimal(a["balance"]) for a in trial["accounts"]}


def make_staff_once(client: TestClient) -> dict[str, str]:
    state = client.app.state  # type: ignore[attr-defined]
    if not getattr(state, "_ops", False):
        make_staff(client, "ops", "admin")
        state._ops = True
    return login(client, "ops")


def test_paying_off_after_one_month_costs_principal_plus_one_month_of_interest(
    client: TestClient, seed_loan: dict[str, Any]
) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        b = login(client, "bella")
        quote = client.get(f"/loans/{loan_id}/payoff", params={"date": "2027-02-15"}, headers=b).json()
        assert (quote["payoff"], quote["principal"], quote["interest"], quote["fees"]) == (
            "5025.00",
            "5000.00",
            "25.00",
            "0.00",
        )
        paid = pay(client, loan_id, quote["payoff"])
        assert paid.status_code == 201, paid.text
        body = paid.json()
        assert (body["principal"], body["interest"], body["excess"], body["prepayment"]) == (
            "5000.00",
            "25.00",
            "0.00",
            "4872.89",
        )
        assert body["loan_status"] == "repaid" and body["outstanding_principal"] == "0.00" and body["payoff"] == "0.00"
        # 1 % of 5,025.00 = 50.25, split over the two equal notes: 25.125 each, the older note takes the cent.
        assert body["servicing_fee"] == "50.25"
        shares = [(d["principal"], d["interest"], d["servicing_fee"]) for d in body["distributions"]]
        assert shares == [("2500.00", "12.50", "25.13"), ("2500.00", "12.50", "25.12")]
        again = client.get(f"/loans/{loan_id}/payoff", headers=b).json()
        assert again["payoff"] == "0.00"
        view = client.get(f"/loans/{loan_id}/servicing", headers=b).json()
        assert view["loan_status"] == "repaid" and view["principal"] == "0.00" and view["held_for_borrower"] == "0.00"
        balances = trial_balance(client)
        assert balances[f"loan_principal:{loan_id}"] == 0
        assert balances.get(f"loan_collections:{loan_id}", Decimal(0)) == 0
        assert balances["platform_servicing_income"] == Decimal("-50.25")
        ivan = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert ivan["cash"] == "500.00"  # its share waits in pending cash until the debit settles
        assert ivan["cash_pending"] == str(Decimal("2512.50") - Decimal("25.13"))
        settle(client)
        ivan = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert ivan["cash"] == str(Decimal("500.00") + Decimal("2512.50") - Decimal("25.13"))
        assert ivan["outstanding_principal"] == "0.00"


def test_a_payment_on_the_day_of_funding_pays_no_interest(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ISSUED_AT):
        body = pay(client, loan_id, "152.11").json()
        assert (body["interest"], body["principal"], body["prepayment"]) == ("0.00", "152.11", "0.00")
        quote = client.get(f"/loans/{loan_id}/payoff", headers=login(client, "bella")).json()
        assert quote["payoff"] == "4847.89"


def test_partial_and_over_payments(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        part = pay(client, loan_id, "100.00").json()
        assert (part["interest"], part["principal"], part["prepayment"]) == ("25.00", "75.00", "0.00")
        view = client.get(f"/loans/{loan_id}/servicing", headers=login(client, "bella")).json()
        assert view["next_due"] == "52.11" and view["next_due_date"] == "2027-02-15"
        quote = client.get(f"/loans/{loan_id}/payoff", headers=login(client, "bella")).json()
        assert quote["payoff"] == "4925.00"
        over = pay(client, loan_id, "5000.00").json()
        assert over["excess"] == "75.00" and over["loan_status"] == "repaid"
        view = client.get(f"/loans/{loan_id}/servicing", headers=login(client, "bella")).json()
        assert view["held_for_borrower"] == "75.00"
        balances = trial_balance(client)
        assert balances[f"loan_borrower_credit:{loan_id}"] == Decimal("-75.00")
        assert balances[f"loan_principal:{loan_id}"] == 0
        # a repaid loan takes no more payments
        assert pay(client, loan_id, "1.00").status_code == 409


def test_a_payment_far_beyond_what_is_owed_is_refused_and_writes_nothing(
    client: TestClient, seed_loan: dict[str, Any]
) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        before = trial_balance(client)
        # 5,025.00 closes the loan today; one installment (152.11) more is the most held for a refund
        refused = pay(client, loan_id, "5177.12")
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["code"] == "payment_too_large"
        assert "at most 5177.11" in body["detail"] and "5025.00 closes it" in body["detail"]
        assert pay(client, loan_id, "100000000.00").status_code == 422
        assert client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json() == []
        assert trial_balance(client) == before
        accepted = pay(client, loan_id, "5177.11").json()
        assert accepted["excess"] == "152.11" and accepted["loan_status"] == "repaid"


def test_payments_are_idempotent(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        same = key()
        first = pay(client, loan_id, "152.11", same)
        second = pay(client, loan_id, "152.11", same)
        assert first.status_code == second.status_code == 201
        assert first.json()["payment_id"] == second.json()["payment_id"]
        assert pay(client, loan_id, "152.12", same).status_code == 422
        payments = client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json()
        assert len(payments) == 1


@pytest.mark.parametrize(
    ("params", "status"),
    [({"date": "2027-01-01"}, 422), ({"date": "not-a-date"}, 422), ({"date": "2031-01-01"}, 422)],
)
def test_payoff_rejects_bad_dates(
    client: TestClient, seed_loan: dict[str, Any], params: dict[str, str], status: int
) -> None:
    with frozen_at(ONE_MONTH_LATER):
        got = client.get(f"/loans/{seed_loan['loan_id']}/payoff", params=params, headers=login(client, "bella"))
        assert got.status_code == status, got.text
        assert "detail" in got.json()


def test_others_cannot_see_the_quote(client: TestClient, seed_loan: dict[str, Any]) -> None:
    with frozen_at(ONE_MONTH_LATER):
        got = client.get(f"/loans/{seed_loan['loan_id']}/payoff", headers=login(client, "ivan"))
        assert got.status_code in (403, 404)


def test_statements_and_annual_summary(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    with frozen_at(ONE_MONTH_LATER):
        assert pay(client, loan_id, "152.11").status_code == 201
        settle(client)
        ivan = login(client, "ivan")
        page = client.get("/investors/me/statements/2027-02", headers=ivan)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Opening cash: 500.00" in page.text and "settled" in page.text
        january = client.get("/investors/me/statements/2027-01", headers=ivan).text
        assert "Opening cash: 0.00" in january and "Closing cash: 500.00" in january
        pdf = client.get("/investors/me/statements/2027-02", params={"format": "pdf"}, headers=ivan)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert client.get("/investors/me/statements/2027-13", headers=ivan).status_code == 422
        summary = client.get("/investors/me/annual-summary/2027", headers=ivan).json()
        assert summary["interest"] == "12.50" and summary["losses"] == "0.00"
        portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
        assert portfolio["nar"] is not None and portfolio["cash_available"] == portfolio["cash"]
        assert portfolio["cash_pending"] == "0.00"
