"""dashboards/queries.py against the fixture warehouse: filters, figures, exact money, read-only access."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboards import queries


@pytest.fixture(scope="module")
def wh(warehouse_file: Path) -> queries.Warehouse:
    return queries.Warehouse(str(warehouse_file), warehouse_file.stat().st_mtime_ns)


def test_current_warehouse_follows_the_settings(use_warehouse: Path) -> None:
    wh = queries.current_warehouse()
    assert wh == queries.Warehouse(str(use_warehouse), use_warehouse.stat().st_mtime_ns)


def test_borrowers_lists_each_borrower_once(wh: queries.Warehouse) -> None:
    df = queries.borrowers(wh)
    assert df.to_dict("records") == [
        {"borrower_id": 1, "borrower_username": "alice", "loans_count": 2},
        {"borrower_id": 2, "borrower_username": "bob", "loans_count": 1},
    ]


@pytest.mark.parametrize(("borrower_id", "loan_ids"), [(1, [102, 101]), (2, [201]), (99, [])])
def test_borrower_loans_returns_only_that_borrowers_loans(
    wh: queries.Warehouse, borrower_id: int, loan_ids: list[int]
) -> None:
    df = queries.borrower_loans(wh, borrower_id)
    assert df["loan_id"].tolist() == loan_ids  # newest first
    assert set(df["borrower_id"]) <= {borrower_id}


def test_money_stays_decimal(wh: queries.Warehouse) -> None:
    loan = queries.borrower_loans(wh, 1).set_index("loan_id").loc[101]
    assert loan["amount"] == Decimal("5000.00") and type(loan["amount"]) is Decimal
    assert loan["outstanding_principal"] == Decimal("3805.42")
    assert queries.borrower_loans(wh, 1)["outstanding_principal_cents"].dtype == "int64"
    assert loan["interest_rate"] == Decimal("12.00")
    summary = queries.platform_summary(wh)
    assert summary is not None
    assert all(type(summary[k]) is Decimal for k in ("originations", "repayments", "outstanding_principal"))


def test_loan_schedule_is_pinned_to_the_borrower(wh: queries.Warehouse) -> None:
    own = queries.loan_schedule(wh, 1, 101)
    assert own["installment_number"].tolist() == list(range(1, 13))
    assert sum(own["principal"], Decimal(0)) == Decimal("5000.00")
    assert own["is_paid"].tolist() == [True] * 3 + [False] * 9
    assert queries.loan_schedule(wh, 1, 201).empty  # bob's loan, asked for with alice's id
    assert queries.loan_schedule(wh, 2, 201)["balance_after"].tolist()[-1] == Decimal("0.00")


def test_investors_and_portfolio(wh: queries.Warehouse) -> None:
    assert queries.investors(wh)["username"].tolist() == ["ivan", "jane"]
    ivan = queries.investor_portfolio(wh, 10)
    assert ivan is not None
    assert ivan["username"] == "ivan"
    assert (ivan["cash"], ivan["committed"], ivan["outstanding_principal"]) == (
        Decimal("12345.67"),
        Decimal("0.00"),
        Decimal("2283.25"),
    )
    assert (ivan["interest_received"], ivan["portfolio_value"]) == (Decimal("100.93"), Decimal("14628.92"))
    assert queries.investor_portfolio(wh, 999) is None


@pytest.mark.parametrize(("investor_id", "note_ids"), [(10, [1001, 1002]), (11, [1004, 1003]), (999, [])])
def test_investor_notes_returns_only_that_investors_notes(
    wh: queries.Warehouse, investor_id: int, note_ids: list[int]
) -> None:
    df = queries.investor_notes(wh, investor_id)
    assert df["investment_id"].tolist() == note_ids  # newest first
    assert set(df["investor_id"]) <= {investor_id}


def test_investor_allocation_by_grade(wh: queries.Warehouse) -> None:
    df = queries.investor_allocation(wh, 11)
    assert df[["grade", "notes_count", "amount", "outstanding_principal"]].to_dict("records") == [
        {"grade": "A", "notes_count": 1, "amount": Decimal("2000.00"), "outstanding_principal": Decimal("1522.17")},
        {"grade": "C", "notes_count": 1, "amount": Decimal("1000.00"), "outstanding_principal": Decimal("0.00")},
    ]
    assert queries.investor_allocation(wh, 10)["grade"].tolist() == ["A", "B"]


def test_platform_summary(wh: queries.Warehouse) -> None:
    s = queries.platform_summary(wh)
    assert s is not None
    assert (s["originations"], s["repayments"], s["interest_paid"]) == (
        Decimal("6200.00"),
        Decimal("2550.76"),
        Decimal("156.18"),
    )
    assert s["outstanding_principal"] == Decimal("3805.42")  # the last day's stock, not a sum
    assert (s["active_investors"], s["loans_count"], s["loans_disbursed"]) == (2, 3, 2)
    assert (str(s["first_date"]), str(s["last_date"])) == ("2026-01-01", "2026-04-30")


def test_platform_trend_by_month_sums_flows_and_keeps_period_end_stocks(wh: queries.Warehouse) -> None:
    daily, monthly = queries.platform_trend(wh, "day"), queries.platform_trend(wh, "month")
    assert len(daily) == 120
    assert [str(p) for p in monthly["period"]] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert sum(monthly["originations"], Decimal(0)) == sum(daily["originations"], Decimal(0)) == Decimal("6200")
    assert monthly["originations"].tolist() == [Decimal("6200.00"), 0, 0, 0]
    assert monthly["outstanding_principal"].tolist()[-1] == daily["outstanding_principal"].tolist()[-1]
    assert len(queries.platform_trend(wh, "week")) == 18


def test_platform_trend_refuses_an_unknown_grain(wh: queries.Warehouse) -> None:
    with pytest.raises(ValueError, match="grain"):
        queries.platform_trend(wh, "year; drop table x")  # type: ignore[arg-type]


def test_loans_by_status_grade(wh: queries.Warehouse) -> None:
    df = queries.loans_by_status_grade(wh)
    assert df[["status", "grade", "loans_count"]].values.tolist() == [
        ["active", "A", 1],
        ["listed", "C", 1],
        ["repaid", "B", 1],
    ]


def test_schema_comes_from_one_constant(wh: queries.Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "MARTS_SCHEMA", "elsewhere")
    with pytest.raises(duckdb.CatalogException, match="elsewhere"):
        queries.borrowers.__wrapped__(wh)  # bypass the cache


# ------------------------------------------------------------------------------------------ warehouse checks


def _wh(path: Path) -> queries.Warehouse:
    return queries.Warehouse(str(path), path.stat().st_mtime_ns if path.exists() else -1)


def test_check_warehouse_accepts_the_contract(wh: queries.Warehouse) -> None:
    assert queries.check_warehouse(wh) is None


def test_check_warehouse_missing_and_empty_files(tmp_path: Path) -> None:
    assert queries.check_warehouse(_wh(tmp_path / "nope.duckdb")) == queries.WarehouseProblem("missing")
    zero = tmp_path / "zero.duckdb"
    zero.touch()
    assert queries.check_warehouse(_wh(zero)) == queries.WarehouseProblem("empty")
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()  # a valid database with no tables
    assert queries.check_warehouse(_wh(bare)) == queries.WarehouseProblem("empty")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 100)
    problem = queries.check_warehouse(_wh(junk))
    assert problem is not None and problem.kind == "unreadable"


def test_check_warehouse_names_what_an_old_warehouse_lacks(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"create schema {queries.MARTS_SCHEMA}")
    for mart, columns in queries.MART_COLUMNS.items():
        kept = [c for c in sorted(columns) if c != "next_due_date"]
        if mart != "fct_investor_notes":
            con.execute(f"create table {queries.MARTS_SCHEMA}.{mart} ({', '.join(f'{c} integer' for c in kept)})")
    con.close()
    problem = queries.check_warehouse(_wh(path))
    assert problem is not None and problem.kind == "incomplete"
    assert "fct_borrower_loans: next_due_date" in problem.detail
    assert "fct_investor_notes: amount, amount_cents" in problem.detail


def test_check_warehouse_reports_a_writer_as_busy(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    duckdb.connect(str(path)).close()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print(1, flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "1"
        problem = queries.check_warehouse(_wh(path))
        assert problem is not None and problem.kind == "busy"
    finally:
        writer.kill()
        writer.wait()


def test_queries_leave_no_lock_behind(warehouse_file: Path, tmp_path: Path) -> None:
    """After the dashboards have read the file, the pipeline (another process) can open it to write."""
    path = tmp_path / "copy.duckdb"
    path.write_bytes(warehouse_file.read_bytes())
    wh = _wh(path)
    assert not queries.borrower_loans(wh, 1).empty
    assert queries.check_warehouse(wh) is None
    started = time.monotonic()
    writer = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).execute('checkpoint')"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert writer.returncode == 0, writer.stderr
    assert time.monotonic() - started < 30
