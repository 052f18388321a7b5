"""Entry point: only the navigation, which depends on who is signed in. Run from the project root:

uv run streamlit run dashboards/server.py --server.headless true --browser.gatherUsageStats false \
    --server.address 127.0.0.1 --server.port 8501

(``dashboards/server.py`` serves this script and the links in the API's emails; ``--server.address`` also stops
a headless Streamlit from asking an outside service for its external IP.)
"""

import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the pages import `dashboards` and `api`, which
# resolve without this when the project is installed (editable) in the venv, and with it when it is not.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboards import session  # noqa: E402

st.set_page_config(page_title="Peerlend", page_icon=":material/account_balance:", layout="wide")

principal = session.current()
# The emailed link lands on this page whoever is signed in; it is listed only while there is something to verify.
verify = st.Page(
    "app_pages/verify_email.py",
    title="Verify email",
    icon=":material/mark_email_read:",
    url_path="verify-email",
    visibility="hidden" if principal is not None and principal.email_verified else "visible",
)
account = [
    st.Page("app_pages/notifications.py", title="Notifications", icon=":material/notifications:"),
    st.Page("app_pages/account.py", title="Account", icon=":material/manage_accounts:"),
    verify,
    st.Page("app_pages/sign_out.py", title="Sign out", icon=":material/logout:", url_path="sign-out"),
]
if principal is None:
    pages: dict[str, list[st.Page]] | list[st.Page] = [
        st.Page("app_pages/sign_in.py", title="Sign in", icon=":material/login:", default=True),
        st.Page("app_pages/register.py", title="Create an account", icon=":material/person_add:", url_path="register"),
        verify,
        st.Page(
            "app_pages/reset_password.py", title="Reset password", icon=":material/key:", url_path="reset-password"
        ),
    ]
elif principal.role == "borrower":
    pages = {
        "My borrowing": [
            st.Page("app_pages/borrower_loans.py", title="My loans", icon=":material/request_quote:", default=True),
            st.Page("app_pages/borrower_apply.py", title="Apply for a loan", icon=":material/add_card:"),
            st.Page("app_pages/borrower_pay.py", title="Make a payment", icon=":material/payments:"),
        ],
        "Account": account,
    }
elif principal.role == "investor":
    pages = {
        "My investing": [
            st.Page("app_pages/investor_portfolio.py", title="Portfolio", icon=":material/savings:", default=True),
            st.Page("app_pages/investor_browse.py", title="Browse loans", icon=":material/storefront:"),
            st.Page("app_pages/investor_notes.py", title="Notes and cash flows", icon=":material/receipt_long:"),
            st.Page(
                "app_pages/investor_cash.py", title="Cash and statements", icon=":material/account_balance_wallet:"
            ),
            st.Page("app_pages/investor_automation.py", title="Auto-invest and plans", icon=":material/auto_mode:"),
        ],
        "Account": account,
    }
else:  # admin and analyst
    pages = {
        "Platform": [
            st.Page("app_pages/platform_overview.py", title="Overview", icon=":material/monitoring:", default=True),
            st.Page("app_pages/platform_credit.py", title="Funding and credit", icon=":material/trending_down:"),
            st.Page("app_pages/platform_models.py", title="Model monitoring", icon=":material/model_training:"),
            st.Page("app_pages/platform_ledger.py", title="Ledger", icon=":material/balance:"),
        ],
        "Account": account,
    }
if principal is not None:
    st.sidebar.caption(f"Signed in as **{principal.username}** ({principal.role})")
st.navigation(pages).run()
