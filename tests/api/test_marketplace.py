"""The marketplace through HTTP, on SQLite and PostgreSQL: pricing on every listing, the lifecycle and its
events, listing search, listing windows and partial funding, commitments, auto-invest with its allocation log,
and portfolio plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from api.kit.clock import frozen_at
from tests.api.helpers import (
    GRADED_PROFILES,
    SEED_PROFILE,
    create_loan,
    deposit,
    invest,
    key,
    login,
    make_staff,
    register,
    register_investor,
)


def _seed_borrower(client: TestClient, name: str = "bella") -> dict[str, str]:
    register(client, name, profile=SEED_PROFILE)  # grades A with the sandbox bureau (floor 5.49 %)
    return login(client, name)


def _investor(client: TestClient, name: str, cash: str = "10000.00") -> dict[str, str]:
    register_investor(client, name)
    auth = login(client, name)
    deposit(client, auth, cash)
    return auth


def test_every_listing_is_priced_and_scored(client: TestClient) -> None:
    bella = _seed_borrower(client)
    card = client.get("/loans/rate-card", headers=bella).json()
    assert [g["grade"] for g in card["grades"]] == list("ABCDEFG")
    assert all(Decimal("1.00") <= Decimal(g["origination_fee_rate"]) <= Decimal("6.00") for g in card["grades"])
    floor = next(g for g in card["grades"] if g["grade"] == "A")["base_rate"]
    assert floor == "5.49"

    low = client.post(
        "/loans/create",
        json={
            "amount": "5000.00",
            "interest_rate": "5.00",
            "term_months": 36,
            "purpose": "car",
            "credit_check_consent": True,
        },
        headers=bella,
    )
    assert low.status_code == 422, low.text
    assert "floor of 5.49" in low.json()["detail"] and "grade A" in low.json()["detail"]
    no_consent = client.post(
        "/loans/create", json={"amount": "5000.00", "term_months": 36, "purpose": "car"}, headers=bella
    )
    assert no_consent.status_code == 422 and "credit_check_consent" in no_consent.json()["detail"]

    loan = create_loan(client, bella)  # no rate asked: the grade's rate
    assert loan["interest_rate"] == "5.49" and loan["grade"] == "A"
    assert loan["rate_card_version"] == card["version"]
    assert Decimal(loan["origination_fee"]) + Decimal(loan["disbursed_amount"]) == Decimal("5000.00")
    assert Decimal(loan["apr"]) > Decimal(loan["interest_rate"])  # the fee raises the APR
    assert Decimal(loan["expected_loss"]) > 0 and Decimal(loan["probability_of_default"]) > 0
    assert loan["score_reasons"] and loan["score_model_version"]
    ivan = _investor(client, "ivan")
    listed = client.get("/loans/list", params={"grade": "A"}, headers=ivan).json()["items"]
    assert [i["loan_id"] for i in listed] == [loan["loan_id"]]
    assert listed[0]["apr"] == loan["apr"] and listed[0]["score_reasons"] == loan["score_reasons"]


def test_lifecycle_events_and_refused_transitions(client: TestClient) -> None:
    bella = _seed_borrower(client)
    ivan = _investor(client, "ivan")
    loan_id = create_loan(client, bella)["loan_id"]
    assert invest(client, ivan, loan_id, "5000.00").json()["loan_status"] == "funded"
    events = client.get(f"/loans/{loan_id}/events", headers=bella).json()
    moves = [(e["event"], e["from_status"], e["to_status"]) for e in events]
    assert moves == [
        ("request", None, "requested"),
        ("list", "requested", "listed"),
        ("fund", "listed", "funded"),
        ("issue", "funded", "current"),
    ]
    assert events[0]["actor_type"] == "borrower" and all(e["occurred_at"] for e in events)
    refused = client.post(f"/loans/{loan_id}/cancel", headers=bella | key())
    assert refused.status_code == 409 and "current" in refused.json()["detail"]
    late = invest(client, ivan, loan_id, "25.00")
    assert late.status_code == 409 and "current" in late.json()["detail"]


def test_search_filters_sorts_and_a_stable_cursor(client: TestClient) -> None:
    bella = _seed_borrower(client)
    ids = {rate: create_loan(client, bella, rate=rate)["loan_id"] for rate in ("6.00", "7.00", "8.00", "9.00")}
    ivan = _investor(client, "ivan")
    assert invest(client, ivan, ids["7.00"], "2500.00").status_code == 201

    def pages(**params: Any) -> list[int]:
        seen, cursor = [], None
        for _ in range(10):
            query = {**params, "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = client.get("/loans/list", params=query, headers=ivan)
            assert page.status_code == 200, page.text
            seen += [i["loan_id"] for i in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("the cursor never ended")

    assert pages(sort="-rate") == [ids[r] for r in ("9.00", "8.00", "7.00", "6.00")]
    assert pages(sort="rate") == [ids[r] for r in ("6.00", "7.00", "8.00", "9.00")]
    assert pages(sort="-funded_pct")[0] == ids["7.00"]
    assert pages(min_funded_pct="50.00") == [ids["7.00"]]
    assert pages(grade="A", min_rate="7.50", sort="grade") == [ids["8.00"], ids["9.00"]]
    assert pages(term=36, purpose="DEBT CONSOLIDATION", max_amount="5000.00", min_hours_left=1) != []
    assert pages(term=60) == [] and pages(grade="G") == [] and pages(max_hours_left=1) == []
    for bad in ({"sort": "colour"}, {"colour": "red"}, {"grade": "Z"}, {"min_funded_pct": "abc"}):
        response = client.get("/loans/list", params=bad, headers=ivan)
        assert response.status_code == 422, (bad, response.text)
    assert "colour" in client.get("/loans/list", params={"colour": "red"}, headers=ivan).json()["detail"]


def test_listing_windows_partial_funding_and_expiry_exactly_once(client: TestClient) -> None:
    bella = _seed_borrower(client)
    ivan = _investor(client, "ivan", "15000.00")
    partial = create_loan(client, bella, accept_partial_funding=True)["loan_id"]
    short = create_loan(client, bella, accept_partial_funding=True)["loan_id"]
    whole = create_loan(client, bella)["loan_id"]
    assert invest(client, ivan, partial, "3500.00").status_code == 201  # 70 %: the threshold
    assert invest(client, ivan, short, "3475.00").status_code == 201  # just under it
    assert invest(client, ivan, whole, "4000.00").status_code == 201  # 80 %, but all-or-nothing
    admin = make_staff(client, "ops", "admin")
    with frozen_at(datetime.now(UTC) + timedelta(days=15)):
        admin, bella, ivan = login(client, "ops"), login(client, "bella"), login(client, "ivan")
        first = client.post("/admin/loans/expire", headers=admin).json()
        again = client.post("/admin/loans/expire", headers=admin).json()
    assert first == {"funded_partially_loan_ids": [partial], "expired_loan_ids": sorted([short, whole])}
    assert again == {"funded_partially_loan_ids": [], "expired_loan_ids": []}
    issued = client.get(f"/loans/{partial}", headers=bella).json()
    assert issued["status"] == "current" and issued["amount"] == "3500.00" and issued["funded_amount"] == "3500.00"
    assert Decimal(issued["origination_fee"]) + Decimal(issued["disbursed_amount"]) == Decimal("3500.00")
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    assert portfolio["committed"] == "0.00" and portfolio["cash"] == "11500.00"  # the expired two released
    trial = client.get("/admin/ledger/trial-balance", headers=admin).json()
    assert trial["total"] == "0.00" and trial["unbalanced_transactions"] == []


def test_a_commitment_can_be_cancelled_before_issuance(client: TestClient) -> None:
    bella = _seed_borrower(client)
    ivan = _investor(client, "ivan", "1000.00")
    loan_id = create_loan(client, bella)["loan_id"]
    note = invest(client, ivan, loan_id, "400.00").json()
    assert client.get("/investors/me/portfolio", headers=ivan).json()["committed"] == "400.00"
    assert client.post(f"/investments/{note['investment_id']}/cancel", headers=ivan).status_code == 400  # no key
    cancel_key = key()
    cancelled = client.post(f"/investments/{note['investment_id']}/cancel", headers=ivan | cancel_key)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["loan_funded_amount"] == "0.00"
    replay = client.post(f"/investments/{note['investment_id']}/cancel", headers=ivan | cancel_key)
    assert replay.json() == cancelled.json()
    again = client.post(f"/investments/{note['investment_id']}/cancel", headers=ivan | key())
    assert again.status_code == 409
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    assert (portfolio["cash"], portfolio["committed"]) == ("1000.00", "0.00")


def test_auto_invest_rules_allocation_log_and_replay(client: TestClient) -> None:
    bella = _seed_borrower(client)
    investors = {name: _investor(client, name, cash) for name, cash in (("ivan", "3000.00"), ("iris", "600.00"))}
    rules = {"grades": ["A", "B"], "amount_per_note": "25.00", "max_per_loan": "100.00", "cash_to_keep": "100.00"}
    bad = client.put("/investors/me/auto-invest", json={**rules, "max_per_loan": "10.00"}, headers=investors["ivan"])
    assert bad.status_code == 422
    assert client.get("/investors/me/auto-invest", headers=investors["ivan"]).status_code == 404
    for auth in investors.values():
        saved = client.put("/investors/me/auto-invest", json=rules, headers=auth)
        assert saved.status_code == 200, saved.text
    got = client.get("/investors/me/auto-invest", headers=investors["iris"]).json()
    assert got["grades"] == ["A", "B"] and got["amount_per_note"] == "25.00" and got["cash_to_keep"] == "100.00"
    loans = [create_loan(client, bella, amount="1000.00")["loan_id"] for _ in range(3)]
    admin = make_staff(client, "ops", "admin")
    run = client.post("/admin/allocations", headers=admin)
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["notes"] > 0 and "idle-cash share" in body["fairness_rule"]
    assert {a["loan_id"] for a in body["allocations"]} == set(loans)
    assert len({a["investor_id"] for a in body["allocations"]}) == 2  # both investors served
    for loan_id in loans:
        funded = Decimal(client.get(f"/loans/{loan_id}", headers=admin).json()["funded_amount"])
        assert 0 < funded <= Decimal("800.00")  # 20 % held back for investors who choose notes themselves
        per_investor: dict[int, Decimal] = {}
        for a in body["allocations"]:
            if a["loan_id"] == loan_id:
                per_investor[a["investor_id"]] = per_investor.get(a["investor_id"], Decimal(0)) + Decimal(a["amount"])
        assert all(v <= Decimal("100.00") for v in per_investor.values())
    explained = client.get(f"/admin/allocations/{body['run_id']}", headers=admin).json()
    assert explained["replayed_identically"] is True and explained["notes"] == body["notes"]
    assert client.get("/admin/allocations/999999", headers=admin).status_code == 404
    iris = client.get("/investors/me/portfolio", headers=investors["iris"]).json()
    assert Decimal(iris["cash"]) >= Decimal("100.00")  # the cash to keep is never spent
    again = client.post("/admin/allocations", headers=admin).json()
    assert again["notes"] == 0  # each listing is allocated once


def _graded_market(client: TestClient, per_grade: int) -> dict[str, list[int]]:
    """Listings of $2,000 in grades A-D, `per_grade` of each."""
    loans: dict[str, list[int]] = {}
    for grade, profile in {"A": SEED_PROFILE, **GRADED_PROFILES}.items():
        name = f"bor{grade.lower()}"
        register(client, name, profile=profile)
        auth = login(client, name)
        made = [create_loan(client, auth, amount="2000.00") for _ in range(per_grade)]
        assert {m["grade"] for m in made} == {grade}, (grade, made[0]["grade"])
        loans[grade] = [m["loan_id"] for m in made]
    return loans


def test_portfolio_plan_propose_and_place(client: TestClient) -> None:
    market = _graded_market(client, per_grade=4)
    ivan = _investor(client, "ivan", "1000.00")
    plan = client.post(
        "/investors/me/portfolio-plans",
        json={"amount": "250.00", "risk_preference": "conservative", "min_loans": 5},
        headers=ivan,
    )
    assert plan.status_code == 201, plan.text
    proposed = plan.json()
    notes = proposed["notes"]
    assert len(notes) >= 5 and len({n["loan_id"] for n in notes}) == len(notes)
    assert {n["grade"] for n in notes} <= {"A", "B", "C"}  # the conservative mix
    assert all(n["loan_id"] in market[n["grade"]] for n in notes)
    assert sum(Decimal(n["amount"]) for n in notes) <= Decimal("250.00")
    assert all(Decimal(n["amount"]) % 25 == 0 and Decimal(n["amount"]) <= Decimal("25.00") for n in notes)
    assert proposed["expected_return"] and proposed["expected_loss"]
    too_many = client.post(
        "/investors/me/portfolio-plans",
        json={"amount": "250.00", "risk_preference": "balanced", "min_loans": 50},
        headers=ivan,
    )
    assert too_many.status_code == 409
    place_key = key()
    url = f"/investors/me/portfolio-plans/{proposed['plan_id']}/place"
    assert client.post(url, headers=ivan).status_code == 400  # no Idempotency-Key
    placed = client.post(url, headers=ivan | place_key)
    assert placed.status_code == 201, placed.text
    assert all(n["investment_id"] for n in placed.json()["notes"])
    assert client.post(url, headers=ivan | place_key).json() == placed.json()  # a retry answers the same
    assert client.post(url, headers=ivan | key()).status_code == 409  # placed already
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    total = sum(Decimal(n["amount"]) for n in proposed["notes"])
    assert Decimal(portfolio["committed"]) == total and Decimal(portfolio["cash"]) == Decimal("1000.00") - total


def test_placing_a_plan_is_all_or_nothing(client: TestClient) -> None:
    _graded_market(client, per_grade=4)
    ivan = _investor(client, "ivan", "1000.00")
    plan = client.post(
        "/investors/me/portfolio-plans",
        json={"amount": "250.00", "risk_preference": "conservative", "min_loans": 5},
        headers=ivan,
    ).json()
    gone = plan["notes"][0]["loan_id"]
    owner = f"bor{plan['notes'][0]['grade'].lower()}"
    cancelled = client.post(f"/loans/{gone}/cancel", headers=login(client, owner) | key())
    assert cancelled.status_code == 200  # one note can no longer be bought
    refused = client.post(f"/investors/me/portfolio-plans/{plan['plan_id']}/place", headers=ivan | key())
    assert refused.status_code == 409 and f"loan {gone}" in refused.json()["detail"]
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    assert (portfolio["cash"], portfolio["committed"], portfolio["notes"]) == ("1000.00", "0.00", [])
