"""The seed's story, end to end through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

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


def test_seed_story(client: TestClient) -> None:
    borrower = register(client, "bella", profile=SEED_PROFILE)
    assert borrower["role"] == "borrower"
    b_auth = login(client, "bella")
    loan = create_loan(client, b_auth, rate="6.00")
    assert loan["status"] == "listed"
    assert loan["amount"] == "5000.00" and loan["interest_rate"] == "6.00" and loan["term_months"] == 36
    # The seed borrower grades A, whose floor (5.49 %) allows 6.00 %: a 1 % fee, an APR above the note rate.
    assert loan["grade"] == "A" and loan["rate_card_version"] == "2026-12-a"
    assert (loan["origination_fee"], loan["disbursed_amount"], loan["apr"]) == ("50.00", "4950.00", "6.68")
    assert loan["score_reasons"] and loan["score_model_version"]
    assert loan["funded_amount"] == "0.00"
    assert loan["monthly_payment"] == "152.11"
    assert loan["borrower_id"] == borrower["user_id"]
    loan_id = loan["loan_id"]

    investors = [register_investor(client, name) for name in ("ivan", "iris")]
    assert all(i["portfolio_value"] == "0.00" for i in investors)
    auths = [login(client, "ivan"), login(client, "iris")]
    for auth in auths:
        made = deposit(client, auth, "3000.00")  # pending until the processor settles it (helpers.settle)
        assert (made["status"], made["pending_cash"]) == ("pending", "3000.00")
        assert client.get("/investors/me/cash", headers=auth).json()["available"] == "3000.00"

    listing = client.get(
        "/loans/list", params={"status": "listed", "min_rate": "5.00", "max_rate": "7.00"}, headers=auths[0]
    )
    assert listing.status_code == 200
    assert [item["loan_id"] for item in listing.json()["items"]] == [loan_id]
    assert client.get("/loans/list", params={"min_rate": "6.01"}, headers=auths[0]).json()["items"] == []

    first = invest(client, auths[0], loan_id, "2500.00")
    assert first.status_code == 201, first.text
    assert first.json()["loan_status"] == "listed"
    assert first.json()["loan_funded_amount"] == "2500.00"
    second = invest(client, auths[1], loan_id, "2500.00")
    assert second.status_code == 201, second.text
    assert second.json()["loan_status"] == "funded"

    # Issued (disbursed, scheduled, notified) in its own transaction right after the funding commit.
    loan_now = client.get(f"/loans/{loan_id}", headers=b_auth).json()
    assert loan_now["status"] == "current"
    assert loan_now["funded_amount"] == "5000.00" and loan_now["disbursed_at"] is not None

    for auth in [b_auth, *auths]:
        kinds = [n["kind"] for n in client.get("/notifications", headers=auth).json()]
        assert kinds == ["loan_funded"], kinds

    schedule = client.get(f"/loans/{loan_id}/schedule", headers=b_auth).json()
    assert len(schedule["installments"]) == 36
    assert sum(Decimal(i["principal"]) for i in schedule["installments"]) == Decimal("5000.00")

    payment = client.post("/payments/make", json={"loan_id": loan_id, "amount": "152.11"}, headers=b_auth | key())
    assert payment.status_code == 201, payment.text
    body = payment.json()
    # How the payment splits into interest and principal is servicing's rule (api/payments); what holds
    # whatever the rule: the parts add up, and the note holders' shares add up to the payment.
    assert Decimal(body["interest"]) + Decimal(body["principal"]) + Decimal(body["fees"]) == Decimal("152.11")
    shares = body["distributions"]
    assert len(shares) == 2
    assert sum(Decimal(s["principal"]) + Decimal(s["interest"]) for s in shares) == Decimal("152.11")
    assert sum(Decimal(s["principal"]) for s in shares) == Decimal(body["principal"])

    settle(client)  # two business days later: the debit, the disbursement and the deposits have settled
    first_portfolio = client.get("/investors/me/portfolio", headers=auths[0]).json()
    assert Decimal(first_portfolio["cash"]) > Decimal("500.00")  # its share arrived (less any servicing fee)
    assert Decimal(first_portfolio["outstanding_principal"]) == Decimal("2500.00") - Decimal(
        first_portfolio["principal_received"]
    )
    assert first_portfolio["notes"][0]["outstanding_principal"] == first_portfolio["outstanding_principal"]

    schedule = client.get(f"/loans/{loan_id}/schedule", headers=b_auth).json()
    assert schedule["installments"][0]["status"] in ("paid", "partial")  # servicing's rule decides which
    assert Decimal(schedule["outstanding_principal"]) == Decimal("5000.00") - Decimal(body["principal"])

    admin = make_staff(client, "ops", "admin")
    trial = client.get("/admin/ledger/trial-balance", headers=admin).json()
    assert trial["total"] == "0.00" and trial["unbalanced_transactions"] == []
    balances = {a["code"]: Decimal(a["balance"]) for a in trial["accounts"]}
    for investor, auth in zip(investors, auths, strict=True):
        portfolio = client.get("/investors/me/portfolio", headers=auth).json()
        i = investor["investor_id"]
        assert -balances[f"investor_cash:{i}"] == Decimal(portfolio["cash"])
        assert -balances[f"investor_notes:{i}"] == Decimal(portfolio["outstanding_principal"])
        assert -balances[f"investor_interest_income:{i}"] == Decimal(portfolio["interest_received"])
        assert -balances.get(f"investor_commitments:{i}", Decimal(0)) == Decimal(portfolio["committed"])
    assert balances[f"loan_principal:{loan_id}"] == Decimal(schedule["outstanding_principal"])
    # The borrower received the amount less the fee; the fee is the platform's revenue.
    assert balances["processor_cash"] == Decimal("6000.00") - Decimal("4950.00") + Decimal("152.11")
    assert balances["platform_fee_income"] == Decimal("-50.00")
