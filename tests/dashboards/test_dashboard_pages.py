"""Each page through streamlit.testing.v1.AppTest (in-process, no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PAGES = ["app_pages/borrower.py", "app_pages/investor.py", "app_pages/platform.py"]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the page's Altair charts, with their datasets."""
    specs = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        for dataset in chart.proto.datasets:
            spec.setdefault("_rows", []).append(dataset.data.data)
        specs.append(spec)
    return specs


def test_borrower_page(use_warehouse: Path) -> None:
    at = open_page(PAGES[0])
    assert at.title[0].value == "Borrower"
    assert at.selectbox(key="borrower_id").value == 1  # alice comes first
    assert metrics(at) == {
        "Loans": "2",
        "Borrowed": "$5,000.00",
        "Outstanding principal": "$3,805.42",
        "Next payment": "$444.24",
        "Installments paid": "3 / 12",
        "Principal paid": "$1,194.58",
        "Interest paid": "$138.14",
        "Total interest": "$330.93",
    }
    notes = {m.label: m.delta for m in at.metric}
    assert (notes["Next payment"], notes["Loans"]) == ("due 2026-05-10", "1 disbursed")
    loans = at.dataframe[0].value
    assert loans["Loan"].tolist() == ["#102", "#101"]
    assert loans.set_index("Loan").loc["#101", ["Amount", "Funded", "Outstanding", "Next due"]].tolist() == [
        "$5,000.00",
        "$5,000.00",
        "$3,805.42",
        "2026-05-10",
    ]
    assert loans.set_index("Loan").loc["#102", ["Status", "Funded", "Next due"]].tolist() == [
        "listed",
        "$1,000.00",
        "—",
    ]
    (amortization,) = charts(at)
    assert amortization["layer"][0]["mark"]["type"] == "bar"
    assert at.selectbox(key="loan_for_1").options == ["#101 · debt consolidation · $5,000.00 · active"]


def test_borrower_page_switches_borrower(use_warehouse: Path) -> None:
    at = open_page(PAGES[0])
    at.selectbox(key="borrower_id").set_value(2).run()
    assert not at.exception
    assert at.dataframe[0].value["Loan"].tolist() == ["#201"]
    m = metrics(at)
    assert (m["Outstanding principal"], m["Next payment"], m["Installments paid"]) == ("$0.00", "—", "3 / 3")
    assert at.dataframe[1].value["Balance after"].tolist() == ["$802.99", "$403.00", "$0.00"]


def test_investor_page(use_warehouse: Path) -> None:
    at = open_page(PAGES[1])
    assert at.title[0].value == "Investor"
    assert metrics(at) == {
        "Portfolio value": "$14,628.92",
        "Cash": "$12,345.67",
        "Committed": "$0.00",
        "Outstanding principal": "$2,283.25",
        "Principal received": "$1,916.75",
        "Interest received": "$100.93",
    }
    assert at.dataframe[0].value["Note"].tolist() == ["#1001", "#1002"]
    assert len(charts(at)) == 1
    at.selectbox(key="investor_id").set_value(11).run()
    assert metrics(at)["Committed"] == "$1,000.00"
    notes = at.dataframe[0].value.set_index("Note")
    assert notes.index.tolist() == ["#1004", "#1003"]
    assert notes.loc["#1003", ["Grade", "Rate", "Invested", "Outstanding"]].tolist() == [
        "A",
        "12.00%",
        "$2,000.00",
        "$1,522.17",
    ]


def test_platform_page(use_warehouse: Path) -> None:
    at = open_page(PAGES[2])
    assert at.title[0].value == "Platform"
    assert metrics(at) == {
        "Originations": "$6,200.00",
        "Repayments": "$2,550.76",
        "Interest paid": "$156.18",
        "Outstanding principal": "$3,805.42",
        "Active investors": "2",
        "Loans": "3",
    }
    assert len(charts(at)) == 3
    at.segmented_control(key="grain").set_value("month").run()
    assert not at.exception
    assert metrics(at)["Originations"] == "$6,200.00"
    assert len(charts(at)) == 3


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("state", ["missing", "zero bytes", "no marts"])
def test_pages_explain_how_to_build_a_missing_warehouse(
    page: str, state: str, point_settings_at, tmp_path: Path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    if state == "zero bytes":
        path.touch()
    elif state == "no marts":
        duckdb.connect(str(path)).close()
    point_settings_at(path)
    at = open_page(page)
    (warning,) = at.warning
    assert "make pipeline" in warning.value and str(path) in warning.value
    assert not at.metric and not at.dataframe and not at.get("vega_lite_chart")
