"""dashboards/formatting.py: money is printed from exact values."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from dashboards.formatting import cents_to_decimal, day, money, percent


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("5000.00"), "$5,000.00"),
        (Decimal("5000"), "$5,000.00"),
        (Decimal("0.1"), "$0.10"),
        (Decimal("1234567.89"), "$1,234,567.89"),
        (Decimal("-12.50"), "-$12.50"),
        (Decimal("0.00"), "$0.00"),
        (7, "$7.00"),
        (None, "—"),
    ],
)
def test_money(value: Decimal | int | None, text: str) -> None:
    assert money(value) == text


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]


def test_cents_to_decimal_is_exact() -> None:
    assert cents_to_decimal(500_000) == Decimal("5000.00")
    assert money(cents_to_decimal(123_456_789_012_345_67)) == "$123,456,789,012,345.67"  # beyond float precision


def test_percent_and_day() -> None:
    assert percent(Decimal("12.5")) == "12.50%"
    assert percent(None) == "—"
    assert day(dt.date(2026, 5, 10)) == "2026-05-10"
    assert day(dt.datetime(2026, 1, 6, 9)) == "2026-01-06"
    assert day(pd.Timestamp("2026-01-06 09:00")) == "2026-01-06"
    assert day(None) == day(pd.NaT) == "—"


def _float_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"df", "fetchdf", "fetch_df", "fetchnumpy", "pl"}:
            found.append(f"{path.name}:{node.lineno}: .{func.attr}()")
        elif isinstance(func, ast.Name) and func.id == "float":
            found.append(f"{path.name}:{node.lineno}: float()")
        elif isinstance(func, ast.Attribute) and func.attr == "astype" and "float" in ast.unparse(node.args):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_dashboards_never_fetch_money_as_float() -> None:
    """DuckDB's ``.df()`` / ``.fetchdf()`` turn DECIMAL into float64, and ``float(...)`` loses cents: none may be
    called in the dashboards. Charts divide integer cents by 100, for plotting only (dashboards/charts.py)."""
    root = Path(__file__).resolve().parents[2] / "dashboards"
    # charts plot (floats by design, from integer cents); the API client reads a Retry-After header
    allowed = {"charts.py", "api_client.py"}
    paths = [path for path in sorted(root.rglob("*.py")) if path.name not in allowed]
    assert [hit for path in paths for hit in _float_calls(path)] == []
