"""Layout pieces every page shares: the warehouse guard and the KPI row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import streamlit as st

from dashboards import queries

_MESSAGES = {
    "missing": "The warehouse file `{path}` does not exist yet.",
    "empty": "The warehouse `{path}` holds none of the dashboards' marts yet.",
    "incomplete": "The warehouse `{path}` is out of date: it lacks {detail}.",
    "unreadable": "`{path}` is not a DuckDB warehouse the dashboards can read ({detail}).",
}


def require_warehouse() -> queries.Warehouse:
    """The warehouse to read; when it cannot be read, explain why and how to build it, and stop the page."""
    wh = queries.current_warehouse()
    problem = queries.check_warehouse(wh)
    if problem is None:
        return wh
    if problem.kind == "busy":
        st.info(
            "The pipeline is rebuilding the warehouse right now. Reload this page in a moment.",
            icon=":material/hourglass_top:",
        )
    else:
        st.warning(
            _MESSAGES[problem.kind].format(path=wh.path, detail=problem.detail)
            + f"\n\nBuild it from the project root with `{queries.BUILD_COMMAND}`, then reload this page. "
            "To read another file, set `PEERLEND_WAREHOUSE_PATH`.",
            icon=":material/database:",
        )
    st.stop()
    raise AssertionError("unreachable: st.stop() ends the script run")


class Kpi(NamedTuple):
    label: str
    value: str  # already formatted: money through dashboards.formatting
    help: str | None = None
    note: str | None = None  # a grey line under the value (st.metric's delta, without colour or arrow)


def kpis(items: Sequence[Kpi], per_row: int = 3) -> None:
    """Bordered metrics, at most ``per_row`` side by side so that large amounts are not cut off."""
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        for column, kpi in zip(st.columns(per_row), row, strict=False):
            column.metric(
                kpi.label,
                kpi.value,
                kpi.note,
                help=kpi.help,
                border=True,
                height="stretch",
                delta_color="off",
                delta_arrow="off",
            )
