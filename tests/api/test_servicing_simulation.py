"""Two years of simulated servicing on PostgreSQL with a fake clock: loans paid on time, late, partially, prepaid,
charged off and recovered, through the API and the daily job, with every invariant checked at every month end.

Every day runs the worker's processor job too: transfers submitted, the ACH-like sandbox settling them two
business days later, webhooks delivered. One payment comes back R01 from the processor a business day after it
was made, and is reversed with its distribution (api/servicing/returns.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.integrations.processor import jobs
from api.kit.clock import frozen_at
from api.servicing import daily
from api.servicing.reconcile import reconcile
from tests.api.helpers import SEED_PROFILE, create_loan, deposit, invest, key, login, register, register_investor
from tests.api.test_servicing_payments import make_staff_once

START = date(2027, 1, 15)
DAYS = 730
Plan = Callable[[date, dict[str, Any]], str | None]


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _due(state: dict[str, Any], day: date, lag: int = 0) -> dict[str, Any] | None:
    for row in state["schedule"]:
        if date.fromisoformat(row["due_date"]) + timedelta(days=lag) == day:
            return row
    return None


def on_time(day: date, state: dict[str, Any]) -> str | None:
    row = _due(state, day)
    return row["payment"] if row else None


def late(day: date, state: dict[str, Any]) -> str | None:
    # 10 days late every month (the scheduled amount), and 20 days late every fourth month, after its late
    # fee, paying what the servicer asks (fee and arrears)
    for lag in (10, 20):
        row = _due(state, day, lag)
        if row and (row["number"] % 4 == 0) == (lag == 20):
            return "next_due" if lag == 20 else row["payment"]
    return None


def partial(day: date, state: dict[str, Any]) -> str | None:
    row = _due(state, day)
    if row is None:
        return None
    return str((Decimal(row["payment"]) / 2).quantize(Decimal("0.01"))) if row["number"] % 3 else "next_due"


def prepaid(day: date, state: dict[str, Any]) -> str | None:
    row = _due(state, day)
    if row and row["number"] == 3:
        return str(Decimal(row["payment"]) + Decimal("1000.00"))
    if row and row["number"] == 12:
        return "payoff"
    return on_time(day, state)


def returned(day: date, state: dict[str, Any]) -> str | None:
    # pays on time, but installment 5's payment comes back R01 four days later; it is paid again on day 10
    row = _due(state, day, 10)
    if row and row["number"] == 5:
        return "next_due"
    return on_time(day, state)


def defaulted(day: date, state: dict[str, Any]) -> str | None:
    row = _due(state, day)
    return row["payment"] if row and row["number"] <= 2 else None


def recovered(day: date, state: dict[str, Any]) -> str | None:
    if day == START + timedelta(days=300):
        return "200.00"
    return defaulted(day, state)


PLANS: dict[str, Plan] = {
    "on_time": on_time,
    "late": late,
    "partial": partial,
    "prepaid": prepaid,
    "returned": returned,
    "defaulted": defaulted,
    "recovered": recovered,
}


def check_invariants(client: TestClient, loans: dict[str, dict[str, Any]], investors: list[str], day: date) -> None:
    app_state = client.app.state  # type: ignore[attr-defined]
    found = reconcile(app_state.database, app_state.processor)
    assert found.ok, (day, found.differences)
    with frozen_at(at(day, 23)):
        trial = client.get("/admin/ledger/trial-balance", headers=make_staff_once(client)).json()
        assert trial["total"] == "0.00" and trial["unbalanced_transactions"] == [], day
        balances = {a["code"]: Decimal(a["balance"]) for a in trial["accounts"]}
        for name in investors:
            p = client.get("/investors/me/portfolio", headers=login(client, name)).json()
            assert Decimal(p["outstanding_principal"]) == sum(Decimal(n["outstanding_principal"]) for n in p["notes"])
            assert Decimal(p["cash"]) >= 0 and Decimal(p["cash_pending"]) >= 0
        for state in loans.values():
            loan_id = state["loan_id"]
            view = client.get(f"/loans/{loan_id}/servicing", headers=login(client, state["borrower"])).json()
            expected = Decimal(0) if view["loan_status"] == "charged_off" else Decimal(view["principal"])
            assert balances[f"loan_principal:{loan_id}"] == expected, (day, state["borrower"])
            assert balances.get(f"loan_collections:{loan_id}", Decimal(0)) == 0


def test_two_years_of_servicing(client: TestClient, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the two-year simulation runs on PostgreSQL")
    loans: dict[str, dict[str, Any]] = {}
    investors = ["ivan", "iris"]
    with frozen_at(at(START)):
        for name in investors:
            register_investor(client, name)
            deposit(client, login(client, name), "20000.00")
        for plan in PLANS:
            borrower = f"b_{plan}"
            register(client, borrower, profile=SEED_PROFILE)
            loan = create_loan(client, login(client, borrower), rate="6.00")
            for name in investors:
                assert invest(client, login(client, name), loan["loan_id"], "2500.00").status_code == 201
            schedule = client.get(f"/loans/{loan['loan_id']}/schedule", headers=login(client, borrower)).json()
            loans[plan] = {"loan_id": loan["loan_id"], "borrower": borrower, "schedule": schedule["installments"]}
    database, settings = client.app.state.database, client.app.state.settings  # type: ignore[attr-defined]
    processor = client.app.state.processor  # type: ignore[attr-defined]
    for offset in range(1, DAYS + 1):
        day = START + timedelta(days=offset)
        with frozen_at(at(day)):
            for plan, rule in PLANS.items():
                state = loans[plan]
                amount = rule(day, state)
                if amount is None:
                    continue
                auth = login(client, state["borrower"])
                loan_id = state["loan_id"]
                if amount == "next_due":
                    amount = client.get(f"/loans/{loan_id}/servicing", headers=auth).json()["next_due"]
                elif amount == "payoff":
                    amount = client.get(f"/loans/{loan_id}/payoff", headers=auth).json()["payoff"]
                if Decimal(amount) <= 0:
                    continue
                paid = client.post("/payments/make", json={"loan_id": loan_id, "amount": amount}, headers=auth | key())
                assert paid.status_code in (201, 409), paid.text
                row = _due(state, day)
                if plan == "returned" and row and row["number"] == 5:
                    state["to_return"] = paid.json()["processor_reference"]
            jobs.run(database, processor, settings)
            reference = loans["returned"].pop("to_return", None)
            if reference:  # submitted: the processor will return it the next business day
                processor.force_return(reference, "R01")
        with frozen_at(at(day + timedelta(days=1), 1)):
            report = daily.service_day(database, day, settings)
            assert not report.failed
        if (day + timedelta(days=1)).day == 1:
            check_invariants(client, loans, investors, day)
    with frozen_at(at(START + timedelta(days=DAYS + 1))):
        statuses = {
            plan: client.get(f"/loans/{s['loan_id']}", headers=login(client, s["borrower"])).json()["status"]
            for plan, s in loans.items()
        }
        assert statuses["prepaid"] == "repaid"
        assert statuses["defaulted"] == statuses["recovered"] == "charged_off"
        assert statuses["on_time"] == "current"
        assert statuses["returned"] == "current"
        back = client.get(f"/loans/{loans['returned']['loan_id']}/payments", headers=login(client, "b_returned")).json()
        assert [p["status"] for p in back].count("returned") == 1
        assert statuses["late"] in ("current", "grace")
        late_view = client.get(f"/loans/{loans['late']['loan_id']}/servicing", headers=login(client, "b_late")).json()
        assert late_view["late_fees"], "the late borrower paid late fees"
        portfolio = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert portfolio["charged_off_notes"] == 2 and Decimal(portfolio["recoveries_received"]) == Decimal("100.00")
        assert portfolio["nar"] is not None and portfolio["xirr"] is not None
