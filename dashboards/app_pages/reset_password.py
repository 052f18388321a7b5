"""Where the password-reset email's link lands (through dashboards/server.py): choose a new password."""

import streamlit as st

from dashboards import session, ui

st.title("Choose a new password")
token = st.query_params.get("token")
if token:
    # Kept in this server-side session only, and off the address bar.
    st.session_state["_reset_token"] = token
    del st.query_params["token"]
token = st.session_state.get("_reset_token")
if not token:
    ui.empty("Open the link in the password-reset email. To get one, use “Forgot your password?” on the sign-in page.")
    st.stop()

with st.form("reset_password"):
    new_password = st.text_input("New password", type="password", autocomplete="new-password")
    again = st.text_input("The same password again", type="password", autocomplete="new-password")
    submitted = st.form_submit_button("Set the new password", type="primary")
if submitted:
    if new_password != again:
        st.error("The two passwords differ.")
    else:
        detail = ui.call(lambda: session.api().reset_password(token, new_password))
        if detail:
            st.session_state.pop("_reset_token", None)
            st.success(detail, icon=":material/key:")
            st.page_link("app_pages/sign_in.py", label="Sign in", icon=":material/login:")
