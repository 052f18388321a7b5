"""Apply for a loan (``POST /loans``) and see the decision: grade, rate, fee, APR and the reasons."""

import pandas as pd
import streamlit as st

from dashboards import session, ui, views
from dashboards.api_client import ApiError
from dashboards.formatting import MoneyInputError, parse_money, parse_rate, percent

principal = session.require("borrower")
st.title("Apply for a loan")
ui.unverified_banner(principal)
me = ui.call(lambda: session.api().me(), stop=True)
assert me is not None
profile = me.get("profile") or {}
if not profile.get("complete_for_borrowing"):
    missing = ", ".join(m.replace("_", " ") for m in profile.get("missing_for_borrowing") or [])
    st.warning(
        f"Before you can apply, complete your profile ({missing}).",
        icon=":material/assignment_late:",
    )
    st.page_link("app_pages/account.py", label="Complete your profile", icon=":material/manage_accounts:")

PURPOSES = [
    "debt consolidation",
    "credit card",
    "home improvement",
    "car",
    "medical",
    "small business",
    "moving",
    "wedding",
    "other",
]
FORM = "apply"
ops = ui.operations()
# What the running API's POST /loans takes: the marketplace release adds credit_check_consent (required) and
# prices the loan at the grade's rate when interest_rate is left out; the release before needs a rate.
asks_consent = "credit_check_consent" in ops.loan_fields
rate_required = "interest_rate" in ops.loan_required
partial = "accept_partial_funding" in ops.loan_fields
card = ui.call(lambda: session.api().rate_card()) if ops.has("GET", "/loans/rate-card") else None
if card:
    with st.expander("Rates and fees by grade", expanded=False):
        st.dataframe(
            pd.DataFrame(
                {
                    "Grade": [g.get("grade") for g in card.get("grades", [])],
                    "Rate (the lowest you may offer)": [percent(g.get("base_rate")) for g in card.get("grades", [])],
                    "Origination fee": [percent(g.get("origination_fee_rate")) for g in card.get("grades", [])],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(f"Rate card {card.get('version')}; APR at most {percent(card.get('max_apr'))}.")
done = session.last_result(FORM)
if done is None:
    with st.form(FORM):
        left, right = st.columns(2)
        amount_text = left.text_input(
            "Amount ($)", "5,000", key="apply_amount", help="From $1,000 to $40,000, in multiples of $25."
        )
        rate_text = right.text_input(
            "Interest rate you offer (% a year)",
            "6.00" if rate_required else "",
            key="apply_rate",
            placeholder="Leave empty for your grade's rate",
            help="Investors choose loans by rate and grade. Your grade sets the lowest rate you may offer"
            + ("." if rate_required else "; leave it empty to be offered your grade's rate."),
        )
        term = left.selectbox(
            "Term", [12, 24, 36, 48, 60], index=2, format_func=lambda m: f"{m} months", key="apply_term"
        )
        purpose = right.selectbox("Purpose", PURPOSES, key="apply_purpose", format_func=str.capitalize)
        accept_partial = (
            st.checkbox(
                "Accept a loan funded in part if the listing does not fill",
                value=False,
                key="apply_partial",
            )
            if partial
            else False
        )
        consent = (
            st.checkbox(
                (card or {}).get("consent_text")
                or "I agree that Peerlend checks my credit with a credit bureau to grade this request.",
                value=False,
                key="apply_consent",
            )
            if asks_consent
            else True
        )
        submitted = st.form_submit_button("Apply", type="primary")
    if submitted:
        try:
            body: dict[str, object] = {
                "amount": parse_money(amount_text, step=None),
                "term_months": int(term),
                "purpose": purpose,
            }
            if rate_text.strip() or rate_required:
                body["interest_rate"] = parse_rate(rate_text)
            if asks_consent:
                if not consent:
                    raise MoneyInputError("Tick the credit check consent to apply: the grade needs it.")
                body["credit_check_consent"] = True
            if partial:
                body["accept_partial_funding"] = bool(accept_partial)
            # An application moves no money, so the API takes no idempotency key: the app itself refuses to
            # send the same application twice from one form (a double click shows the first decision).
            session.submit_once(FORM, body, lambda _key: session.api().apply(body))
        except MoneyInputError as error:
            st.error(str(error))
        except ApiError as error:
            ui.show_api_error(error)
        else:
            st.rerun()
    st.stop()

loan = done
st.success(
    f"Loan request #{loan['loan_id']} is listed: investors can now fund it.",
    icon=":material/check_circle:",
)
st.subheader("The decision")
views.decision(loan, views.rate_floor(card, loan.get("grade")))
st.subheader("Funding")
views.funding_progress(loan)
left, right = st.columns(2)
left.page_link("app_pages/borrower_loans.py", label="Follow it in My loans", icon=":material/request_quote:")
if right.button("Start another application"):
    session.new_submission(FORM)
    st.rerun()
