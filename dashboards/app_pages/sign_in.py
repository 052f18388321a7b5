"""Sign in with the same username and password as the API; the app keeps the API's tokens server-side."""

import streamlit as st

from dashboards import session, ui
from dashboards.api_client import ApiError

st.title("Sign in to Peerlend")
notice = session.take_notice()
if notice:
    st.info(notice, icon=":material/logout:")

with st.form("sign_in", enter_to_submit=True):
    username = st.text_input("Username or email", key="sign_in_username", autocomplete="username")
    password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    if not username or not password:
        st.error("Enter your username and password.")
    else:
        try:
            session.sign_in(username, password)
        except ApiError as error:  # a wrong password is a 401 too: say the API's sentence, no sign-out dance
            st.error(error.detail, icon=":material/error:")
        else:
            st.rerun()  # the navigation now shows this role's pages

st.divider()
left, right = st.columns(2)
left.page_link("app_pages/register.py", label="New here? Create an account", icon=":material/person_add:")
with right.expander("Forgot your password?"):
    with st.form("forgot_password"):
        email = st.text_input("Your account's email address", key="forgot_email")
        if st.form_submit_button("Email me a reset link"):
            detail = ui.call(lambda: session.api().forgot_password(email.strip()))
            if detail:
                st.success(detail)
