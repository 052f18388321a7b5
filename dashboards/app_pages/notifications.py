"""The signed-in user's notifications (a loan funded, a payment received, ...), newest first."""

import pandas as pd
import streamlit as st

from dashboards import session, ui
from dashboards.formatting import moment

session.require()
st.title("Notifications")
ops = ui.operations()
unread_only = st.toggle("Unread only", value=False, key="notifications_unread")
items = ui.call(lambda: session.api().notifications(unread=unread_only), stop=True) or []
if not items:
    ui.empty("Nothing yet. You will be told here when a loan is funded, a payment arrives or something needs you.")
    st.stop()
for item in items:
    with st.container(border=True):
        left, right = st.columns([5, 1])
        left.markdown(("" if item["read"] else "**New** · ") + item["message"])
        left.caption(moment(item["created_at"]) + (f" · loan #{item['loan_id']}" if item.get("loan_id") else ""))
        if not item["read"] and ops.has("POST", "/notifications/{notification_id}/read"):
            if right.button("Mark read", key=f"read_{item['notification_id']}"):
                ui.call(lambda i=item["notification_id"]: session.api().mark_read(i))
                st.rerun()
if not ops.has("POST", "/notifications/{notification_id}/read"):
    st.caption("Marking notifications as read is coming soon (the API has no `POST /notifications/{id}/read` yet).")
st.download_button(
    "Download as CSV",
    pd.DataFrame(items).to_csv(index=False).encode(),
    file_name="notifications.csv",
    mime="text/csv",
)
