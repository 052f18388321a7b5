"""Browse the listings with the API's filters and sorts, and buy notes (``POST /loans/{id}/investments``)."""

from decimal import Decimal

import pandas as pd
import streamlit as st

from api.settings import get_settings
from dashboards import session, statuses, ui, views
from dashboards.api_client import ApiError
from dashboards.formatting import MoneyInputError, cents_to_decimal, day, money, parse_money, percent, share

principal = session.require("investor")
st.title("Browse loans")
ui.unverified_banner(principal)
api = session.api()
ops = ui.operations()
supported = ops.listing_params
STEP = cents_to_decimal(get_settings().investment_step_cents)

SORTS = {
    "newest": "Newest first",
    "-rate": "Rate, highest first",
    "rate": "Rate, lowest first",
    "grade": "Grade, safest first",
    "-grade": "Grade, riskiest first",
    "-funded_pct": "Most funded first",
    "time_left": "Ending soonest",
    "amount": "Amount, smallest first",
    "-amount": "Amount, largest first",
}


def soon(param: str) -> str | None:
    return None if param in supported else "Coming soon: the API does not filter on this yet."


with st.container(border=True):
    a, b, c, d = st.columns(4)
    min_rate = a.number_input("Lowest rate (%)", 0.0, 36.0, 0.0, 0.25, key="browse_min_rate")
    max_rate = b.number_input("Highest rate (%)", 0.0, 36.0, 36.0, 0.25, key="browse_max_rate")
    grade = c.selectbox(
        "Grade",
        [None, *"ABCDEFG"],
        format_func=lambda g: "Any" if g is None else g,
        key="browse_grade",
        disabled="grade" not in supported,
        help=soon("grade"),
    )
    term = d.selectbox(
        "Term",
        [None, 12, 24, 36, 48, 60],
        format_func=lambda m: "Any" if m is None else f"{m} months",
        key="browse_term",
        disabled="term" not in supported,
        help=soon("term"),
    )
    e, f, g, h = st.columns(4)
    purpose = e.text_input("Purpose", key="browse_purpose", disabled="purpose" not in supported, help=soon("purpose"))
    min_funded = f.slider(
        "At least funded (%)",
        0,
        100,
        0,
        5,
        key="browse_min_funded",
        disabled="min_funded_pct" not in supported,
        help=soon("min_funded_pct"),
    )
    amount_range = g.select_slider(
        "Loan amount ($)",
        options=[1000, 2500, 5000, 10000, 20000, 40000],
        value=(1000, 40000),
        key="browse_amount",
        disabled="min_amount" not in supported,
        help=soon("min_amount"),
    )
    sort = h.selectbox(
        "Sort by",
        list(SORTS),
        format_func=SORTS.get,
        key="browse_sort",
        disabled="sort" not in supported,
        help=soon("sort"),
    )

params: dict[str, object] = {"status": "listed", "limit": 50}
if min_rate > 0:
    params["min_rate"] = f"{Decimal(str(min_rate)):.2f}"
if max_rate < 36:
    params["max_rate"] = f"{Decimal(str(max_rate)):.2f}"
# Only filters the running API understands are sent: FastAPI ignores unknown query parameters, so sending one it
# does not know would show an unfiltered list as if it were filtered.
wanted = {
    "grade": grade,
    "term": term,
    "purpose": purpose.strip() or None,
    "min_funded_pct": f"{min_funded}.00" if min_funded else None,
    "min_amount": f"{amount_range[0]}.00" if amount_range[0] > 1000 else None,
    "max_amount": f"{amount_range[1]}.00" if amount_range[1] < 40000 else None,
    "sort": sort if sort != "newest" else None,
}
params.update({k: v for k, v in wanted.items() if k in supported and v is not None})

