"""A borrower's loans, live from the API: status, balance, funding progress, schedule with paid and upcoming
installments, next payment, payoff quote and payment history."""

import datetime as dt
from decimal import Decimal

import streamlit as st

from api.settings import get_settings
from dashboards import charts, session, statuses, ui, views
from dashboards.formatting import day, money

principal = session.require("borrower")
st.title("My loans")
api = session.api()
loans = ui.call(lambda: api.all_loans(), stop=True) or []
if not loans:
    ui.empty("You have no loans yet. Apply for one: it is listed for investors as soon as it is graded.")
    st.page_link("app_pages/borrower_apply.py", label="Apply for a loan", icon=":material/add_card:")
    st.stop()

# Schedules of the loans being repaid: their balances and the next installment due (one call per loan; a
# borrower has a handful).
schedules = {}
for loan in loans:
    if statuses.in_repayment(loan.get("status")) or loan.get("status") == "repaid":
        found = ui.call(lambda i=loan["loan_id"]: api.schedule(i))
        if found is not None:
            schedules[int(loan["loan_id"])] = found
outstanding = {loan_id: s["outstanding_principal"] for loan_id, s in schedules.items()}
upcoming = [
    (dt.date.fromisoformat(nxt["due_date"]), views.owed(nxt), loan_id)
    for loan_id, s in schedules.items()
    if statuses.in_repayment(s["status"]) and (nxt := views.next_installment(s)) is not None
]
upcoming.sort()
raising = [loan for loan in loans if statuses.phase(loan.get("status")) == "committed"]
ui.kpis(
    [
        ui.Kpi("Total balance", money(views.total(list(outstanding.values()))), "Principal you still owe, all loans."),
        ui.Kpi(
            "Next payment, all loans",
            money(upcoming[0][1]) if upcoming else "—",
            "The earliest installment not yet paid.",
            f"due {day(upcoming[0][0])} on loan #{upcoming[0][2]}" if upcoming else "nothing due",
        ),
        ui.Kpi("Loans", str(len(loans)), note=f"{len(raising)} raising funds"),
    ]
)

st.subheader("All loans")
st.dataframe(
    views.loans_table(loans, outstanding),
    hide_index=True,
    width="stretch",
    column_config=ui.table_config(**views.LOAN_TABLE_CONFIG),
)

labels = {
    int(loan["loan_id"]): f"#{loan['loan_id']} · {loan.get('purpose')} · {money(loan.get('amount'))} · "
    f"{statuses.label(loan.get('status'))}"
    for loan in loans
}
loan_id = st.selectbox("Loan", list(labels), format_func=labels.get, key="borrower_loan")
loan = next(loan for loan in loans if int(loan["loan_id"]) == loan_id)
st.subheader(f"Loan #{loan_id}: {statuses.label(loan.get('status'))}")

phase = statuses.phase(loan.get("status"))
if phase == "committed":
    views.funding_progress(loan, get_settings().listing_days)
    if statuses.is_open_for_investment(loan.get("status")):
        with st.expander("Withdraw this listing"):
            st.write("Investors' commitments are returned to them. This cannot be undone.")
            if st.button("Cancel the listing", key=f"cancel_{loan_id}"):
                result = ui.call(
                    lambda: session.submit_once(
                        f"cancel_{loan_id}", {"loan_id": loan_id}, lambda key: api.cancel(loan_id, key)
                    )
                )
                if result is not None:
                    st.success(f"Loan #{loan_id} is cancelled.")
                    st.rerun()

with st.expander("The decision", expanded=phase == "committed"):
    views.decision(loan)

schedule = schedules.get(loan_id)
if schedule is None:
    ui.empty("The repayment schedule starts when the loan is fully funded and paid out to you.")
    st.stop()

nxt = views.next_installment(schedule)
paid = [i for i in schedule["installments"] if i["status"] == "paid"]
ui.kpis(
    [
        ui.Kpi("Balance", money(schedule["outstanding_principal"]), "Principal still owed on this loan."),
        ui.Kpi(
            "Next payment",
            money(views.owed(nxt)) if nxt else "—",
            "What is left to pay on the earliest unpaid installment.",
            f"due {day(nxt['due_date'])}" if nxt else "fully repaid",
        ),
        ui.Kpi("Installments paid", f"{len(paid)} / {len(schedule['installments'])}"),
        ui.Kpi(
            "Interest paid",
            money(views.total([i["paid_interest"] for i in schedule["installments"]])),
            note=f"of {money(views.total([i['interest'] for i in schedule['installments']]))} scheduled",
        ),
    ],
    per_row=4,
)
if nxt is not None:
    st.page_link("app_pages/borrower_pay.py", label="Make a payment", icon=":material/payments:")

st.markdown("**Payoff quote**")
if ui.operations().has("GET", "/loans/{loan_id}/payoff"):
    on = st.date_input("Pay everything off on", dt.date.today(), min_value=dt.date.today(), key=f"payoff_{loan_id}")
    quote = ui.call(lambda: api.payoff(loan_id, on.isoformat()))
    if quote:
        total = quote.get("total") or quote.get("payoff_amount") or quote.get("amount")
        st.metric("To repay in full", money(total), help="Principal, interest accrued to that day and any fees due.")
        parts = {k: v for k, v in quote.items() if k not in ("loan_id", "total", "payoff_amount", "amount")}
        if parts:
            st.caption(" · ".join(f"{k.replace('_', ' ')}: {views.text(v)}" for k, v in parts.items()))
else:
    st.caption(
        f"Until payoff quotes arrive (coming soon: `GET /loans/{{id}}/payoff`), the principal to repay today is "
        f"{money(schedule['outstanding_principal'])}, plus interest accrued since the last due date."
    )

st.markdown("**Schedule**")
st.altair_chart(charts.amortization(views.schedule_frame(schedule)), width="stretch")
st.dataframe(
    views.schedule_table(schedule),
    hide_index=True,
    width="stretch",
    column_config=ui.table_config(**views.SCHEDULE_TABLE_CONFIG),
)

st.markdown("**Payments made**")
payments = ui.call(lambda: api.payments(loan_id)) or []
if payments:
    fees = views.total([p.get("fees") for p in payments])
    st.dataframe(
        views.payments_table(payments),
        hide_index=True,
        width="stretch",
        column_config=ui.table_config(**views.PAYMENTS_TABLE_CONFIG),
    )
    if fees > Decimal(0):
        st.caption(f"Late fees paid on this loan: {money(fees)}.")
else:
    ui.empty("No payments yet. The first installment is due a month after the loan was paid out.")
