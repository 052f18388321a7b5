"""Auto-invest rules (``GET/PUT /investors/me/auto-invest``) and the diversified portfolio builder
(``POST /investors/me/portfolio-plans``, then ``.../{plan_id}/place``), when the API offers them."""

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import session, ui
from dashboards.api_client import ApiError
from dashboards.formatting import MoneyInputError, money, parse_money, parse_rate, percent, share

principal = session.require("investor")
st.title("Auto-invest and portfolio plans")
ui.unverified_banner(principal)
api = session.api()
ops = ui.operations()
TERMS = [12, 24, 36, 48, 60]


def _rate(text: str) -> str | None:
    return parse_rate(text) if text.strip() else None


st.subheader("Auto-invest")
if ops.has("GET", "/investors/me/auto-invest") and ops.has("PUT", "/investors/me/auto-invest"):
    st.caption(
        "New listings that match your rules are bought for you, a note at a time, while you have cash above what "
        "you keep aside. Criteria left empty match every loan."
    )
    rules: dict[str, Any] = ui.call(lambda: api.auto_invest()) or {}
    with st.form("auto_invest"):
        enabled = st.toggle("Invest automatically", bool(rules.get("enabled", True)), key="auto_enabled")
        a, b, c = st.columns(3)
        grades = a.multiselect(
            "Grades", list("ABCDEFG"), rules.get("grades") or [], key="auto_grades", placeholder="Every grade"
        )
        terms = b.multiselect(
            "Terms",
            TERMS,
            rules.get("terms") or [],
            format_func=lambda m: f"{m} months",
            key="auto_terms",
            placeholder="Every term",
        )
        purposes = c.text_input(
            "Purposes (comma-separated)", ", ".join(rules.get("purposes") or []), key="auto_purposes"
        )
        d, e, f, g = st.columns(4)
        min_rate = d.text_input("Lowest rate (%)", rules.get("min_rate") or "", key="auto_min_rate")
        max_rate = e.text_input("Highest rate (%)", rules.get("max_rate") or "", key="auto_max_rate")
        per_note = f.text_input("Amount per note ($)", rules.get("amount_per_note") or "25.00", key="auto_amount")
        per_loan = g.text_input("At most per loan ($)", rules.get("max_per_loan") or "100.00", key="auto_per_loan")
        keep = st.text_input("Cash to keep uninvested ($)", rules.get("cash_to_keep") or "0.00", key="auto_keep")
        saved = st.form_submit_button("Save rules", type="primary")
    if saved:
        try:
            body: dict[str, Any] = {
                "enabled": enabled,
                "grades": grades or None,
                "terms": terms or None,
                "purposes": [p.strip() for p in purposes.split(",") if p.strip()] or None,
                "min_rate": _rate(min_rate),
                "max_rate": _rate(max_rate),
                "amount_per_note": parse_money(per_note, minimum=Decimal(25), step=Decimal(25)),
                "max_per_loan": parse_money(per_loan, minimum=Decimal(25), step=Decimal(25)),
                "cash_to_keep": parse_money(keep, minimum=Decimal(0)),
            }
            saved_rules = api.set_auto_invest(body)
        except MoneyInputError as error:
            st.error(str(error))
        except ApiError as error:
            ui.show_api_error(error)
        else:
            st.success(f"Auto-invest rules saved (version {saved_rules.get('version', '—')}).")
            rules = saved_rules
    if rules:
        st.caption(
            ("On" if rules.get("enabled") else "Off")
            + f" · grades {', '.join(rules.get('grades') or []) or 'any'}"
            + f" · rate {percent(rules.get('min_rate'))} to {percent(rules.get('max_rate'))}"
            + f" · {money(rules.get('amount_per_note'))} a note, at most {money(rules.get('max_per_loan'))} a loan"
            + f" · keeping {money(rules.get('cash_to_keep'))}"
        )
    else:
        ui.empty("No auto-invest rules yet: set them above and save.")
