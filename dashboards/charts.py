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


MONTH_AXIS = alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True)


def _month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series)


def _ratio(series: pd.Series) -> pd.Series:
    """DECIMAL ratios (Decimal objects, possibly missing) as floats for plotting."""
    return pd.to_numeric(series.map(lambda v: None if v is None else float(v)), errors="coerce")


def allocation(rows: pd.DataFrame, title: str) -> alt.Chart:
    """Outstanding principal per bucket (grade, term or purpose), as horizontal bars with the share in the tooltip."""
    data = pd.DataFrame(
        {
            title: rows["bucket"].astype(str),
            "Outstanding principal": _dollars(rows["outstanding_principal_cents"]),
            "Notes": rows["notes_count"].astype(int),
        }
    )
    total = data["Outstanding principal"].sum() or 1.0
    data["Share"] = data["Outstanding principal"] / total
    is_grade = title == "Grade"
    color = alt.Color(f"{title}:N", scale=GRADE_SCALE, legend=None) if is_grade else alt.value(PRINCIPAL_COLOR)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(f"{title}:N", sort=GRADES if is_grade else None, title=None),
            x=alt.X("Outstanding principal:Q", title="Outstanding principal ($)", axis=alt.Axis(format="$,.0f")),
            color=color,
            tooltip=[
                f"{title}:N",
                "Notes:Q",
                alt.Tooltip("Outstanding principal:Q", format=DOLLARS),
                alt.Tooltip("Share:Q", format=".1%"),
            ],
        )
        .properties(height=min(HEIGHT, 40 + 32 * len(data)))
    )


