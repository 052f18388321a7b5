"""Platform overview for staff and analysts: originations and funded volume, fee revenue, investor activity."""

import streamlit as st

from dashboards import charts, queries, session, ui
from dashboards.formatting import cents, month, share

staff = session.staff_scope()
st.title("Platform overview")
wh = ui.require_warehouse()
ui.freshness(wh)
months = queries.platform_months(wh, staff)
if months.empty:
    ui.empty("No platform activity in the warehouse yet. Run the pipeline once loans have been listed.")
    st.stop()
start, end = ui.month_range(list(months["month_date"]), "overview_months")
window = months[(months["month_date"] >= start) & (months["month_date"] <= end)]
last = window.iloc[-1]
period = f"{month(start)} – {month(end)}"
st.caption(f"Monthly figures, {period}. Money in US dollars.")
ui.kpis(
    [
        ui.Kpi(
            "Originations",
            cents(int(window["originations_cents"].sum())),
            "Principal paid out to borrowers.",
            f"{int(window['originations_count'].sum()):,} loans",
        ),
        ui.Kpi(
            "Funded volume",
            cents(int(window["funded_volume_cents"].sum())),
            "Loans that filled in the period.",
            f"{int(window['loans_funded'].sum()):,} funded of {int(window['loans_listed'].sum()):,} listed",
        ),
        ui.Kpi("Fee revenue", cents(int(window["fee_revenue_cents"].sum())), "Fees collected from borrowers."),
        ui.Kpi(
            "Outstanding principal",
            cents(int(last["outstanding_principal_cents"])),
            note=f"end of {month(last['month_date'])}",
        ),
        ui.Kpi(
            "Active investors",
            f"{int(last['active_investors']):,}",
            "Deposited, withdrew, invested or was paid.",
            f"in {month(last['month_date'])}",
        ),
        ui.Kpi(
            "Net loss rate",
            share(last["loss_rate"], 2),
            "Principal charged off less recoveries / principal originated, to date.",
            f"annualised net charge-offs {share(last.get('annualized_net_charge_off_rate'), 2)} in "
            f"{month(last['month_date'])}"
            if "annualized_net_charge_off_rate" in last
            else None,
        ),
    ]
)
left, right = st.columns(2)
with left:
    st.subheader("Originations and funded volume")
    st.altair_chart(
        charts.monthly_money(
            window, {"originations_cents": "Originations", "funded_volume_cents": "Funded volume"}, "$ per month"
        ),
        width="stretch",
    )
with right:
    st.subheader("Loans listed and funded")
    st.altair_chart(
        charts.monthly_count(
            window, {"loans_listed": "Listed", "loans_funded": "Funded", "active_loans": "Active at month end"}, "Loans"
        ),
        width="stretch",
    )
left, right = st.columns(2)
with left:
    st.subheader("Fee revenue")
    if int(window["fee_revenue_cents"].sum()) == 0:
        ui.empty(
            "No fees collected in this period yet (origination and late fees arrive with the API's pricing and "
            "servicing)."
        )
    else:
        st.altair_chart(charts.monthly_money(window, {"fee_revenue_cents": "Fees"}, "$ per month"), width="stretch")
with right:
    st.subheader("Investor activity")
    st.altair_chart(
        charts.monthly_money(window, {"deposits_cents": "Deposits", "withdrawals_cents": "Withdrawals"}, "$ per month"),
        width="stretch",
    )
    st.altair_chart(
        charts.monthly_count(window, {"active_investors": "Active investors"}, "Investors"), width="stretch"
    )
