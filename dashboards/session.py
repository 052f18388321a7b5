"""Who is signed in to this browser session, and the API client that acts for them.

Everything lives in ``st.session_state``, which Streamlit keeps on the server per browser session (a websocket):
the API's tokens, the signed-in :class:`Principal` and the idempotency keys of open forms. Nothing goes into a
URL parameter or a cookie, so a link, a screenshot or a script in the page cannot carry a session away. The
price: reloading the page starts a new session, and the person signs in again.

The warehouse scopes (:class:`dashboards.queries.BorrowerScope`, ``InvestorScope``, ``StaffScope``) are made
only here, from the principal the API returned for the session's own token: pages never build one from a
widget or a URL, so every warehouse query is bound to the signed-in user on the server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import streamlit as st

from dashboards import queries
from dashboards.api_client import ApiClient, ApiError, Me, Role, Tokens
from dashboards.settings import get_dashboard_settings

T = TypeVar("T")
STAFF: frozenset[str] = frozenset({"admin", "analyst"})
_TOKENS, _LOCK, _PRINCIPAL, _SEEN, _FORMS, _DONE, _NOTICE = (
    "_peerlend_tokens",
    "_peerlend_token_lock",
    "_peerlend_principal",
    "_peerlend_last_seen",
    "_peerlend_forms",
    "_peerlend_done",
    "_peerlend_notice",
)


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the API described them (``GET /users/me``)."""

    user_id: int
    username: str
    email: str
    role: Role
    email_verified: bool
    investor_id: int | None

    @classmethod
    def from_me(cls, me: Me) -> Principal:
        return cls(
            user_id=int(me["user_id"]),
            username=me["username"],
            email=me["email"],
            role=me["role"],
            email_verified=bool(me["email_verified"]),
            investor_id=int(me["investor_id"]) if me.get("investor_id") is not None else None,
        )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


class SessionTokenStore:
    """The API tokens of this browser session, in its server-side session state."""

    def __init__(self) -> None:
        self.lock: threading.Lock = st.session_state.setdefault(_LOCK, threading.Lock())

    def load(self) -> Tokens | None:
        return cast(Tokens | None, st.session_state.get(_TOKENS))

    def save(self, tokens: Tokens | None) -> None:
        if tokens is None:
            st.session_state.pop(_TOKENS, None)
        else:
            st.session_state[_TOKENS] = tokens


def _client_address() -> str | None:
    try:
        address = st.context.ip_address
    except Exception:  # outside a browser session (scripts) there is no address
        return None
    return address if isinstance(address, str) and address else None  # AppTest hands out a mock


def api() -> ApiClient:
    """The API client acting for this browser session."""
    return ApiClient(tokens=SessionTokenStore(), client_address=_client_address())


# ------------------------------------------------------------------------------------------------ signing in/out


def sign_in(username: str, password: str) -> Principal:
    """Exchange the credentials for the API's tokens and remember who this is. Raises ApiError."""
    client = api()
    client.login(username.strip(), password)
    try:
        principal = Principal.from_me(client.me())
    except ApiError:
        client.logout()
        raise
    _start(principal)
    return principal


def _start(principal: Principal) -> None:
    # A new person at this browser: nothing of a previous session's widgets, forms or notices survives.
    keep = {k: st.session_state[k] for k in (_TOKENS, _LOCK) if k in st.session_state}
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state.update(keep)
    st.session_state[_PRINCIPAL] = principal
    st.session_state[_SEEN] = time.time()


def sign_out(notice: str | None = None) -> None:
    """End the session at the API and forget everything this browser session held."""
    try:
        api().logout()
    except ApiError:
        pass  # the API is down or the session already ended: forgetting the tokens is what matters here
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[_NOTICE] = notice


def take_notice() -> str | None:
    """A message for the sign-in page (why this session was signed out), shown once."""
    return cast(str | None, st.session_state.pop(_NOTICE, None))


