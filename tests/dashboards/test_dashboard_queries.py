"""dashboards/queries.py on the demo warehouse: every query binds the scope it is given, caches per scope, reads
read-only, and agrees with the marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dashboards import queries


@pytest.fixture
def wh(needs_warehouse: Path, use_platform_warehouse: Path) -> queries.Warehouse:
    return queries.current_warehouse()


def _investors(wh: queries.Warehouse) -> list[queries.InvestorScope]:
    rows = queries._fetch(
        wh, f"select investor_id, user_id from {queries._table('fct_investor_portfolios')} order by investor_id"
    )
    return [queries.InvestorScope(int(i), int(u)) for i, u in zip(rows["investor_id"], rows["user_id"], strict=True)]


def test_the_demo_warehouse_has_every_column_the_pages_read(wh: queries.Warehouse) -> None:
    assert queries.check_warehouse(wh) is None


def test_investor_queries_return_only_the_scopes_rows(wh: queries.Warehouse) -> None:
    investors = _investors(wh)
    assert len(investors) >= 2
    seen: dict[int, set[int]] = {}
    for scope in investors:
        notes = queries.investor_notes(wh, scope, (), (), None, None)
        expected = set(
            queries._fetch(
                wh,
                f"select investment_id from {queries._table('fct_investor_notes')} where investor_id = ?",
                [scope.investor_id],
            )["investment_id"]
        )
        assert set(notes["investment_id"]) == expected
        seen[scope.investor_id] = expected
        summary = queries.investor_summary(wh, scope)
        assert summary is not None and summary["investor_id"] == scope.investor_id
    ids = list(seen.values())
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1 :])  # notes belong to one investor


def test_the_cache_keeps_each_investors_results_apart(wh: queries.Warehouse) -> None:
    first, second = _investors(wh)[:2]
    a = queries.investor_notes(wh, first, (), (), None, None)
    b = queries.investor_notes(wh, second, (), (), None, None)
    again = queries.investor_notes(wh, first, (), (), None, None)  # cached
    assert list(again["investment_id"]) == list(a["investment_id"])
    assert not set(a["investment_id"]) & set(b["investment_id"])


def test_queries_refuse_anything_but_a_scope(wh: queries.Warehouse) -> None:
    with pytest.raises(TypeError):
        queries.investor_summary(wh, 1)  # type: ignore[arg-type]
    with pytest.raises(PermissionError):
        queries.platform_months(wh, queries.InvestorScope(1, 1))  # type: ignore[arg-type]


def test_filters_narrow_the_notes(wh: queries.Warehouse) -> None:
    scope = max(_investors(wh), key=lambda s: len(queries.investor_notes(wh, s, (), (), None, None)))
    every = queries.investor_notes(wh, scope, (), (), None, None)
    grade = every["grade"].iloc[0]
    by_grade = queries.investor_notes(wh, scope, (grade,), (), None, None)
    assert set(by_grade["grade"]) == {grade} and len(by_grade) == (every["grade"] == grade).sum()
    none = queries.investor_notes(wh, scope, (), (), dt.date(1990, 1, 1), dt.date(1990, 12, 31))
    assert none.empty


def test_the_connection_is_read_only(wh: queries.Warehouse) -> None:
    con = queries._connection(wh)
    with pytest.raises(duckdb.Error):
        con.execute("create table marts.intruder (x int)")


def test_platform_money_is_exact(wh: queries.Warehouse) -> None:
    staff = queries.StaffScope(1, "admin")
    months = queries.platform_months(wh, staff)
    assert not months.empty
    assert all(isinstance(v, int) for v in months["originations_cents"])
    recon = queries.ledger_reconciliation(wh, staff)
    assert int(recon["mismatched_count"].sum()) == 0 and int(recon["balance_cents"].sum()) == 0
