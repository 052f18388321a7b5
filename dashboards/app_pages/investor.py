"""Investor page: one investor's KPIs, allocation by grade and notes.

Until authentication lands the investor is picked from a list; every query takes ``investor_id`` as a bound
parameter, so the auth layer only has to replace the selectbox with the caller's investor id.
"""

import pandas as pd
import streamlit as st

from dashboards import charts, queries, ui
from dashboards.formatting import day, money, percent

RIGHT = st.column_config.TextColumn(alignment="right")

st.title("Investor")
wh = ui.require_warehouse()

people = queries.investors(wh)
if people.empty:
    st.info("No investor in the warehouse yet.")
    st.stop()
names = dict(zip(people["investor_id"].astype(int), people["username"], strict=True))
investor_id = st.selectbox("Investor", list(names), format_func=lambda i: f"{names[i]} (#{i})", key="investor_id")

portfolio = queries.investor_portfolio(wh, investor_id)
if portfolio is None:
    st.info("This investor has no portfolio row in the warehouse yet.")
    st.stop()
ui.kpis(
    [
        ui.Kpi("Portfolio value", money(portfolio["portfolio_value"]), "Cash + committed + outstanding principal."),
        ui.Kpi("Cash", money(portfolio["cash"]), "Available to invest or withdraw."),
        ui.Kpi("Committed", money(portfolio["committed"]), "Pledged to loans that are still being funded."),
        ui.Kpi(
            "Outstanding principal",
            money(portfolio["outstanding_principal"]),
            note=f"{portfolio['notes_count']} notes in {portfolio['loans_count']} loans",
        ),
        ui.Kpi("Principal received", money(portfolio["principal_received"])),
        ui.Kpi(
            "Interest received",
            money(portfolio["interest_received"]),
            note=f"on {money(portfolio['total_invested'])} invested",
        ),
    ]
)

allocation = queries.investor_allocation(wh, investor_id)
notes = queries.investor_notes(wh, investor_id)
st.subheader("Allocation by grade")
if allocation.empty:
    st.info("No notes yet.")
else:
    st.altair_chart(charts.allocation_by_grade(allocation), width="stretch")
st.subheader("Notes")
st.dataframe(
    pd.DataFrame(
        {
            "Note": notes["investment_id"].map(lambda i: f"#{i}"),
            "Loan": notes["loan_id"].map(lambda i: f"#{i}"),
            "Grade": notes["grade"],
            "Rate": notes["interest_rate"].map(percent),
            "Loan status": notes["loan_status"],
            "Invested": notes["amount"].map(money),
            "Principal received": notes["principal_received"].map(money),
            "Interest received": notes["interest_received"].map(money),
            "Outstanding": notes["outstanding_principal"].map(money),
            "Invested on": notes["invested_at"].map(day),
        }
    ),
    hide_index=True,
    width="stretch",
    column_config=dict.fromkeys(("Rate", "Invested", "Principal received", "Interest received", "Outstanding"), RIGHT),
)
