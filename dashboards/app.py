"""Entry point: only the navigation. Run from the project root:

uv run streamlit run dashboards/app.py --server.headless true --browser.gatherUsageStats false \
    --server.address 127.0.0.1 --server.port 8501

(``--server.address`` also stops a headless Streamlit from asking an outside service for its external IP.)
"""

import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the pages import `dashboards` and `api`, which
# resolve without this when the project is installed (editable) in the venv, and with it when it is not.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Peerlend dashboards", page_icon=":material/account_balance:", layout="wide")
st.navigation(
    [
        st.Page("app_pages/borrower.py", title="Borrower", icon=":material/person:", default=True),
        st.Page("app_pages/investor.py", title="Investor", icon=":material/savings:"),
        st.Page("app_pages/platform.py", title="Platform", icon=":material/monitoring:"),
    ]
).run()
