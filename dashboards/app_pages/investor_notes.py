"""An investor's notes with filters, and their cash flows: received each month and projected from the schedules."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import charts, queries, session, statuses, ui
from dashboards.formatting import cents, day, money, percent

session.require("investor")
scope = session.investor_scope()
st.title("Notes and cash flows")
wh = ui.require_warehouse()
ui.freshness(wh)

with st.container(border=True):
    left, middle, right = st.columns([2, 3, 3])
    grades = left.multiselect("Grade", list("ABCDEFG"), key="notes_grades", placeholder="All grades")
    phases = middle.multiselect(
        "Status",
        list(statuses.PHASE_LABELS),
        format_func=statuses.PHASE_LABELS.get,
        key="notes_phases",
        placeholder="Every status",
    )
    today = dt.date.today()
    period = right.date_input(
        "Bought between", (today - dt.timedelta(days=3 * 365), today), max_value=today, key="notes_period"
    )
start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (None, None)
notes = queries.investor_notes(wh, scope, tuple(grades), tuple(phases), start, end)

st.subheader(f"Notes ({len(notes):,})")
if notes.empty:
    ui.empty("No note matches these filters. Clear them, or buy notes on the Browse loans page.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "Note": notes["investment_id"].map(lambda i: f"#{i}"),
                "Loan": notes["loan_id"].map(lambda i: f"#{i}"),
                "Grade": notes["grade"],
                "Rate": notes["interest_rate"].map(percent),
                "Term": notes["term_months"].map(lambda m: f"{int(m)} mo" if m == m and m is not None else "—"),
                "Purpose": notes["purpose"],
                "Status": notes["loan_status"].map(statuses.label),
                "Invested": notes["amount"].map(money),
                "Principal received": notes["principal_received"].map(money),
                "Interest received": notes["interest_received"].map(money),
                "Outstanding": notes["outstanding_principal"].map(money),
                "Bought on": notes["invested_at"].map(day),
            }
        ),
        hide_index=True,
        width="stretch",
        column_config=ui.table_config(
            **dict.fromkeys(
                ("Rate", "Term", "Invested", "Principal received", "Interest received", "Outstanding"), "right"
            )
        ),
    )
    sums = {c: cents(int(notes[f"{c}_cents"].sum())) for c in ("amount", "principal_received", "interest_received")}
    left = cents(int(notes["outstanding_principal_cents"].sum()))
    st.caption(
        f"Invested {sums['amount']} · received {sums['principal_received']} principal and "
        f"{sums['interest_received']} interest · outstanding {left}"
    )

st.subheader("Cash flows")
flows = queries.investor_cash_flows(wh, scope)
if flows.empty:
    ui.empty("No cash flows yet: they start with the first repayment of a loan you hold.")
else:
    st.altair_chart(charts.cash_flows(flows), width="stretch")
    received = flows[flows["kind"] == "received"]
    projected = flows[flows["kind"] == "projected"]
    st.caption(
        f"Received so far: {cents(int(received['principal_cents'].sum()))} principal and "
        f"{cents(int(received['interest_cents'].sum()))} interest. Projected if every borrower pays on schedule: "
        f"{cents(int(projected['principal_cents'].sum()))} principal and "
        f"{cents(int(projected['interest_cents'].sum()))} interest."
    )
