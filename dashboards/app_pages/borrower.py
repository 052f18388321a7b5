"""Borrower page: one borrower's loans and the amortization of a chosen loan.

Until authentication lands the borrower is picked from a list; every query already takes ``borrower_id`` as a
bound parameter, so the auth layer only has to replace the selectbox with the caller's id.
"""

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, queries, ui
from dashboards.formatting import day, money, percent

RIGHT = st.column_config.TextColumn(alignment="right")

st.title("Borrower")
wh = ui.require_warehouse()

people = queries.borrowers(wh)
if people.empty:
    st.info("No borrower has a loan in the warehouse yet.")
    st.stop()
names = dict(zip(people["borrower_id"].astype(int), people["borrower_username"], strict=True))
borrower_id = st.selectbox("Borrower", list(names), format_func=lambda b: f"{names[b]} (#{b})", key="borrower_id")

loans = queries.borrower_loans(wh, borrower_id)
disbursed = loans[loans["disbursed_at"].notna()]
due = loans.dropna(subset=["next_due_date"])
next_payment = ui.Kpi("Next payment", "—", "The earliest installment due.", "nothing due")
if not due.empty:
    first = due["next_due_date"].min()
    amount = sum(due.loc[due["next_due_date"] == first, "monthly_payment"], Decimal(0))
    next_payment = next_payment._replace(value=money(amount), note=f"due {day(first)}")
ui.kpis(
    [
        ui.Kpi("Loans", str(len(loans)), note=f"{len(disbursed)} disbursed"),
        ui.Kpi("Borrowed", money(sum(disbursed["amount"], Decimal(0))), "Principal of the disbursed loans."),
        ui.Kpi("Outstanding principal", money(sum(loans["outstanding_principal"], Decimal(0)))),
        next_payment,
    ],
    per_row=4,
)

st.subheader("Loans")
table = pd.DataFrame(
    {
        "Loan": loans["loan_id"].map(lambda i: f"#{i}"),
        "Purpose": loans["purpose"],
        "Grade": loans["grade"],
        "Rate": loans["interest_rate"].map(percent),
        "Term": loans["term_months"].map(lambda m: f"{m} mo"),
        "Status": loans["status"],
        "Amount": loans["amount"].map(money),
        "Funded": loans["funded_amount"].map(money),
        "Outstanding": loans["outstanding_principal"].map(money),
        "Monthly payment": loans["monthly_payment"].map(money),
        "Payments": [f"{p} / {t}" for p, t in zip(loans["payments_count"], loans["term_months"], strict=True)],
        "Next due": loans["next_due_date"].map(day),
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config=dict.fromkeys(("Rate", "Term", "Amount", "Funded", "Outstanding", "Monthly payment"), RIGHT),
)

st.subheader("Amortization")
if disbursed.empty:
    st.info("None of these loans has been disbursed yet, so there is no repayment schedule to show.")
    st.stop()
labels = {
    int(r.loan_id): f"#{r.loan_id} · {r.purpose} · {money(r.amount)} · {r.status}" for r in disbursed.itertuples()
}
loan_id = st.selectbox("Loan", list(labels), format_func=labels.get, key=f"loan_for_{borrower_id}")
schedule = queries.loan_schedule(wh, borrower_id, loan_id)
if schedule.empty:
    st.info(f"Loan #{loan_id} has no schedule in the warehouse yet.")
    st.stop()

paid = schedule[schedule["is_paid"]]
ui.kpis(
    [
        ui.Kpi("Installments paid", f"{len(paid)} / {len(schedule)}"),
        ui.Kpi("Principal paid", money(sum(schedule["paid_principal"], Decimal(0)))),
        ui.Kpi("Interest paid", money(sum(schedule["paid_interest"], Decimal(0)))),
        ui.Kpi("Total interest", money(sum(schedule["interest"], Decimal(0))), "Over the whole schedule."),
    ],
    per_row=4,
)
st.altair_chart(charts.amortization(schedule), width="stretch")
with st.expander("Schedule"):
    st.dataframe(
        pd.DataFrame(
            {
                "#": schedule["installment_number"],
                "Due": schedule["due_date"].map(day),
                "Payment": schedule["payment"].map(money),
                "Principal": schedule["principal"].map(money),
                "Interest": schedule["interest"].map(money),
                "Balance after": schedule["balance_after"].map(money),
                "Paid": schedule["is_paid"].map({True: "yes", False: "no"}),
            }
        ),
        hide_index=True,
        width="stretch",
        column_config=dict.fromkeys(("Payment", "Principal", "Interest", "Balance after"), RIGHT),
    )
