"""Every call the web app makes to the Peerlend API, in one place.

- One shared ``httpx2.Client`` (connection pool, thread-safe) per process; the tokens are *per browser session*
  and live in a :class:`TokenStore` the caller provides (``dashboards.session`` keeps them in Streamlit's
  server-side session state, never in a URL or a cookie).
- The access token is refreshed shortly before it expires and, if the API still answers 401, once more before
  giving up: refresh tokens are single-use, and a replayed one makes the API revoke the whole session, so a
  refresh is done under the session's lock and skipped when another thread already rotated the pair.
- Money-moving calls take an ``idempotency_key`` the page created once per form submission; a double click
  sends the same key and body again and the API replays the first answer instead of moving money twice.
  When the first request is still in flight the API answers 409 with ``Retry-After``; the client waits and
  asks again so the second click shows the same result.
- Failures raise :class:`ApiError` carrying the API's own ``detail`` and ``code`` (``{"detail", "code"}``),
  which pages print as they are; a network failure becomes an ``ApiError`` too, never a traceback.

Money stays a decimal *string* here (``"25.00"``) exactly as the API sends it; ``dashboards.formatting`` turns
it into ``Decimal`` and text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, Protocol, TypedDict, cast

import httpx2 as httpx

from dashboards.settings import get_dashboard_settings

# Refresh this many seconds before the access token expires, so a request never leaves with a dying token.
REFRESH_MARGIN_SECONDS = 30
# How long to wait for a request with the same Idempotency-Key that is still in flight (a double click).
IN_FLIGHT_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 2.0
OPENAPI_TTL_SECONDS = 300

Role = Literal["borrower", "investor", "admin", "analyst"]


# ------------------------------------------------------------------------------------------------ response shapes
# The fields the pages read, as the API documents them (docs/openapi.json). total=False where a field is new and
# an older API may not send it yet; pages read those with .get().


class TokenPair(TypedDict):
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class Profile(TypedDict, total=False):
    legal_name: str | None
    date_of_birth: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    phone: str | None
    annual_income: str | None
    employer: str | None
    employment_status: str | None
    employment_length_years: int | None
    housing: str | None
    risk_preference: str | None
    complete_for_borrowing: bool
    missing_for_borrowing: list[str]


class Me(TypedDict):
    user_id: int
    username: str
    email: str
    role: Role
    email_verified: bool
    investor_id: int | None
    profile: Profile


class Loan(TypedDict, total=False):
    loan_id: int
    borrower_id: int
    amount: str
    interest_rate: str
    term_months: int
    purpose: str
    status: str
    grade: str
    probability_of_default: str
    score_reasons: list[str]
    funded_amount: str
    remaining_amount: str
    monthly_payment: str
    created_at: str
    funded_at: str | None
    disbursed_at: str | None
    # the servicing and pricing release
    requested_amount: str
    apr: str
    expected_loss: str
    origination_fee_rate: str
    origination_fee: str
    disbursed_amount: str
    funded_pct: str
    accepts_partial_funding: bool
    listed_at: str | None
    listing_expires_at: str | None
    seconds_left: int | None
    rate_card_version: str | None


class LoansPage(TypedDict):
    items: list[Loan]
    next_cursor: str | None


class Installment(TypedDict):
    number: int
    due_date: str
    payment: str
    principal: str
    interest: str
    balance_after: str
    paid_principal: str
    paid_interest: str
    status: str


class Schedule(TypedDict):
    loan_id: int
    status: str
    outstanding_principal: str
    installments: list[Installment]


class Payment(TypedDict, total=False):
    payment_id: int
    loan_id: int
    amount: str
    principal: str
    interest: str
    fees: str
    date: str
    loan_status: str
    outstanding_principal: str | None
    processor_reference: str


class Note(TypedDict):
    investment_id: int
    loan_id: int
    amount: str
    grade: str
    interest_rate: str
    loan_status: str
    status: NotRequired[str]  # the note's own state; an API older than it sends none
    principal_received: str
    interest_received: str
    outstanding_principal: str
    created_at: str


class Portfolio(TypedDict, total=False):
    investor_id: int
    username: str
    cash: str
    committed: str
    outstanding_principal: str
    interest_received: str
    principal_received: str
    portfolio_value: str
    notes: list[Note]


class Investment(TypedDict):
    investment_id: int
    loan_id: int
    investor_id: int
    amount: str
    loan_status: str
    loan_funded_amount: str
    created_at: str


class CashTransfer(TypedDict):
    transfer_id: int
    direction: str
    amount: str
    cash_balance: str
    pending_cash: str
    status: str
    processor_reference: str
    created_at: str


class Notification(TypedDict):
    notification_id: int
    kind: str
    loan_id: int | None
    message: str
    created_at: str
    read: bool


class AccountBalance(TypedDict):
    code: str
    account_type: str
    balance: str


class TrialBalance(TypedDict):
    accounts: list[AccountBalance]
    total: str
    unbalanced_transactions: list[int]
    balance_mismatches: list[dict[str, str]]


# --------------------------------------------------------------------------------------------------------- errors


class ApiError(Exception):
    """The API said no (or could not be reached). ``detail`` is the API's sentence, fit to show a person."""

    def __init__(self, status: int, code: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        code, detail = f"http_{response.status_code}", response.reason_phrase or "the API refused the request"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            code = str(body.get("code") or code)
            raw = body.get("detail")
            if isinstance(raw, str) and raw:
                detail = raw
            elif raw is not None:  # FastAPI's own validation list, should a route ever answer with it
                detail = "; ".join(
                    str(item.get("msg", item)) if isinstance(item, Mapping) else str(item) for item in raw
                )
        retry_after = response.headers.get("Retry-After")
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return cls(response.status_code, code, detail, seconds)


SESSION_ENDED = "session_ended"


def _session_ended() -> ApiError:
    return ApiError(401, SESSION_ENDED, "Your session has ended. Sign in again.")


# --------------------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: float  # epoch seconds
    refresh_expires_at: float

    @classmethod
    def from_pair(cls, pair: TokenPair, now: float) -> Tokens:
        return cls(
            access_token=pair["access_token"],
            refresh_token=pair["refresh_token"],
            access_expires_at=now + int(pair["expires_in"]),
            refresh_expires_at=now + int(pair["refresh_expires_in"]),
        )

    def __repr__(self) -> str:  # tokens never reach a log line or an error page
        return f"Tokens(access expires at {self.access_expires_at:.0f})"


class TokenStore(Protocol):
    """Where one browser session keeps its tokens, with the lock that serialises refreshes."""

    lock: threading.Lock

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens | None) -> None: ...


