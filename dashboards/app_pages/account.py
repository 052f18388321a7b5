"""The signed-in user's account: email verification, profile (a borrower needs a complete one to apply) and
password."""

import datetime as dt
from typing import Any

import streamlit as st

from dashboards import session, ui
from dashboards.api_client import ApiError, Me
from dashboards.formatting import MoneyInputError, money, parse_money

principal = session.require()
st.title("Your account")
me: Me | None = ui.call(lambda: session.api().me(), stop=True)
assert me is not None
profile = me.get("profile") or {}

st.write(f"**{me['username']}** · {me['email']} · {me['role']}")
if me["email_verified"]:
    st.success("Your email address is verified.", icon=":material/verified:")
else:
    ui.unverified_banner(principal)

st.subheader("Profile")
if me["role"] == "borrower":
    missing = profile.get("missing_for_borrowing") or []
    if profile.get("complete_for_borrowing"):
        st.caption("Your profile is complete: you can apply for a loan.")
    else:
        st.warning(
            "To apply for a loan, complete: " + ", ".join(m.replace("_", " ") for m in missing) + ".",
            icon=":material/assignment_late:",
        )

EMPLOYMENT = ["employed", "self_employed", "unemployed", "retired", "student"]
HOUSING = ["rent", "own", "mortgage", "other"]
RISK = ["conservative", "balanced", "aggressive"]


def _index(options: list[str], value: str | None) -> int | None:
    return options.index(value) if value in options else None


with st.form("profile"):
    changes: dict[str, Any] = {}
    if me["role"] == "borrower":
        left, right = st.columns(2)
        legal_name = left.text_input("Legal name", profile.get("legal_name") or "", key="profile_legal_name")
        born = profile.get("date_of_birth")
        date_of_birth = right.date_input(
            "Date of birth",
            dt.date.fromisoformat(born) if born else None,
            min_value=dt.date(1900, 1, 1),
            max_value=dt.date.today(),
            key="profile_date_of_birth",
        )
        address_line1 = left.text_input("Address", profile.get("address_line1") or "", key="profile_address_line1")
        address_line2 = right.text_input(
            "Address, line 2", profile.get("address_line2") or "", key="profile_address_line2"
        )
        city = left.text_input("City", profile.get("city") or "", key="profile_city")
        region = right.text_input("State or region", profile.get("region") or "", key="profile_region")
        postal_code = left.text_input("Postal code", profile.get("postal_code") or "", key="profile_postal_code")
        country = right.text_input("Country (two letters)", profile.get("country") or "US", key="profile_country")
        phone = left.text_input("Phone", profile.get("phone") or "", key="profile_phone")
        income = profile.get("annual_income")
        annual_income = right.text_input("Annual income ($)", income or "", key="profile_annual_income")
        employment_status = left.selectbox(
            "Employment",
            EMPLOYMENT,
            index=_index(EMPLOYMENT, profile.get("employment_status")),
            format_func=lambda s: s.replace("_", " ").capitalize(),
            key="profile_employment_status",
        )
        years = profile.get("employment_length_years")
        employment_length_years = right.number_input(
            "Years in this job", min_value=0, max_value=70, value=years, step=1, key="profile_employment_length"
        )
        employer = left.text_input("Employer", profile.get("employer") or "", key="profile_employer")
        housing = right.selectbox(
            "Housing",
            HOUSING,
            index=_index(HOUSING, profile.get("housing")),
            format_func=str.capitalize,
            key="profile_housing",
        )
        changes = {
            "legal_name": legal_name.strip() or None,
            "date_of_birth": date_of_birth.isoformat() if date_of_birth else None,
            "address_line1": address_line1.strip() or None,
            "address_line2": address_line2.strip() or None,
            "city": city.strip() or None,
            "region": region.strip() or None,
            "postal_code": postal_code.strip() or None,
            "country": country.strip().upper() or None,
            "phone": phone.strip() or None,
            "employment_status": employment_status,
            "employment_length_years": int(employment_length_years) if employment_length_years is not None else None,
            "employer": employer.strip() or None,
            "housing": housing,
        }
        income_text = annual_income.strip()
    else:
        risk = st.selectbox(
            "Risk preference",
            RISK,
            index=_index(RISK, profile.get("risk_preference")),
            format_func=str.capitalize,
            key="profile_risk",
            help="Used by the portfolio builder and auto-invest to suggest a mix of grades.",
        )
        changes = {"risk_preference": risk}
        income_text = ""
    saved = st.form_submit_button("Save profile", type="primary")

if saved:
    try:
        if income_text:
            changes["annual_income"] = parse_money(income_text)
        # Only what changed and is set: the API keeps the rest as it is.
        body = {k: v for k, v in changes.items() if v is not None and v != profile.get(k)}
        if body:
            updated = session.api().update_me(body)
            left_to_do = (updated.get("profile") or {}).get("missing_for_borrowing") or []
            st.success("Profile saved." + (f" Still missing: {', '.join(left_to_do)}." if left_to_do else ""))
            st.rerun()
        else:
            st.info("Nothing changed.")
    except MoneyInputError as error:
        st.error(f"Annual income: {error}")
    except ApiError as error:
        ui.show_api_error(error)
if me["role"] == "borrower" and profile.get("annual_income"):
    st.caption(f"Annual income on file: {money(profile['annual_income'])}")

st.subheader("Password")
with st.form("change_password"):
    current = st.text_input("Current password", type="password", autocomplete="current-password")
    new = st.text_input("New password", type="password", autocomplete="new-password")
    if st.form_submit_button("Change password"):
        detail = ui.call(lambda: session.api().change_password(current, new))
        if detail:
            st.success(detail + " Your other sessions were signed out.")
