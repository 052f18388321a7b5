"""Signing out ends the session at the API (its tokens stop working) and forgets this browser session's state."""

import streamlit as st

from dashboards import session

session.sign_out("You are signed out.")
st.rerun()