class MemoryTokenStore:
    """A token store on its own (scripts, the benchmark, tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        return self._tokens

    def save(self, tokens: Tokens | None) -> None:
        self._tokens = tokens


# --------------------------------------------------------------------------------------------------- the transport

_http_lock = threading.Lock()
_http: httpx.Client | None = None


def http_client() -> httpx.Client:
    """The process's one pooled client towards ``PEERLEND_API_URL``."""
    global _http
    with _http_lock:
        if _http is None:
            settings = get_dashboard_settings()
            _http = httpx.Client(base_url=settings.api_url, timeout=settings.api_timeout_seconds)
        return _http


def use_http_client(client: httpx.Client | None) -> None:
    """Point every later call at ``client`` (tests pass FastAPI's in-process TestClient); ``None`` resets."""
    global _http
    with _http_lock:
        _http = client
    _operations_cache.clear()


# What this app knows how to call, as (method, path template). Used when the API does not publish its OpenAPI
# document (production hides it): then the app assumes exactly the endpoints that existed when it was built.
BUILT_AGAINST: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/users/register"),
        ("POST", "/investors/register"),
        ("POST", "/auth/token"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/verify-email"),
        ("POST", "/auth/resend-verification"),
        ("POST", "/auth/password/change"),
        ("POST", "/auth/password/forgot"),
        ("POST", "/auth/password/reset"),
        ("GET", "/users/me"),
        ("PATCH", "/users/me"),
        ("POST", "/loans"),
        ("GET", "/loans/list"),
        ("GET", "/loans/rate-card"),
        ("GET", "/loans/{loan_id}"),
        ("GET", "/loans/{loan_id}/schedule"),
        ("GET", "/loans/{loan_id}/payments"),
        ("POST", "/loans/{loan_id}/investments"),
        ("POST", "/loans/{loan_id}/cancel"),
        ("POST", "/investments/{investment_id}/cancel"),
        ("POST", "/investors/me/deposits"),
        ("POST", "/investors/me/withdrawals"),
        ("GET", "/investors/me/portfolio"),
        ("POST", "/payments/make"),
        ("GET", "/notifications"),
        ("GET", "/admin/ledger/trial-balance"),
        ("GET", "/reports/loan-book"),
    }
)
BUILT_AGAINST_LISTING_FILTERS: frozenset[str] = frozenset({"status", "min_rate", "max_rate", "limit", "cursor"})


