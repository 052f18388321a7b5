"""An investor's portfolio: value and cash (live from the API), allocation by grade, term and purpose, net
annualised return against the platform's for the same grades, and the notes that are late or charged off."""

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, queries, session, statuses, ui, views
from dashboards.api_client import ApiError
from dashboards.formatting import money, percent, share

principal = session.require("investor")
scope = session.investor_scope()
st.title("Portfolio")
ui.unverified_banner(principal)
portfolio = ui.call(lambda: session.api().portfolio(), stop=True)
assert portfolio is not None
notes = portfolio.get("notes") or []

# "Invested" counts only notes whose money went to a borrower: not money still committed to a listing, and not
# notes refunded when their listing was cancelled or expired (the old page counted both).
invested = views.total([n["amount"] for n in notes if statuses.is_invested(n["loan_status"])])
refunded = [n for n in notes if statuses.phase(n["loan_status"]) == "refunded"]
extra = dict(portfolio)
ui.kpis(
    [
        ui.Kpi("Account value", money(portfolio.get("portfolio_value")), "Cash + committed + outstanding principal."),
        ui.Kpi("Cash", money(portfolio.get("cash")), "Available to invest or withdraw."),
        ui.Kpi("Committed", money(portfolio.get("committed")), "Pledged to listings still raising funds."),
        ui.Kpi(
            "Outstanding principal",
            money(portfolio.get("outstanding_principal")),
            "Lent out through your notes and not yet repaid.",
        ),
        ui.Kpi(
            "Invested in issued loans",
            money(invested),
            "Notes in loans paid out to borrowers. Excludes money committed to listings and notes refunded "
            "from listings that were cancelled or expired.",
            f"{len(refunded)} refunded note(s) not counted" if refunded else None,
        ),
        ui.Kpi(
            "Interest received",
            money(portfolio.get("interest_received")),
            note=f"principal received {money(portfolio.get('principal_received'))}",
        ),
    ]
)
if extra.get("nar") is not None or extra.get("xirr") is not None:
    st.caption(
        f"Net annualised return {share(extra.get('nar'), 2)} · XIRR {share(extra.get('xirr'), 2)} (from the API)."
    )
if not notes:
    ui.empty("You have no notes yet. Deposit cash, then browse the listings and invest from $25 a note.")
    left, right = st.columns(2)
    left.page_link("app_pages/investor_cash.py", label="Deposit cash", icon=":material/account_balance_wallet:")
    right.page_link("app_pages/investor_browse.py", label="Browse loans", icon=":material/storefront:")

commitments = [n for n in notes if views.is_open_commitment(n)]
if commitments:
    st.subheader("Commitments to listings")
    st.caption(
        "Money pledged to listings still raising funds. You can take a commitment back until the loan is "
        "funded; the cash returns to your available cash at once."
    )
    api = session.api()
    for note in commitments:
        form = f"cancel_commitment_{note['investment_id']}"
        with st.container(border=True):
            left, middle, right = st.columns([3, 2, 2], vertical_alignment="center")
            left.markdown(
                f"**Note #{note['investment_id']}** in loan #{note['loan_id']} · grade {note['grade']} at "
                f"{percent(note['interest_rate'])}"
            )
            middle.markdown(f"Committed **{money(note['amount'])}**")
            receipt = session.last_result(form)
            if receipt is not None:
                right.success(f"Cancelled: {money(receipt['amount'])} back in cash", icon=":material/undo:")
            elif right.button("Cancel commitment", key=form):
                try:
                    session.submit_once(
                        form,
                        {"investment_id": note["investment_id"]},
                        lambda key, i=note["investment_id"]: api.cancel_commitment(i, key),
                    )
                except ApiError as error:
                    ui.show_api_error(error)
                else:
                    st.rerun()

troubled = [n for n in notes if statuses.phase(n["loan_status"]) in ("late", "charged_off")]
st.subheader("Late and charged-off notes")
if troubled:
    st.dataframe(
        pd.DataFrame(
            {
                "Note": [f"#{n['investment_id']}" for n in troubled],
                "Loan": [f"#{n['loan_id']}" for n in troubled],
                "Status": [statuses.label(n["loan_status"]) for n in troubled],
                "Grade": [n["grade"] for n in troubled],
                "Rate": [percent(n["interest_rate"]) for n in troubled],
                "Invested": [money(n["amount"]) for n in troubled],
                "Outstanding": [money(n["outstanding_principal"]) for n in troubled],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config=ui.table_config(Rate="right", Invested="right", Outstanding="right"),
    )
elif notes:
    st.caption("None: every loan you hold is being repaid on schedule or is closed.")

wh = ui.warehouse()
if wh is None:
    st.stop()
ui.freshness(wh)
st.subheader("Allocation")
st.caption("Outstanding principal of your notes in loans being repaid.")
columns = st.columns(3)
for column, (by, title) in zip(
    columns, [("grade", "Grade"), ("term", "Term (months)"), ("purpose", "Purpose")], strict=True
):
    rows = queries.investor_allocation(wh, scope, by)
    with column:
        st.markdown(f"**By {title.split(' ')[0].lower()}**")
        if rows.empty:
            ui.empty("No outstanding principal yet.")
        else:
            st.altair_chart(charts.allocation(rows, title), width="stretch")

st.subheader("Return against the platform")
nar = queries.investor_nar_vs_platform(wh, scope)
own, grades = nar["investor"], nar["grades"]
if own is None or grades.empty:
    ui.empty("Your net annualised return appears once a loan you hold has been paid out and repaid at least once.")
else:
    weights = [
        (Decimal(str(w)), r) for w, r in zip(grades["weight"], grades["monthly_return"], strict=True) if r is not None
    ]
    benchmark_monthly = sum((w * Decimal(str(r)) for w, r in weights), Decimal(0))
    benchmark = (1 + benchmark_monthly) ** 12 - 1 if weights else None
    left, right = st.columns([1, 2])
    with left:
        ui.kpis(
            [
                ui.Kpi(
                    "Your net annualised return",
                    # one figure everywhere: the API's (live, and the formula of docs/servicing.md); the
                    # warehouse's own copy of it is only the fallback for an API that does not send one
                    share(extra["nar"] if extra.get("nar") is not None else own["net_annualized_return"], 2),
                    "LendingClub's NAR: (interest + late fees + recoveries - servicing fees - charged-off "
                    "principal) over principal outstanding, per month since each loan was paid out, annualised.",
                    f"net return {money(own['net_return'])} (warehouse)",
                ),
                ui.Kpi(
                    "Platform, same grades",
                    share(benchmark, 2),
                    "The platform's NAR per grade, weighted by how much you hold in each grade.",
                ),
            ],
            per_row=1,
        )
    with right:
        st.altair_chart(charts.nar_by_grade(grades), width="stretch")
