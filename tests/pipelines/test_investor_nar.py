"""The warehouse's NAR equals the API's, investor by investor, to the basis point.

A small book played through the API (the pipeline story of conftest.py, then seven months of servicing):
bella's $5,000 loan (ivan 60 %, iris 40 %) stops paying after its first installment, goes through grace,
a late fee and the late buckets to charge-off, and later pays a recovery; her second loan ($2,000, iris,
ivan and igor) pays on time but one payment is returned (R01) and made good later with the late fee. The
daily servicing job runs every day, as the worker does. Then the pipeline builds the warehouse as of one
day and every investor's `fct_investor_nar.net_annualized_return` must equal the NAR of their
`GET /investors/me/portfolio` on that day exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from api.kit import clock
from api.main import create_app
from api.servicing import daily
from api.settings import get_settings
from tests.pipelines.conftest import Story, at, build_story

AS_OF = at(2026, 10, 20, 12)


def _serve(story: Story, first: date, last: date) -> None:
    """The daily servicing job for every day from `first` to `last`, as the worker runs it (late in the day)."""
    app = create_app(story.settings())
    try:
        day = first
        while day <= last:
            with clock.frozen_at(datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)):
                daily.service_day(app.state.database, day, app.state.settings)
            day += timedelta(days=1)
    finally:
        app.state.database.dispose()


def _pay(story: Story, loan_id: int, moment: datetime, amount: str | None = None) -> dict[str, Any]:
    """bella pays `amount`, or what servicing says she owes (next installment with arrears, plus late fees)."""
    with story.on(moment) as client:
        if amount is None:
            servicing = story.call(client, "GET", f"/loans/{loan_id}/servicing", "bella")
            amount = f"{Decimal(servicing['next_due']) + Decimal(servicing['fees']):.2f}"
        paid: dict[str, Any] = story.call(
            client, "POST", "/payments/make", "bella", json={"loan_id": loan_id, "amount": amount}
        )
        return paid


def _return(story: Story, payment: dict[str, Any], moment: datetime) -> None:
    """The processor returns the payment's debit (R01), submitted with everything else queued by then."""
    story.move_money(moment, returning=payment["processor_reference"])
    with story.on(moment) as client:
        paid = story.call(client, "GET", f"/loans/{payment['loan_id']}/payments", "bella")
        assert [p["status"] for p in paid if p["payment_id"] == payment["payment_id"]] == ["returned"]


def build_book(url: str, root: Path) -> tuple[Story, int]:
    """The story, then the months above; returns the story and the second loan's id."""
    story = build_story(url, root)  # loan 1 issued 2026-03-03, installment 1 paid 2026-04-03
    with story.on(at(2026, 4, 4, 9)) as client:
        story.register(client, "igor", "investor")
        story.call(client, "POST", "/investors/me/deposits", "igor", json={"amount": "1000.00"})
        story.call(client, "POST", "/investors/me/deposits", "ivan", json={"amount": "2000.00"})
    story.move_money(at(2026, 4, 4, 9, 30), settle_all_now=True)  # the sandbox's "simulate processing"
    second = story.listed_loan_id  # $2,000, 24 months, iris committed $500
    with story.on(at(2026, 4, 4, 10)) as client:
        story.call(client, "POST", f"/loans/{second}/investments", "igor", json={"amount": "500.00"})
        story.call(client, "POST", f"/loans/{second}/investments", "ivan", json={"amount": "1000.00"})
        assert story.call(client, "GET", f"/loans/{second}", "bella")["status"] == "current"

    _serve(story, date(2026, 4, 4), date(2026, 5, 4))
    _pay(story, second, at(2026, 5, 4, 9))
    _serve(story, date(2026, 5, 5), date(2026, 6, 3))
    returned = _pay(story, second, at(2026, 6, 3, 9))
    _return(story, returned, at(2026, 6, 8, 10))
    _serve(story, date(2026, 6, 4), date(2026, 6, 25))
    _pay(story, second, at(2026, 6, 26, 9))  # the arrears and the late fee
    _serve(story, date(2026, 6, 26), date(2026, 7, 3))
    for month in (7, 8, 9, 10):
        _pay(story, second, at(2026, month, 4, 9))
        _serve(story, date(2026, month, 4), date(2026, month + 1, 3) if month < 10 else AS_OF.date())
        if month == 9:
            # loan 1 has been charged off by now (120 days past due): a recovery from collections
            _pay(story, story.loan_id, at(2026, 9, 28, 9), "150.00")
    return story, second


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Story, int]]:
    root = tmp_path_factory.mktemp("nar")
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    url = f"sqlite:///{root / 'peerlend.db'}"
    story, second = build_book(url, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEERLEND_DATABASE_URL", url)
        mp.setenv("PEERLEND_WAREHOUSE_PATH", str(root / "warehouse.duckdb"))
        mp.delenv("PEERLEND_WAREHOUSE_WORK_PATH", raising=False)
        mp.setenv("DAGSTER_HOME", str(dagster_home))
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        get_settings.cache_clear()
        yield story, second
    get_settings.cache_clear()


def _materialize(today: datetime) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs

    with dg.DagsterInstance.ephemeral() as instance, clock.frozen_at(today):
        return dg.materialize(
            [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("credit_model"),
        )


def _source(url: str, sql: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


def test_warehouse_nar_equals_the_api_for_every_investor(book: tuple[Story, int]) -> None:
    story, second = book
    # the book has what the formula must get right
    statuses = dict(_source(story.url, "select loan_id, status from loans"))
    assert statuses[story.loan_id] == "charged_off" and statuses[second] == "current"
    assert _source(story.url, f"select count(*) from payments where status = 'returned' and loan_id = {second}") == [
        (1,)
    ]
    charged = dict(_source(story.url, "select investor_id, sum(principal_cents) from note_charge_offs group by 1"))
    recovered = dict(
        _source(
            story.url,
            "select d.investor_id, sum(d.recovery_cents) from payment_distributions d "
            "join payments p on p.payment_id = d.payment_id where p.status = 'settled' group by 1",
        )
    )
    late_fees = _source(
        story.url,
        "select sum(d.fees_cents) from payment_distributions d join payments p on p.payment_id = d.payment_id "
        "where p.status = 'settled'",
    )
    ivan, iris = story.investor_ids
    assert charged[ivan] > 0 and recovered[ivan] > 0 and charged[iris] > 0 and recovered[iris] > 0
    assert late_fees[0][0] > 0

    result = _materialize(AS_OF)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert not [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]

    api: dict[int, Decimal | None] = {}
    with story.on(AS_OF) as client:
        for name in ("ivan", "iris", "igor"):
            portfolio = story.call(client, "GET", "/investors/me/portfolio", name)
            api[portfolio["investor_id"]] = None if portfolio["nar"] is None else Decimal(portfolio["nar"])
    assert len(api) == 3 and all(v is not None for v in api.values())
    assert api[ivan] != api[iris] and min(v for v in api.values() if v is not None) < 0  # the charge-off shows

    con = duckdb.connect(str(get_settings().warehouse_path), read_only=True)
    try:
        rows = con.execute("select investor_id, net_annualized_return from marts.fct_investor_nar").fetchall()
    finally:
        con.close()
    warehouse = {int(i): None if n is None else Decimal(n) for i, n in rows}
    assert warehouse == api