@dataclass(frozen=True)
class Operations:
    """What the running API offers: its operations and the query parameters of ``GET /loans/list``."""

    operations: frozenset[tuple[str, str]]
    listing_params: frozenset[str]
    live: bool  # read from the API's /openapi.json (False: the built-in list above)
    loan_fields: frozenset[str] = frozenset({"amount", "interest_rate", "term_months", "purpose"})
    loan_required: frozenset[str] = frozenset({"amount", "interest_rate", "term_months", "purpose"})

    def has(self, method: str, path: str) -> bool:
        return (method.upper(), path) in self.operations


_operations_cache: dict[str, tuple[float, Operations]] = {}


def _request_schema(doc: Mapping[str, Any], path: str, method: str) -> dict[str, Any]:
    """The JSON schema of an operation's request body, ``$ref`` resolved (one level: the API's bodies are flat)."""
    content = doc.get("paths", {}).get(path, {}).get(method, {}).get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = doc.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return dict(schema)


def operations(http: httpx.Client | None = None, now: Callable[[], float] = time.monotonic) -> Operations:
    """The API's operations from its OpenAPI document, re-read every few minutes, so features other teams ship
    light up here without a redeploy. Falls back to :data:`BUILT_AGAINST` when the document is not served."""
    client = http or http_client()
    key = str(client.base_url)
    cached = _operations_cache.get(key)
    if cached and now() - cached[0] < OPENAPI_TTL_SECONDS:
        return cached[1]
    found = Operations(BUILT_AGAINST, BUILT_AGAINST_LISTING_FILTERS, live=False)
    try:
        response = client.get("/openapi.json")
        if response.status_code == 200:
            doc = response.json()
            ops = frozenset(
                (method.upper(), path)
                for path, item in doc.get("paths", {}).items()
                for method in item
                if method.lower() in {"get", "post", "put", "patch", "delete"}
            )
            listing = doc.get("paths", {}).get("/loans/list", {}).get("get", {})
            params = frozenset(p["name"] for p in listing.get("parameters", []) if p.get("in") == "query")
            body = _request_schema(doc, "/loans", "post")
            found = Operations(
                ops,
                params,
                live=True,
                loan_fields=frozenset(body.get("properties", {})) or Operations.loan_fields,
                loan_required=frozenset(body.get("required", [])) or Operations.loan_required,
            )
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    _operations_cache[key] = (now(), found)
    return found


# ------------------------------------------------------------------------------------------------------ the client