def current() -> Principal | None:
    """The signed-in principal, or ``None``. Signs the session out after the idle timeout, and when its tokens
    are gone (the API ended the session)."""
    principal = cast(Principal | None, st.session_state.get(_PRINCIPAL))
    if principal is None:
        return None
    now = time.time()
    idle_minutes = get_dashboard_settings().session_idle_minutes
    if now - st.session_state.get(_SEEN, now) > idle_minutes * 60:
        sign_out(f"You were signed out after {idle_minutes} minutes without activity.")
        return None
    if st.session_state.get(_TOKENS) is None:
        sign_out("Your session has ended. Sign in again.")
        return None
    st.session_state[_SEEN] = now
    return principal


def refresh_principal() -> Principal | None:
    """Read ``/users/me`` again (after verifying the email address, for instance)."""
    if current() is None:
        return None
    principal = Principal.from_me(api().me())
    st.session_state[_PRINCIPAL] = principal
    return principal


def require(*roles: str) -> Principal:
    """The principal, if their role may see this page; otherwise say so and stop the page."""
    principal = current()
    if principal is None:
        st.info("Sign in to see this page.", icon=":material/login:")
        st.stop()
        raise AssertionError("unreachable")
    if roles and principal.role not in roles:
        st.error("This page is not available to your account.", icon=":material/block:")
        st.stop()
        raise AssertionError("unreachable")
    return principal


def ended(error: ApiError) -> bool:
    """True (and the session is signed out) when an API error means the session is over."""
    if error.code == "session_ended" or (error.status == 401 and _PRINCIPAL in st.session_state):
        sign_out(error.detail)
        return True
    return False


# --------------------------------------------------------------------------------------------- warehouse scopes


def borrower_scope() -> queries.BorrowerScope:
    principal = require("borrower")
    return queries.BorrowerScope(principal.user_id)


def investor_scope() -> queries.InvestorScope:
    principal = require("investor")
    if principal.investor_id is None:
        st.error("Your user has no investor account. Contact support.")
        st.stop()
    return queries.InvestorScope(int(cast(int, principal.investor_id)), principal.user_id)


def staff_scope() -> queries.StaffScope:
    principal = require(*STAFF)
    return queries.StaffScope(principal.user_id, cast(Literal["admin", "analyst"], principal.role))


# ---------------------------------------------------------------------------------------------- form submissions


def idempotency_key(form: str, body: Mapping[str, Any]) -> str:
    """The key for this form's submission: created once and kept while the body stays the same, so a double
    click (or a rerun mid-request) sends the same key and the API does the thing once. A different body is a
    different request and gets a new key; :func:`new_submission` starts over explicitly."""
    forms: dict[str, dict[str, str]] = st.session_state.setdefault(_FORMS, {})
    fingerprint = json.dumps(body, sort_keys=True, default=str)
    entry = forms.get(form)
    if entry is None or entry["body"] != fingerprint:
        entry = {"key": uuid.uuid4().hex, "body": fingerprint}
        forms[form] = entry
    return entry["key"]


def new_submission(form: str) -> None:
    """Forget the form's key and result: the next submission, even with the same values, is a new request."""
    entry = st.session_state.setdefault(_FORMS, {}).pop(form, None)
    if entry is not None:
        st.session_state.setdefault(_DONE, {}).pop(entry["key"], None)


def submit_once(form: str, body: Mapping[str, Any], action: Callable[[str], T]) -> tuple[T, bool]:
    """Run ``action(idempotency_key)`` once per form submission; return its result and whether it had already
    run. A second click with the same values gets the first result back without calling the API again (it is
    stored before the next Streamlit call, and one session never runs two script runs at once); calls that move
    money send the same key, so even a second request would be replayed by the API."""
    key = idempotency_key(form, body)
    done: dict[str, Any] = st.session_state.setdefault(_DONE, {})
    if key in done:
        return cast(T, done[key]), True
    result = action(key)
    done[key] = result
    return result, False


def last_result(form: str) -> Any | None:
    """The result of the form's current submission, if it ran (to keep showing the receipt)."""
    entry = st.session_state.get(_FORMS, {}).get(form)
    return None if entry is None else st.session_state.get(_DONE, {}).get(entry["key"])
