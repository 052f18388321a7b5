"""Altair chart specs for the pages. Pure functions of query results, so tests can build them without a page.

Floats appear here and only here: chart data is built from the exact ``*_cents`` integers divided by 100, for
plotting; every number printed as text on a page comes from ``dashboards.formatting``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

GRADES = list("ABCDEFG")
# One colour per grade on every page (green = safest, red = riskiest).
GRADE_COLORS = ["#1a9850", "#66bd63", "#a6d96a", "#fee08b", "#fdae61", "#f46d43", "#d73027"]
GRADE_SCALE = alt.Scale(domain=GRADES, range=GRADE_COLORS)
PRINCIPAL_COLOR, INTEREST_COLOR, BALANCE_COLOR = "#1f77b4", "#ff7f0e", "#444444"
DOLLARS = "$,.2f"
HEIGHT = 300


def _dollars(cents: pd.Series) -> pd.Series:
    """Cents → float dollars, for plotting only."""
    return cents.astype("int64") / 100


def amortization(schedule: pd.DataFrame) -> alt.LayerChart:
    """Each installment's payment split into principal and interest (faded while unpaid), with the balance left
    after it as a dashed line on its own axis."""
    base = pd.DataFrame(
        {
            "Installment": schedule["installment_number"].astype(int),
            "Due date": pd.to_datetime(schedule["due_date"]).dt.strftime("%Y-%m-%d"),
            "Principal": _dollars(schedule["principal_cents"]),
            "Interest": _dollars(schedule["interest_cents"]),
            "Balance after": _dollars(schedule["balance_after_cents"]),
            "State": schedule["is_paid"].map({True: "Paid", False: "Unpaid"}),
        }
    )
    parts = base.melt(
        id_vars=["Installment", "Due date", "State"],
        value_vars=["Principal", "Interest"],
        var_name="Series",
        value_name="Amount",
    )
    x = alt.X("Installment:O", title="Installment", axis=alt.Axis(labelAngle=0))
    color = alt.Color(
        "Series:N",
        scale=alt.Scale(
            domain=["Principal", "Interest", "Balance after"], range=[PRINCIPAL_COLOR, INTEREST_COLOR, BALANCE_COLOR]
        ),
        legend=alt.Legend(title=None, orient="top"),
    )
    bars = (
        alt.Chart(parts)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("Amount:Q", stack="zero", title="Payment ($)", axis=alt.Axis(format="$,.0f")),
            color=color,
            opacity=alt.Opacity(
                "State:N",
                scale=alt.Scale(domain=["Paid", "Unpaid"], range=[1.0, 0.3]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("Series:N", sort="descending"),  # principal at the bottom
            tooltip=["Installment:O", "Due date:N", "State:N", "Series:N", alt.Tooltip("Amount:Q", format=DOLLARS)],
        )
    )
    balance = (
        alt.Chart(base)
        .transform_calculate(Series="'Balance after'")
        .mark_line(point=alt.OverlayMarkDef(color=BALANCE_COLOR), strokeDash=[4, 2])
        .encode(
            x=x,
            y=alt.Y("Balance after:Q", title="Balance after ($)", axis=alt.Axis(format="$,.0f")),
            color=color,
            tooltip=["Installment:O", "Due date:N", "State:N", alt.Tooltip("Balance after:Q", format=DOLLARS)],
        )
    )
    return alt.layer(bars, balance).resolve_scale(y="independent").properties(height=HEIGHT)


def allocation_by_grade(allocation: pd.DataFrame) -> alt.LayerChart:
    """Per grade: amount invested (light bar) and the part of it still outstanding (solid bar)."""
    data = pd.DataFrame(
        {
            "Grade": allocation["grade"],
            "Outstanding principal": _dollars(allocation["outstanding_principal_cents"]),
            "Invested": _dollars(allocation["amount_cents"]),
            "Notes": allocation["notes_count"].astype(int),
        }
    )
    tooltip = [
        "Grade:N",
        "Notes:Q",
        alt.Tooltip("Invested:Q", format=DOLLARS),
        alt.Tooltip("Outstanding principal:Q", format=DOLLARS),
    ]
    y = alt.Y("Grade:N", sort=GRADES, title="Grade")
    base = alt.Chart(data).encode(y=y, color=alt.Color("Grade:N", scale=GRADE_SCALE, legend=None), tooltip=tooltip)
    invested = base.mark_bar(opacity=0.3).encode(
        x=alt.X(
            "Invested:Q",
            title="Outstanding principal (solid bar) of the amount invested (light bar), $",
            axis=alt.Axis(format="$,.0f"),
        )
    )
    outstanding_ = base.mark_bar(height={"band": 0.5}).encode(x="Outstanding principal:Q")
    return alt.layer(invested, outstanding_).properties(height=min(HEIGHT, 60 + 50 * len(data)))


def flows(trend: pd.DataFrame) -> alt.Chart:
    """Originations and repayments per period, as bars side by side."""
    data = pd.DataFrame(
        {
            "Period": pd.to_datetime(trend["period"]),
            "Originations": _dollars(trend["originations_cents"]),
            "Repayments": _dollars(trend["repayments_cents"]),
        }
    ).melt(id_vars="Period", var_name="Flow", value_name="Amount")
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "yearmonthdate(Period):O",
                title=None,
                axis=alt.Axis(format="%b %d", labelAngle=0, labelOverlap=True),
            ),
            xOffset="Flow:N",
            y=alt.Y("Amount:Q", title="$ per period", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "Flow:N",
                scale=alt.Scale(domain=["Originations", "Repayments"], range=[PRINCIPAL_COLOR, INTEREST_COLOR]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[
                alt.Tooltip("yearmonthdate(Period):T", title="Period starting"),
                "Flow:N",
                alt.Tooltip("Amount:Q", format=DOLLARS),
            ],
        )
        .properties(height=HEIGHT)
    )


def outstanding(trend: pd.DataFrame) -> alt.Chart:
    """Outstanding principal at the end of each period."""
    data = pd.DataFrame(
        {
            "Period": pd.to_datetime(trend["period"]),
            "Outstanding principal": _dollars(trend["outstanding_principal_cents"]),
        }
    )
    return (
        alt.Chart(data)
        .mark_area(line=True, point=len(data) <= 40, opacity=0.3, color=PRINCIPAL_COLOR)
        .encode(
            x=alt.X("Period:T", title=None),
            y=alt.Y("Outstanding principal:Q", title="Outstanding principal ($)", axis=alt.Axis(format="$,.0f")),
            tooltip=[
                alt.Tooltip("Period:T", title="Period starting"),
                alt.Tooltip("Outstanding principal:Q", format=DOLLARS, title="At the period's end"),
            ],
        )
        .properties(height=HEIGHT)
    )


def loans_by_status(by_status_grade: pd.DataFrame) -> alt.Chart:
    """Loan count per status, stacked by grade."""
    data = pd.DataFrame(
        {
            "Status": by_status_grade["status"],
            "Grade": by_status_grade["grade"],
            "Loans": by_status_grade["loans_count"].astype(int),
            "Amount": _dollars(by_status_grade["amount_cents"]),
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("Status:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(Loans):Q", title="Loans", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("Grade:N", scale=GRADE_SCALE, legend=alt.Legend(title="Grade", orient="top")),
            order=alt.Order("Grade:N"),
            tooltip=["Status:N", "Grade:N", "Loans:Q", alt.Tooltip("Amount:Q", format=DOLLARS)],
        )
        .properties(height=HEIGHT)
    )