def cash_flows(rows: pd.DataFrame) -> alt.Chart:
    """Principal and interest per month: received (solid) and projected from the schedule (faded)."""
    data = pd.DataFrame(
        {
            "Month": _month(rows["month_date"]),
            "Kind": rows["kind"].map({"received": "Received", "projected": "Projected"}),
            "Principal": _dollars(rows["principal_cents"]),
            "Interest": _dollars(rows["interest_cents"]),
        }
    ).melt(id_vars=["Month", "Kind"], var_name="Part", value_name="Amount")
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(Month):T", title=None, axis=MONTH_AXIS),
            y=alt.Y("sum(Amount):Q", title="$ per month", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "Part:N",
                scale=alt.Scale(domain=["Principal", "Interest"], range=[PRINCIPAL_COLOR, INTEREST_COLOR]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            opacity=alt.Opacity(
                "Kind:N",
                scale=alt.Scale(domain=["Received", "Projected"], range=[1.0, 0.35]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[
                alt.Tooltip("yearmonth(Month):T", title="Month"),
                "Kind:N",
                "Part:N",
                alt.Tooltip("sum(Amount):Q", format=DOLLARS, title="Amount"),
            ],
        )
        .properties(height=HEIGHT)
    )


def nar_by_grade(rows: pd.DataFrame) -> alt.Chart:
    """The platform's net annualised return per grade the investor holds, with the investor's share of each."""
    data = pd.DataFrame(
        {
            "Grade": rows["grade"],
            "Platform NAR": _ratio(rows["platform_nar"]),
            "Your mix": _ratio(rows["weight"]),
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("Grade:N", sort=GRADES, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("Platform NAR:Q", title="Platform net annualised return", axis=alt.Axis(format=".1%")),
            color=alt.Color("Grade:N", scale=GRADE_SCALE, legend=None),
            tooltip=["Grade:N", alt.Tooltip("Platform NAR:Q", format=".2%"), alt.Tooltip("Your mix:Q", format=".1%")],
        )
        .properties(height=HEIGHT)
    )


def monthly_money(rows: pd.DataFrame, series: dict[str, str], title: str, *, stacked: bool = False) -> alt.Chart:
    """Money per month for one or more ``*_cents`` columns (``series`` maps a column to its legend name)."""
    data = pd.DataFrame({"Month": _month(rows["month_date"])})
    for column, name in series.items():
        data[name] = _dollars(rows[column])
    long = data.melt(id_vars="Month", var_name="Series", value_name="Amount")
    palette = [PRINCIPAL_COLOR, INTEREST_COLOR, "#2ca02c", "#9467bd", BALANCE_COLOR]
    chart = alt.Chart(long).encode(
        x=alt.X("yearmonth(Month):T", title=None, axis=MONTH_AXIS),
        y=alt.Y("Amount:Q", title=title, axis=alt.Axis(format="$,.0f"), stack="zero" if stacked else None),
        color=alt.Color(
            "Series:N",
            scale=alt.Scale(domain=list(series.values()), range=palette[: len(series)]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        tooltip=[alt.Tooltip("yearmonth(Month):T", title="Month"), "Series:N", alt.Tooltip("Amount:Q", format=DOLLARS)],
    )
    if stacked:
        return chart.mark_bar().properties(height=HEIGHT)
    return chart.mark_bar().encode(xOffset="Series:N").properties(height=HEIGHT)


def monthly_count(rows: pd.DataFrame, series: dict[str, str], title: str) -> alt.Chart:
    """Counts per month (loans, investors) as lines with points."""
    data = pd.DataFrame({"Month": _month(rows["month_date"])})
    for column, name in series.items():
        data[name] = pd.to_numeric(rows[column])
    long = data.melt(id_vars="Month", var_name="Series", value_name="Count")
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(Month):T", title=None, axis=MONTH_AXIS),
            y=alt.Y("Count:Q", title=title, axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("Series:N", legend=alt.Legend(title=None, orient="top")),
            tooltip=[alt.Tooltip("yearmonth(Month):T", title="Month"), "Series:N", "Count:Q"],
        )
        .properties(height=HEIGHT)
    )


def by_grade_line(rows: pd.DataFrame, x: str, x_title: str, y: str, y_title: str, *, y_format: str) -> alt.Chart:
    """One line per grade (funding time, vintage curves)."""
    is_month = x == "month_date"
    data = pd.DataFrame(
        {
            x_title: _month(rows[x]) if is_month else pd.to_numeric(rows[x]),
            "Grade": rows["grade"],
            y_title: _ratio(rows[y]),
        }
    )
    x_enc = (
        alt.X(f"yearmonth({x_title}):T", title=None, axis=MONTH_AXIS)
        if is_month
        else alt.X(f"{x_title}:Q", title=x_title, axis=alt.Axis(tickMinStep=1))
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x_enc,
            y=alt.Y(f"{y_title}:Q", title=y_title, axis=alt.Axis(format=y_format)),
            color=alt.Color("Grade:N", scale=GRADE_SCALE, legend=alt.Legend(orient="top")),
            tooltip=[
                "Grade:N",
                alt.Tooltip(f"{y_title}:Q", format=y_format),
                x_title if not is_month else alt.Tooltip(f"yearmonth({x_title}):T", title="Month"),
            ],
        )
        .properties(height=HEIGHT)
    )


def states_over_time(rows: pd.DataFrame, order: list[str], labels: dict[str, str]) -> alt.Chart:
    """Outstanding principal by delinquency state at each month's end, stacked."""
    data = pd.DataFrame(
        {
            "Month": _month(rows["month_date"]),
            "State": rows["loan_state"].map(lambda s: labels.get(s, s)),
            "Outstanding principal": _dollars(rows["outstanding_principal_cents"]),
            "Loans": rows["loans_count"].astype(int),
        }
    )
    domain = [labels.get(s, s) for s in order if labels.get(s, s) in set(data["State"])]
    colors = ["#1a9850", "#fee08b", "#fdae61", "#f46d43", "#d73027", "#a50026", "#4d4d4d", "#92c5de"]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(Month):T", title=None, axis=MONTH_AXIS),
            y=alt.Y(
                "Outstanding principal:Q",
                stack="normalize",
                title="Share of outstanding principal",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color(
                "State:N",
                scale=alt.Scale(domain=domain, range=colors[: len(domain)]),
                sort=domain,
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("yearmonth(Month):T", title="Month end"),
                "State:N",
                "Loans:Q",
                alt.Tooltip("Outstanding principal:Q", format=DOLLARS),
            ],
        )
        .transform_calculate(order=f"indexof({domain!r}, datum.State)")
        .properties(height=HEIGHT)
    )


def roll_matrix(rows: pd.DataFrame, order: list[str], labels: dict[str, str]) -> alt.LayerChart:
    """Roll rates as a heat map: from the state at a month's end (rows) to the state a month later (columns)."""
    data = pd.DataFrame(
        {
            "From": rows["from_state"].map(lambda s: labels.get(s, s)),
            "To": rows["to_state"].map(lambda s: labels.get(s, s)),
            "Roll rate": _ratio(rows["roll_rate"]),
            "Loans": rows["loans_count"].astype(int),
        }
    )
    sort = [labels.get(s, s) for s in order]
    base = alt.Chart(data).encode(
        y=alt.Y("From:N", sort=sort, title="State at a month's end"),
        x=alt.X("To:N", sort=sort, title="State one month later", axis=alt.Axis(labelAngle=0)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("Roll rate:Q", scale=alt.Scale(scheme="oranges", domain=[0, 1]), legend=alt.Legend(format="%")),
        tooltip=["From:N", "To:N", "Loans:Q", alt.Tooltip("Roll rate:Q", format=".1%")],
    )
    text = base.mark_text(baseline="middle").encode(text=alt.Text("Roll rate:Q", format=".0%"))
    return alt.layer(cells, text).properties(height=HEIGHT)


def calibration(rows: pd.DataFrame) -> alt.LayerChart:
    """Predicted against realised default rate per grade, with the diagonal of a perfectly calibrated model."""
    data = pd.DataFrame(
        {
            "Grade": rows["grade"],
            "Predicted": _ratio(rows["predicted_with_outcome"]).fillna(_ratio(rows["predicted_default_rate"])),
            "Realised": _ratio(rows["realised_default_rate"]),
            "Loans with an outcome": pd.to_numeric(rows["outcomes_count"]),
        }
    )
    top = max(0.05, float(data[["Predicted", "Realised"]].max().max() or 0) * 1.1)
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0, top], "y": [0, top]}))
        .mark_line(color="#999", strokeDash=[4, 4])
        .encode(x="x:Q", y="y:Q")
    )
    points = (
        alt.Chart(data)
        .mark_circle(size=120)
        .encode(
            x=alt.X(
                "Predicted:Q",
                title="Predicted default rate",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, top]),
            ),
            y=alt.Y(
                "Realised:Q", title="Realised default rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, top])
            ),
            color=alt.Color("Grade:N", scale=GRADE_SCALE),
            tooltip=[
                "Grade:N",
                alt.Tooltip("Predicted:Q", format=".2%"),
                alt.Tooltip("Realised:Q", format=".2%"),
                "Loans with an outcome:Q",
            ],
        )
    )
    return alt.layer(diagonal, points).properties(height=HEIGHT)


