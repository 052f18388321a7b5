"""Layout pieces every page shares: the warehouse guard, KPI rows, API errors, empty states and "coming soon"."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

import streamlit as st

from dashboards import api_client, queries, session
from dashboards.api_client import ApiError
from dashboards.formatting import day

T = TypeVar("T")

_MESSAGES = {
    "missing": "The warehouse file `{path}` does not exist yet.",
    "empty": "The warehouse `{path}` holds none of the marts these pages read yet.",
    "incomplete": "The warehouse `{path}` is out of date: it lacks {detail}.",
    "unreadable": "`{path}` is not a DuckDB warehouse the app can read ({detail}).",
}


def warehouse() -> queries.Warehouse | None:
    """The warehouse to read, or ``None`` after explaining (without stopping the page) why it cannot be read:
    pages that also show live figures from the API keep showing those."""
    wh = queries.current_warehouse()
    problem = queries.check_warehouse(wh)
    if problem is None:
        return wh
    if problem.kind == "busy":
        st.info(
            "The pipeline is publishing a new warehouse snapshot right now. Reload this page in a moment.",
            icon=":material/hourglass_top:",
        )
    else:
        st.warning(
            _MESSAGES[problem.kind].format(path=wh.path, detail=problem.detail)
            + f"\n\nBuild it from the project root with `{queries.BUILD_COMMAND}`, then reload this page. "
            "To read another file, set `PEERLEND_WAREHOUSE_PATH`.",
            icon=":material/database:",
        )
    return None


def require_warehouse() -> queries.Warehouse:
    """The warehouse to read; when it cannot be read, explain why and how to build it, and stop the page."""
    wh = warehouse()
    if wh is None:
        st.stop()
        raise AssertionError("unreachable: st.stop() ends the script run")
    return wh


def freshness(wh: queries.Warehouse) -> None:
    """Say how old the warehouse figures below are, next to the live ones from the API."""
    as_of = queries.as_of(wh)
    when = f"as of {day(as_of)}" if as_of else "from the latest warehouse snapshot"
    st.caption(
        f"Figures from the warehouse, {when}. The pipeline refreshes it within a minute or two of any change; "
        "balances at the top of the page are live."
    )


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


def show_api_error(error: ApiError) -> None:
    """The API's own sentence, never a traceback. An ended session signs this browser session out."""
    if session.ended(error):
        st.rerun()  # the navigation now shows the sign-in page, with the reason as its notice
    icon = ":material/cloud_off:" if error.code in ("api_unreachable", "api_timeout") else ":material/error:"
    st.error(error.detail, icon=icon)


def call(action: Callable[[], T], *, stop: bool = False) -> T | None:
    """Run one API call; on failure show the API's message and return ``None`` (or stop the page)."""
    try:
        return action()
    except ApiError as error:
        show_api_error(error)
        if stop:
            st.stop()
        return None


@contextmanager
def api_errors() -> Iterator[None]:
    """``with ui.api_errors(): ...`` shows an ApiError raised inside as the API's message."""
    try:
        yield
    except ApiError as error:
        show_api_error(error)


def operations() -> api_client.Operations:
    return api_client.operations()


def coming_soon(what: str, endpoint: str) -> None:
    """A clear placeholder where the API has no endpoint yet; lights up by itself once it has."""
    st.info(
        f"**Coming soon: {what}.** The API does not offer `{endpoint}` yet; this section turns on as soon as it does.",
        icon=":material/construction:",
    )


def empty(message: str, icon: str = ":material/info:") -> None:
    """An empty state that says what to do next."""
    st.info(message, icon=icon)


def unverified_banner(principal: session.Principal) -> None:
    """Money-moving actions need a verified email address: say so, with the way out."""
    if principal.email_verified:
        return
    with st.container(border=True):
        st.warning(
            f"Confirm your email address ({principal.email}) to apply, invest or pay: open the link we emailed you.",
            icon=":material/mark_email_unread:",
        )
        left, right = st.columns(2)
        if left.button("Email me a new link", key="resend_verification"):
            detail = call(lambda: session.api().resend_verification())
            if detail:
                st.success(detail)
        if right.button("I have verified it", key="reload_principal"):
            call(session.refresh_principal)
            st.rerun()


def table_config(**columns: Any) -> dict[str, Any]:
    """Column configs for st.dataframe: money and numbers right-aligned as text (already formatted)."""
    right = st.column_config.TextColumn(alignment="right")
    return {name: (right if spec == "right" else spec) for name, spec in columns.items()}


def month_range(months: Sequence[Any], key: str, default_months: int = 12) -> tuple[Any, Any]:
    """A month range picker over the months the warehouse has, defaulting to the last ``default_months``."""
    options = sorted(set(months))
    if not options:
        return None, None
    if len(options) == 1:
        return options[0], options[0]
    first = options[max(0, len(options) - default_months)]
    start, end = st.select_slider(
        "Months",
        options=options,
        value=(first, options[-1]),
        format_func=lambda m: m.strftime("%b %Y"),
        key=key,
    )
    return start, end


def grade_filter(key: str) -> tuple[str, ...]:
    return tuple(st.multiselect("Grades", list("ABCDEFG"), key=key, placeholder="All grades"))