# The receipt of the last purchase, shown above the listings: a loan the purchase filled leaves them at once.
RECEIPT = "_browse_receipt"
receipt = st.session_state.get(RECEIPT)
if receipt is not None:
    st.success(
        f"You bought note #{receipt['investment_id']} for {money(receipt['amount'])} in loan #{receipt['loan_id']}.",
        icon=":material/check_circle:",
    )
    if not statuses.is_open_for_investment(receipt["loan_status"]):
        st.success(
            f"Loan #{receipt['loan_id']} is now fully funded ({money(receipt['loan_funded_amount'])}): it is paid "
            "out to the borrower, and everyone involved has been notified.",
            icon=":material/celebration:",
        )
    else:
        st.info(f"Loan #{receipt['loan_id']} is now {money(receipt['loan_funded_amount'])} funded.")
    if st.button("Dismiss", key="browse_dismiss"):
        session.new_submission(receipt["_form"])  # the next purchase, even of the same amount, is a new one
        st.session_state.pop(RECEIPT, None)
        st.rerun()

page = ui.call(lambda: api.loans(params), stop=True)
assert page is not None
listings = [loan for loan in page["items"] if statuses.is_open_for_investment(loan.get("status"))]
if not listings:
    ui.empty(
        "No listing matches these filters right now. Widen the rate range, or come back later: new loans are "
        "listed every day."
    )
    st.stop()

extra_cols = {k: k for k in ("apr", "expected_loss") if k in listings[0]}
table = pd.DataFrame(
    {
        "Loan": [f"#{loan['loan_id']}" for loan in listings],
        "Grade": [loan.get("grade") for loan in listings],
        "Rate": [percent(loan.get("interest_rate")) for loan in listings],
        "Term": [f"{loan.get('term_months')} mo" for loan in listings],
        "Purpose": [loan.get("purpose") for loan in listings],
        "Amount": [money(loan.get("amount")) for loan in listings],
        "Funded": [share(views.funded_share(loan), 0) for loan in listings],
        "Still needed": [money(loan.get("remaining_amount")) for loan in listings],
        "Default risk": [share(loan.get("probability_of_default"), 1) for loan in listings],
        **{
            {"apr": "APR", "expected_loss": "Expected loss"}[name]: [
                percent(dict(loan).get(name)) if name == "apr" else views.text(dict(loan).get(name))
                for loan in listings
            ]
            for name in extra_cols
        },
        **(
            {"Ends": [day(dict(loan).get("listing_expires_at")) for loan in listings]}
            if "listing_expires_at" in listings[0]
            else {}
        ),
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config=ui.table_config(
        **dict.fromkeys(("Rate", "Term", "Amount", "Funded", "Still needed", "Default risk"), "right")
    ),
)
if page.get("next_cursor"):
    st.caption("Showing the first 50 listings; narrow the filters to see others.")

labels = {
    int(loan["loan_id"]): f"#{loan['loan_id']} · grade {loan.get('grade')} · {percent(loan.get('interest_rate'))} · "
    f"{money(loan.get('remaining_amount'))} still needed"
    for loan in listings
}
loan_id = st.selectbox("Invest in", list(labels), format_func=labels.get, key="browse_loan")
loan = next(loan for loan in listings if int(loan["loan_id"]) == loan_id)
with st.expander("About this loan", expanded=True):
    views.decision(loan)
    views.funding_progress(loan, get_settings().listing_days)

FORM = f"invest_{loan_id}"
with st.form(FORM):
    portfolio = ui.call(lambda: api.portfolio())
    cash = portfolio.get("cash") if portfolio else None
    remaining = views.to_decimal(loan.get("remaining_amount")) or Decimal(0)
    suggestion = min(remaining, max(STEP, (views.to_decimal(cash) or Decimal(0)) // STEP * STEP))
    st.write(f"Your cash: **{money(cash)}** · notes are bought in multiples of {money(STEP)}.")
    amount_text = st.text_input("Amount to invest ($)", f"{suggestion:.2f}", key=f"invest_amount_{loan_id}")
    submitted = st.form_submit_button("Invest", type="primary")
if submitted:
    try:
        body = {"loan_id": loan_id, "amount": parse_money(amount_text, minimum=STEP, step=STEP)}
        # the same key for a double click (the API buys one note); a new key for the next purchase
        done, _ = session.submit_once(FORM, body, lambda key: api.invest(loan_id, body["amount"], key))
    except MoneyInputError as error:
        st.error(str(error))
    except ApiError as error:
        ui.show_api_error(error)
    else:
        st.session_state[RECEIPT] = {**done, "_form": FORM}
        st.rerun()