def vintage_metric(rows: pd.DataFrame, column: str, title: str, fmt: str) -> alt.Chart:
    """One number per vintage (AUC, drift, mean PD) as a line with points."""
    data = pd.DataFrame({"Vintage": _month(rows["vintage_date"]), title: _ratio(rows[column])}).dropna()
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(Vintage):T", title="Vintage (month paid out)", axis=MONTH_AXIS),
            y=alt.Y(f"{title}:Q", title=title, axis=alt.Axis(format=fmt)),
            tooltip=[alt.Tooltip("yearmonth(Vintage):T", title="Vintage"), alt.Tooltip(f"{title}:Q", format=fmt)],
        )
        .properties(height=HEIGHT)
    )


def input_psi(rows: pd.DataFrame, watch: float, drift: float) -> alt.LayerChart:
    """PSI per model input against the training population, with the watch and drift thresholds as rules."""
    data = pd.DataFrame({"Input": rows["input"], "PSI": rows["psi"].astype(float), "Status": rows["status"]})
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("Input:N", sort="-x", title=None),
            x=alt.X("PSI:Q", title="Population stability index vs training"),
            color=alt.Color(
                "Status:N",
                scale=alt.Scale(domain=["stable", "watch", "drift"], range=["#4c9a2a", "#e0a100", "#c0392b"]),
            ),
            tooltip=["Input:N", alt.Tooltip("PSI:Q", format=".3f"), "Status:N"],
        )
    )
    thresholds = pd.DataFrame({"PSI": [watch, drift], "Threshold": ["watch", "drift"]})
    rules = alt.Chart(thresholds).mark_rule(strokeDash=[4, 4]).encode(x="PSI:Q", tooltip=["Threshold:N", "PSI:Q"])
    return (bars + rules).properties(height=HEIGHT)
