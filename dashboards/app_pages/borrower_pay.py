"""Pay an installment (``POST /payments/make`` with an idempotency key: a double click pays once)."""

import streamlit as st

from dashboards import session, statuses, ui, views
from dashboards.api_client import ApiError
from dashboards.formatting import MoneyInputError, day, money, parse_money

principal = session.require("borrower")
st.title("Make a payment")
ui.unverified_banner(principal)
api = session.api()
loans = [
    loan for loan in (ui.call(lambda: api.all_loans(), stop=True) or []) if statuses.in_repayment(loan.get("status"))
]
if not loans:
    ui.empty("Nothing to pay: none of your loans is being repaid. A loan starts repayment once it is funded.")
    st.page_link("app_pages/borrower_loans.py", label="See my loans", icon=":material/request_quote:")
    st.stop()

labels = {
    int(loan["loan_id"]): f"#{loan['loan_id']} · {loan.get('purpose')} · {money(loan.get('amount'))}" for loan in loans
}
loan_id = st.selectbox("Loan", list(labels), format_func=labels.get, key="pay_loan")
schedule = ui.call(lambda: api.schedule(loan_id), stop=True)
assert schedule is not None
nxt = views.next_installment(schedule)
due = views.owed(nxt) if nxt else None
ui.kpis(
    [
        ui.Kpi(
            "Due now",
            money(due) if due is not None else "—",
            "What is left to pay on the earliest unpaid installment.",
            f"installment {nxt['number']}, due {day(nxt['due_date'])}" if nxt else None,
        ),
        ui.Kpi("Balance", money(schedule["outstanding_principal"]), "Principal still owed."),
        ui.Kpi("Status", statuses.label(schedule["status"])),
    ]
)

FORM = f"pay_{loan_id}"
receipt = session.last_result(FORM)
if receipt is None:
    with st.form(FORM):
        amount_text = st.text_input(
            "Amount ($)",
            f"{due:.2f}" if due is not None else "",
            key=f"pay_amount_{loan_id}",
            help="Pays the oldest installment first: interest, then principal. More than is due pays principal early.",
        )
        submitted = st.form_submit_button("Pay", type="primary")
    if submitted:
        try:
            body = {"loan_id": loan_id, "amount": parse_money(amount_text)}
            session.submit_once(FORM, body, lambda key: api.pay(loan_id, body["amount"], key))
        except MoneyInputError as error:
            st.error(str(error))
        except ApiError as error:
            ui.show_api_error(error)
        else:
            st.rerun()
else:
    st.success(
        f"Paid {money(receipt['amount'])} on loan #{loan_id} (payment #{receipt['payment_id']}, "
        f"reference {receipt.get('processor_reference')}).",
        icon=":material/check_circle:",
    )
    ui.kpis(
        [
            ui.Kpi("Principal", money(receipt.get("principal"))),
            ui.Kpi("Interest", money(receipt.get("interest"))),
            ui.Kpi("Fees", money(receipt.get("fees"))),
            ui.Kpi("Balance after", money(receipt.get("outstanding_principal"))),
        ],
        per_row=4,
    )
    if st.button("Make another payment", key=f"again_{loan_id}"):
        session.new_submission(FORM)
        st.rerun()

st.subheader("Payment history")
payments = ui.call(lambda: api.payments(loan_id)) or []
if payments:
    st.dataframe(
        views.payments_table(payments),
        hide_index=True,
        width="stretch",
        column_config=ui.table_config(**views.PAYMENTS_TABLE_CONFIG),
    )
else:
    ui.empty("No payments on this loan yet.")
