"""Platform page: totals, trends over time and the loan book by status and grade."""

import streamlit as st

from dashboards import charts, queries, ui
from dashboards.formatting import day, money

st.title("Platform")
wh = ui.require_warehouse()

summary = queries.platform_summary(wh)
if summary is None:
    st.info("The platform KPI mart has no days yet.")
    st.stop()
st.caption(f"Activity from {day(summary['first_date'])} to {day(summary['last_date'])}")
last_day = day(summary["last_date"])
ui.kpis(
    [
        ui.Kpi("Originations", money(summary["originations"]), note=f"{summary['loans_funded']:,} loans funded"),
        ui.Kpi("Repayments", money(summary["repayments"]), "Paid by borrowers over the whole period."),
        ui.Kpi("Interest paid", money(summary["interest_paid"])),
        ui.Kpi("Outstanding principal", money(summary["outstanding_principal"]), note=f"on {last_day}"),
        ui.Kpi("Active investors", f"{int(summary['active_investors']):,}", note=f"on {last_day}"),
        ui.Kpi("Loans", f"{int(summary['loans_count']):,}", note=f"{summary['loans_disbursed']:,} disbursed"),
    ]
)

grain = (
    st.segmented_control("Period", queries.GRAINS, default="week", format_func=str.capitalize, key="grain") or "week"
)
trend = queries.platform_trend(wh, grain)
left, right = st.columns(2)
with left:
    st.subheader("Originations and repayments")
    st.altair_chart(charts.flows(trend), width="stretch")
with right:
    st.subheader("Outstanding principal")
    st.altair_chart(charts.outstanding(trend), width="stretch")

st.subheader("Loans by status and grade")
st.altair_chart(charts.loans_by_status(queries.loans_by_status_grade(wh)), width="stretch")