else:
    ui.coming_soon(
        "auto-invest rules (invest new cash by grade, rate and amount per note)", "PUT /investors/me/auto-invest"
    )

st.subheader("Diversified portfolio builder")
if ops.has("POST", "/investors/me/portfolio-plans"):
    st.caption(
        "Say how much to invest and how much risk you want: the API proposes notes spread across grades and "
        "loans. Nothing is bought until you place the plan."
    )
    with st.form("plan"):
        left, middle, right = st.columns(3)
        amount_text = left.text_input("Amount to invest ($)", "1,000.00", key="plan_amount")
        risk = middle.selectbox(
            "Risk", ["conservative", "balanced", "aggressive"], index=1, key="plan_risk", format_func=str.capitalize
        )
        min_loans = right.number_input("At least this many loans", 1, 400, 10, key="plan_min_loans")
        asked = st.form_submit_button("Build a plan")
    if asked:
        try:
            body = {"amount": parse_money(amount_text, minimum=Decimal(25)), "risk_preference": risk}
            body["min_loans"] = int(min_loans)
            st.session_state["_plan"] = api.plan_portfolio(body)
        except MoneyInputError as error:
            st.error(str(error))
        except ApiError as error:
            ui.show_api_error(error)
    plan: dict[str, Any] | None = st.session_state.get("_plan")
    if plan:
        ui.kpis(
            [
                ui.Kpi("Plan", f"#{plan.get('plan_id')}", note=str(plan.get("status", "")).capitalize()),
                ui.Kpi("Amount", money(plan.get("amount")), note=f"{plan.get('loans', '—')} loans"),
                ui.Kpi("Expected return", percent(plan.get("expected_return")), "A year, after expected losses."),
                ui.Kpi("Expected loss", money(plan.get("expected_loss"))),
            ],
            per_row=4,
        )
        mix = plan.get("mix") or {}
        if mix:
            st.caption(
                "Mix by grade: "
                + " · ".join(
                    f"{g} {percent(v)} (target {percent((plan.get('target_mix') or {}).get(g))})"
                    for g, v in sorted(mix.items())
                )
            )
        items = plan.get("notes") or []
        if items:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Loan": [f"#{n.get('loan_id')}" for n in items],
                        "Grade": [n.get("grade") for n in items],
                        "Rate": [percent(n.get("interest_rate")) for n in items],
                        "Term": [f"{n.get('term_months')} mo" for n in items],
                        "Default risk": [share(n.get("probability_of_default"), 1) for n in items],
                        "Amount": [money(n.get("amount")) for n in items],
                        "Expected loss": [money(n.get("expected_loss")) for n in items],
                        "Note": [f"#{n['investment_id']}" if n.get("investment_id") else "—" for n in items],
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config=ui.table_config(**dict.fromkeys(("Rate", "Amount", "Expected loss"), "right")),
            )
        else:
            ui.empty("No listing fits this plan right now. Try a smaller amount or fewer loans, or come back later.")
        plan_id = plan.get("plan_id")
        can_place = ops.has("POST", "/investors/me/portfolio-plans/{plan_id}/place")
        if plan_id is not None and items and plan.get("status") != "placed" and can_place:
            if st.button("Place this plan", type="primary", key=f"place_{plan_id}"):
                placed = ui.call(
                    lambda: session.submit_once(
                        f"place_{plan_id}", {"plan_id": plan_id}, lambda key: api.place_plan(plan_id, key)
                    )[0]
                )
                if placed is not None:
                    st.session_state["_plan"] = placed
                    st.rerun()
        elif plan.get("status") == "placed":
            st.success(
                f"Plan #{plan_id} placed: {len([n for n in items if n.get('investment_id')])} notes bought.",
                icon=":material/check_circle:",
            )
else:
    ui.coming_soon(
        "a diversified plan across grades for an amount you choose, placed in one click",
        "POST /investors/me/portfolio-plans",
    )
