"""The daily servicing job over a loan that stops paying: grace, one late fee, buckets as lifecycle events,
charge-off writing off the notes, a recovery less the collection fee; idempotent and reconciled throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.kit.clock import frozen_at
from api.servicing import daily
from api.servicing.reconcile import reconcile
from tests.api.helpers import login
from tests.api.test_servicing_payments import ISSUED_AT, pay, seed_loan, trial_balance

__all__ = ["seed_loan"]


def run(client: TestClient, day: date) -> daily.DayReport:
    app = client.app
    with frozen_at(datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)):
        return daily.service_day(app.state.database, day, app.state.settings)  # type: ignore[attr-defined]


def status_of(client: TestClient, loan_id: int) -> str:
    return str(client.get(f"/loans/{loan_id}", headers=login(client, "bella")).json()["status"])


def events(client: TestClient, loan_id: int) -> list[tuple[str, str]]:
    with client.app.state.database.transaction(write=False) as session:  # type: ignore[attr-defined]
        rows = session.execute(
            text("SELECT event, to_status FROM loan_events WHERE loan_id = :l ORDER BY event_id"), {"l": loan_id}
        ).all()
    return [(str(e), str(s)) for e, s in rows]


def assert_reconciled(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    found = reconcile(state.database, state.processor)
    assert found.ok, found.differences


def test_a_loan_that_stops_paying(client: TestClient, seed_loan: dict[str, Any]) -> None:
    loan_id = seed_loan["loan_id"]
    assert ISSUED_AT.date() == date(2027, 1, 15)
    assert run(client, date(2027, 2, 15)).changes == 0
    with frozen_at(datetime(2027, 2, 16, 12, tzinfo=UTC)):
        assert status_of(client, loan_id) == "current"
    assert run(client, date(2027, 2, 16)).changes == 1
    assert run(client, date(2027, 2, 16)).already_done
    with frozen_at(datetime(2027, 2, 17, 12, tzinfo=UTC)):
        assert status_of(client, loan_id) == "grace"
    fee_day = run(client, date(2027, 3, 2))
    assert (fee_day.fees, fee_day.changes) == (1, 0)
    again = daily.service_day(
        client.app.state.database,  # type: ignore[attr-defined]
        date(2027, 3, 2),
        client.app.state.settings,  # type: ignore[attr-defined]
        force=True,
    )
    assert (again.fees, again.changes) == (0, 0)
    assert run(client, date(2027, 3, 3)).changes == 1
    with frozen_at(datetime(2027, 3, 4, 12, tzinfo=UTC)):
        view = client.get(f"/loans/{loan_id}/servicing", headers=login(client, "bella")).json()
        assert view["loan_status"] == "late_16_30" and view["days_past_due"] == 17
        assert [(f["installment"], f["amount"]) for f in view["late_fees"]] == [(1, "15.00")]
        assert "grace period" in view["late_fees"][0]["reason"]
        assert view["fees"] == "15.00"
    assert_reconciled(client)
    # 31 days past due, then 120: charged off with every note's principal written off
    assert run(client, date(2027, 3, 18)).changes == 1
    charged = run(client, date(2027, 6, 15))
    assert charged.charge_offs == 1
    with frozen_at(datetime(2027, 6, 16, 12, tzinfo=UTC)):
        assert status_of(client, loan_id) == "charged_off"
        balances = trial_balance(client)
        assert balances[f"loan_principal:{loan_id}"] == 0
        ivan = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert ivan["outstanding_principal"] == "0.00"
    assert [s for _, s in events(client, loan_id)][-4:] == ["grace", "late_16_30", "late_31_120", "charged_off"]
    assert_reconciled(client)
    # no interest after charge-off; the daily job leaves the loan alone
    assert run(client, date(2027, 6, 30)).loans == 0
    # a recovery goes to the note holders less the 18 % collection fee
    with frozen_at(datetime(2027, 7, 1, 12, tzinfo=UTC)):
        got = pay(client, loan_id, "100.00").json()
        assert (got["recovery"], got["principal"], got["interest"], got["servicing_fee"]) == (
            "100.00",
            "0.00",
            "0.00",
            "18.00",
        )
        assert [(d["recovery"], d["servicing_fee"]) for d in got["distributions"]] == [
            ("50.00", "9.00"),
            ("50.00", "9.00"),
        ]
        balances = trial_balance(client)
        assert balances["platform_servicing_income"] == Decimal("-18.00")
    assert_reconciled(client)


def test_a_return_after_the_payment_was_distributed_reverses_it_exactly(
    client: TestClient, seed_loan: dict[str, Any]
) -> None:
    from api.integrations.processor import jobs

    loan_id = seed_loan["loan_id"]
    state = client.app.state  # type: ignore[attr-defined]

    def move_money(day: date, *, settle_all_now: bool = False) -> None:
        with frozen_at(datetime(day.year, day.month, day.day, 12, tzinfo=UTC)):
            jobs.run(state.database, state.processor, state.settings, settle_all_now=settle_all_now)

    move_money(date(2027, 2, 14), settle_all_now=True)  # the disbursement settles before the payment
    move_money(date(2027, 2, 15))
    with frozen_at(datetime(2027, 2, 15, 12, tzinfo=UTC)):
        before = trial_balance(client)
        paid = pay(client, loan_id, "152.11").json()
        assert paid["distributions"] and paid["servicing_fee"] == "1.52"
    move_money(date(2027, 2, 15))
    run(client, date(2027, 2, 15))
    move_money(date(2027, 2, 17))  # settled: the note holders' shares are available cash
    with frozen_at(datetime(2027, 2, 17, 12, tzinfo=UTC)):
        ivan_paid = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert ivan_paid["cash_pending"] == "0.00"
        state.processor.force_return(paid["processor_reference"], "R01")
    # the R01 arrives two days after settlement: the payment, its distribution and its settlement reversed
    move_money(date(2027, 2, 19))
    move_money(date(2027, 2, 19))  # a second delivery run finds nothing left to do
    with frozen_at(datetime(2027, 2, 19, 12, tzinfo=UTC)):
        after = trial_balance(client)
        assert after == before, "every account is back where it was before the payment"
        ivan = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()
        assert Decimal(ivan["cash"]) < Decimal(ivan_paid["cash"]) and ivan["outstanding_principal"] == "2500.00"
        assert status_of(client, loan_id) == "grace"
        payments = client.get(f"/loans/{loan_id}/payments", headers=login(client, "bella")).json()
        assert [(p["status"], p["return_code"]) for p in payments] == [("returned", "R01")]
    assert_reconciled(client)
