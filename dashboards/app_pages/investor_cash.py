"""Deposit and withdraw cash (each with an idempotency key: a double click moves money once), and statements."""

import datetime as dt

import streamlit as st

from dashboards import queries, session, ui
from dashboards.api_client import ApiError
from dashboards.formatting import MoneyInputError, cents, day, money, parse_money

principal = session.require("investor")
scope = session.investor_scope()
st.title("Cash and statements")
ui.unverified_banner(principal)
api = session.api()
portfolio = ui.call(lambda: api.portfolio(), stop=True)
assert portfolio is not None
ui.kpis(
    [
        ui.Kpi("Cash", money(portfolio.get("cash")), "Available to invest or withdraw."),
        ui.Kpi(
            "Pending",
            money(portfolio.get("cash_pending", "0.00")),
            "Deposits and loan payments the payment processor has not settled yet (about two business days): "
            "not investable until then.",
        ),
        ui.Kpi("Committed", money(portfolio.get("committed")), "Pledged to listings; comes back if they end unfunded."),
        ui.Kpi("Account value", money(portfolio.get("portfolio_value"))),
    ]
)

left, right = st.columns(2)
for column, direction, verb in ((left, "deposit", "Deposit"), (right, "withdrawal", "Withdraw")):
    form = f"cash_{direction}"
    with column.container(border=True):
        st.subheader(verb)
        receipt = session.last_result(form)
        if receipt is not None:
            pending = receipt.get("status") == "pending" and direction == "deposit"
            st.success(
                f"{verb} of {money(receipt['amount'])} requested (reference {receipt['processor_reference']}). "
                + (
                    "It is pending until the payment processor settles it; then it is available to invest. "
                    if pending
                    else ""
                )
                + f"Available cash now {money(receipt['cash_balance'])}.",
                icon=":material/check_circle:",
            )
            if st.button(f"New {direction}", key=f"again_{direction}"):
                session.new_submission(form)
                st.rerun()
            continue
        with st.form(form):
            amount_text = st.text_input("Amount ($)", key=f"{direction}_amount", placeholder="1,000.00")
            submitted = st.form_submit_button(verb, type="primary")
        if submitted:
            try:
                amount = parse_money(amount_text)
                move = api.deposit if direction == "deposit" else api.withdraw
                session.submit_once(form, {"amount": amount}, lambda key, m=move, a=amount: m(a, key))
            except MoneyInputError as error:
                st.error(str(error))
            except ApiError as error:
                ui.show_api_error(error)
            else:
                st.rerun()

st.subheader("Statements")
today = dt.date.today()
months = [(today.replace(day=1) - dt.timedelta(days=31 * i)).replace(day=1) for i in range(0, 13)]
month = st.selectbox("Month", months, format_func=lambda m: m.strftime("%B %Y"), key="statement_month")
if ui.operations().has("GET", "/investors/me/statements/{month}"):
    statement = ui.call(lambda: api.statement(month.strftime("%Y-%m")))
    if statement is not None:
        content, content_type = statement
        suffix = "pdf" if "pdf" in content_type else ("json" if "json" in content_type else "csv")
        st.download_button(
            f"Download the {month.strftime('%B %Y')} statement",
            content,
            file_name=f"peerlend-statement-{month:%Y-%m}.{suffix}",
            mime=content_type,
            type="primary",
        )
else:
    ui.coming_soon("monthly statements from the API", "GET /investors/me/statements/{YYYY-MM}")
wh = ui.warehouse()
if wh is not None:
    activity = queries.investor_month_activity(wh, scope, month)
    if activity.empty:
        st.caption(f"No activity in {month:%B %Y} in the warehouse.")
    else:
        export = activity.assign(
            day=activity["day"].map(day),
            amount=activity["amount_cents"].map(cents),
            interest=activity["interest_cents"].map(cents),
        )[["day", "activity", "loan_id", "amount", "interest"]]
        st.download_button(
            f"Download {month:%B %Y} activity (CSV, from the warehouse)",
            export.to_csv(index=False).encode(),
            file_name=f"peerlend-activity-{month:%Y-%m}.csv",
            mime="text/csv",
        )
