"""Create a borrower or investor account through the API; it emails a verification link that opens in this app."""

import streamlit as st

from dashboards import session, ui
from dashboards.api_client import ApiError

st.title("Create your Peerlend account")
st.write("Borrow for a personal project, or invest in $25 notes of other people's loans.")

with st.form("register"):
    role = st.radio(
        "I want to",
        ["borrower", "investor"],
        format_func={"borrower": "Borrow money", "investor": "Invest"}.get,
        horizontal=True,
        key="register_role",
    )
    username = st.text_input("Username", key="register_username", autocomplete="username")
    email = st.text_input("Email address", key="register_email", autocomplete="email")
    password = st.text_input(
        "Password",
        type="password",
        key="register_password",
        autocomplete="new-password",
        help="At least 10 characters and hard to guess: a few unrelated words work well.",
    )
    submitted = st.form_submit_button("Create account", type="primary")

if submitted:
    try:
        user = session.api().register(username.strip(), email.strip(), password, role)
    except ApiError as error:
        ui.show_api_error(error)
    else:
        st.success(
            f"Welcome, {user['username']}! We emailed a verification link to {user['email']}. "
            "Open it to confirm your address, then sign in.",
            icon=":material/mark_email_unread:",
        )
        st.page_link("app_pages/sign_in.py", label="Go to sign in", icon=":material/login:")