class ApiClient:
    """The API as one browser session sees it."""

    def __init__(
        self,
        http: httpx.Client | None = None,
        tokens: TokenStore | None = None,
        client_address: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http or http_client()
        self.tokens = tokens or MemoryTokenStore()
        self.client_address = client_address
        self.clock = clock
        # True when the API answered the last money-moving call from its idempotency store (Idempotent-Replayed):
        # the action had already been done with this key, so nothing moved a second time.
        self.last_replayed = False

    # -- plumbing

    def _headers(self, token: str | None, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if self.client_address and get_dashboard_settings().forward_client_address:
            headers["X-Forwarded-For"] = self.client_address
        return headers

    def _send(
        self, method: str, path: str, token: str | None, idempotency_key: str | None, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self.http.request(method, path, headers=self._headers(token, idempotency_key), **kwargs)
            for _ in range(IN_FLIGHT_RETRIES):
                # The same key is still being served (the first of a double click): wait and ask again, and the
                # API replays the first request's answer.
                if not (idempotency_key and response.status_code == 409 and "Retry-After" in response.headers):
                    break
                wait = ApiError.from_response(response).retry_after or 1.0
                time.sleep(min(wait, MAX_RETRY_AFTER_SECONDS))
                response = self.http.request(method, path, headers=self._headers(token, idempotency_key), **kwargs)
            return response
        except httpx.TimeoutException:
            raise ApiError(504, "api_timeout", "The Peerlend API took too long to answer. Try again.") from None
        except httpx.TransportError:
            raise ApiError(503, "api_unreachable", "The Peerlend API cannot be reached right now. Try again.") from None

    def _current_tokens(self) -> Tokens:
        tokens = self.tokens.load()
        if tokens is None:
            raise _session_ended()
        if tokens.access_expires_at - self.clock() < REFRESH_MARGIN_SECONDS:
            tokens = self._refresh(tokens)
        return tokens

    def _refresh(self, stale: Tokens) -> Tokens:
        with self.tokens.lock:
            current = self.tokens.load()
            if current is None:
                raise _session_ended()
            if current.access_token != stale.access_token:
                return current  # another run of this session already rotated the pair
            if current.refresh_expires_at <= self.clock():
                self.tokens.save(None)
                raise _session_ended()
            response = self._send("POST", "/auth/refresh", None, None, json={"refresh_token": current.refresh_token})
            if response.status_code != 200:
                self.tokens.save(None)
                if response.status_code in (400, 401, 403):
                    raise _session_ended()
                raise ApiError.from_response(response)
            fresh = Tokens.from_pair(cast(TokenPair, response.json()), self.clock())
            self.tokens.save(fresh)
            return fresh

    def _call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        idempotency_key: str | None = None,
        expect: tuple[int, ...] = (200, 201, 202),
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        if not auth:
            response = self._send(method, path, None, idempotency_key, **kwargs)
        else:
            tokens = self._current_tokens()
            response = self._send(method, path, tokens.access_token, idempotency_key, **kwargs)
            if response.status_code == 401:  # expired or revoked early: refresh once, then give up
                tokens = self._refresh(tokens)
                response = self._send(method, path, tokens.access_token, idempotency_key, **kwargs)
                if response.status_code == 401:
                    self.tokens.save(None)
                    raise _session_ended()
        if response.status_code not in expect:
            raise ApiError.from_response(response)
        if idempotency_key:
            self.last_replayed = response.headers.get("Idempotent-Replayed") == "true"
        if raw:
            return response.content, response.headers.get("content-type", "application/octet-stream")
        if not response.content:
            return None
        content_type = response.headers.get("content-type", "")
        return response.json() if "json" in content_type else response.content

    # -- identity

    def register(self, username: str, email: str, password: str, role: Literal["borrower", "investor"]) -> Any:
        body = {"username": username, "email": email, "password": password}
        if role == "investor":  # creates the investor account (cash, notes) together with the user
            return self._call("POST", "/investors/register", auth=False, json=body)
        return self._call("POST", "/users/register", auth=False, json={**body, "role": role})

    def login(self, username: str, password: str) -> Tokens:
        pair = self._call("POST", "/auth/token", auth=False, data={"username": username, "password": password})
        tokens = Tokens.from_pair(cast(TokenPair, pair), self.clock())
        self.tokens.save(tokens)
        return tokens

    def logout(self) -> None:
        """End the session at the API (its tokens stop working at once), then forget them here."""
        tokens = self.tokens.load()
        try:
            if tokens is not None:
                self._send("POST", "/auth/logout", tokens.access_token, None)
        finally:
            self.tokens.save(None)

    def verify_email(self, token: str) -> str:
        return str(self._call("POST", "/auth/verify-email", auth=False, json={"token": token})["detail"])

    def resend_verification(self) -> str:
        return str(self._call("POST", "/auth/resend-verification")["detail"])

    def forgot_password(self, email: str) -> str:
        return str(self._call("POST", "/auth/password/forgot", auth=False, json={"email": email})["detail"])

    def reset_password(self, token: str, new_password: str) -> str:
        body = {"token": token, "new_password": new_password}
        return str(self._call("POST", "/auth/password/reset", auth=False, json=body)["detail"])

    def change_password(self, current_password: str, new_password: str) -> str:
        body = {"current_password": current_password, "new_password": new_password}
        return str(self._call("POST", "/auth/password/change", json=body)["detail"])

    def me(self) -> Me:
        return cast(Me, self._call("GET", "/users/me"))

    def update_me(self, changes: Mapping[str, Any]) -> Me:
        return cast(Me, self._call("PATCH", "/users/me", json=dict(changes)))

    # -- loans

    def apply(self, application: Mapping[str, Any]) -> Loan:
        """``POST /loans`` with the application's fields (amount, term_months, purpose, and as the API asks:
        interest_rate, credit_check_consent, accept_partial_funding)."""
        return cast(Loan, self._call("POST", "/loans", json=dict(application)))

    def rate_card(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", "/loans/rate-card"))

    def loans(self, params: Mapping[str, Any] | None = None) -> LoansPage:
        """One page of ``GET /loans/list`` (borrowers: their own loans; investors and staff: every loan)."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "", [])}
        return cast(LoansPage, self._call("GET", "/loans/list", params=query))

    def all_loans(self, params: Mapping[str, Any] | None = None, limit: int = 100, max_pages: int = 50) -> list[Loan]:
        """Every page of ``GET /loans/list`` (a borrower's own loans are few; listings are bounded by max_pages)."""
        found: list[Loan] = []
        cursor: str | None = None
        for _ in range(max_pages):
            page = self.loans({**(params or {}), "limit": limit, "cursor": cursor})
            found += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        return found

    def loan(self, loan_id: int) -> Loan:
        return cast(Loan, self._call("GET", f"/loans/{int(loan_id)}"))

    def schedule(self, loan_id: int) -> Schedule:
        return cast(Schedule, self._call("GET", f"/loans/{int(loan_id)}/schedule"))

    def payments(self, loan_id: int) -> list[Payment]:
        return cast(list[Payment], self._call("GET", f"/loans/{int(loan_id)}/payments"))

    def payoff(self, loan_id: int, on: str | None = None) -> dict[str, Any]:
        return cast(
            dict[str, Any], self._call("GET", f"/loans/{int(loan_id)}/payoff", params={"date": on} if on else None)
        )

    def cancel(self, loan_id: int, idempotency_key: str) -> Loan:
        return cast(Loan, self._call("POST", f"/loans/{int(loan_id)}/cancel", idempotency_key=idempotency_key))

    def pay(self, loan_id: int, amount: str, idempotency_key: str) -> Payment:
        body = {"loan_id": int(loan_id), "amount": amount}
        return cast(Payment, self._call("POST", "/payments/make", json=body, idempotency_key=idempotency_key))

    # -- investing

    def invest(self, loan_id: int, amount: str, idempotency_key: str) -> Investment:
        path = f"/loans/{int(loan_id)}/investments"
        return cast(Investment, self._call("POST", path, json={"amount": amount}, idempotency_key=idempotency_key))

    def cancel_commitment(self, investment_id: int, idempotency_key: str) -> Investment:
        path = f"/investments/{int(investment_id)}/cancel"
        return cast(Investment, self._call("POST", path, idempotency_key=idempotency_key))

    def deposit(self, amount: str, idempotency_key: str) -> CashTransfer:
        body = {"amount": amount}
        return cast(
            CashTransfer, self._call("POST", "/investors/me/deposits", json=body, idempotency_key=idempotency_key)
        )

    def withdraw(self, amount: str, idempotency_key: str) -> CashTransfer:
        body = {"amount": amount}
        return cast(
            CashTransfer, self._call("POST", "/investors/me/withdrawals", json=body, idempotency_key=idempotency_key)
        )

    def portfolio(self) -> Portfolio:
        return cast(Portfolio, self._call("GET", "/investors/me/portfolio"))

    def auto_invest(self) -> dict[str, Any] | None:
        found = self._call("GET", "/investors/me/auto-invest", expect=(200, 404))
        return cast(dict[str, Any], found) if isinstance(found, dict) and "code" not in found else None

    def set_auto_invest(self, rules: Mapping[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("PUT", "/investors/me/auto-invest", json=dict(rules)))

    def plan(self, plan_id: int | str) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", f"/investors/me/portfolio-plans/{plan_id}"))

    def plan_portfolio(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("POST", "/investors/me/portfolio-plans", json=dict(request)))

    def place_plan(self, plan_id: int | str, idempotency_key: str) -> dict[str, Any]:
        path = f"/investors/me/portfolio-plans/{plan_id}/place"
        return cast(dict[str, Any], self._call("POST", path, idempotency_key=idempotency_key))

    def statement(self, month: str) -> tuple[bytes, str]:
        """The statement for ``YYYY-MM`` as the API serves it (bytes, content type)."""
        return cast(tuple[bytes, str], self._call("GET", f"/investors/me/statements/{month}", raw=True))

    # -- notifications and staff

    def notifications(self, unread: bool = False, limit: int = 50) -> list[Notification]:
        params: dict[str, Any] = {"limit": limit}
        if unread:
            params["unread"] = "true"
        return cast(list[Notification], self._call("GET", "/notifications", params=params))

    def mark_read(self, notification_id: int) -> Any:
        return self._call("POST", f"/notifications/{int(notification_id)}/read")

    def trial_balance(self) -> TrialBalance:
        return cast(TrialBalance, self._call("GET", "/admin/ledger/trial-balance"))
