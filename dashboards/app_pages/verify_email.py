"""Where the verification email's link lands (through dashboards/server.py): confirms the address once.

The token is read from the URL once, sent to the API, and removed from the address bar at once, so it does not
stay in the browser's history or reach a screenshot.
"""

import streamlit as st

from dashboards import session, ui
from dashboards.api_client import ApiError

st.title("Verify your email address")
token = st.query_params.get("token")
if token:
    del st.query_params["token"]
    try:
        st.session_state["_verify_email_result"] = ("ok", session.api().verify_email(token))
    except ApiError as error:
        st.session_state["_verify_email_result"] = ("error", error.detail)

result = st.session_state.get("_verify_email_result")
if result is None:
    ui.empty("Open the link in the email we sent you. It works once and expires after a day.")
elif result[0] == "ok":
    st.success(f"Thank you: {result[1]}.", icon=":material/verified:")
    if session.current() is not None:
        ui.call(session.refresh_principal)
        st.page_link("app_pages/account.py", label="Back to your account", icon=":material/manage_accounts:")
    else:
        st.page_link("app_pages/sign_in.py", label="Sign in", icon=":material/login:")
else:
    st.error(result[1], icon=":material/error:")
    st.write("Sign in and ask for a new link from your account page if this one has expired.")
