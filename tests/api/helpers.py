"""Small HTTP helpers for API tests: every call goes through the app's HTTP interface, and email
links are read from the app's mailbox as a user would read them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from api.identity import service as users_service
from api.identity.audit import ClientInfo
from api.integrations.email.mailer import read_mailbox, token_from

PASSWORD = "correct-horse-battery"
BORROWER_PROFILE = {
    "legal_name": "Bella Rivera",
    "date_of_birth": "1990-04-17",
    "address_line1": "12 Oak Street",
    "city": "Austin",
    "postal_code": "78701",
    "country": "US",
    "phone": "+15125550123",
    "annual_income": "72000.00",
    "employment_status": "employed",
    "employment_length_years": 6,
    "housing": "rent",
}
# The README's seed borrower: with the sandbox bureau this identity grades A for $5,000 over 36 months, a grade
# whose floor (5.49 %) allows the seed's 6.00 %.
SEED_PROFILE = {
    "legal_name": "Maria Lopez",
    "date_of_birth": "1988-03-02",
    "address_line1": "4 Elm Road",
    "city": "Denver",
    "postal_code": "80202",
    "country": "US",
    "phone": "+13035550188",
    "annual_income": "68000.00",
    "employment_status": "employed",
    "employment_length_years": 5,
    "housing": "rent",
}


def email_of(username: str) -> str:
    return f"{username}@example.com"


def last_token(client: TestClient, username: str) -> str:
    messages = read_mailbox(client.app.state.settings.mailbox_dir, email_of(username))  # type: ignore[attr-defined]
    assert messages, f"no email for {username}"
    return token_from(messages[-1])


def verify(client: TestClient, username: str) -> None:
    response = client.post("/auth/verify-email", json={"token": last_token(client, username)})
    assert response.status_code == 200, response.text


def register(
    client: TestClient,
    username: str,
    role: str = "borrower",
    *,
    ready: bool = True,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Register; with `ready`, also verify the email and (borrowers) complete the profile."""
    response = client.post(
        "/users/register",
        json={"username": username, "email": email_of(username), "password": PASSWORD, "role": role},
    )
    assert response.status_code == 201, response.text
    if ready:
        verify(client, username)
        if role == "borrower":
            patched = client.patch("/users/me", json=profile or BORROWER_PROFILE, headers=login(client, username))
            assert patched.status_code == 200, patched.text
    return response.json()


def register_investor(client: TestClient, username: str, *, ready: bool = True) -> dict[str, Any]:
    response = client.post(
        "/investors/register",
        json={"username": username, "email": email_of(username), "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    if ready:
        verify(client, username)
    return response.json()


def tokens(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens(client, username, password)['access_token']}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def settle(client: TestClient) -> None:
    """What two business days at the processor do, at once: every queued transfer is submitted, the sandbox
    settles every pending one today (a sandbox's "simulate processing"), and its webhooks are delivered."""
    from api.integrations.processor import jobs

    app = client.app
    jobs.settle_everything(app.state.database, app.state.processor, app.state.settings)  # type: ignore[attr-defined]


def deposit(client: TestClient, auth: dict[str, str], amount: str, *, settled: bool = True) -> dict[str, Any]:
    """Deposit; with `settled` (most tests' set-up), the processor settles it before this returns."""
    response = client.post("/investors/me/deposits", json={"amount": amount}, headers=auth | key())
    assert response.status_code == 201, response.text
    if settled:
        settle(client)
    return response.json()


def loan_body(amount: str = "5000.00", rate: str | None = None, term: int = 36, **extra: Any) -> dict[str, Any]:
    """A loan application: without `rate` it is priced at the grade's rate from the rate card."""
    body: dict[str, Any] = {
        "amount": amount,
        "term_months": term,
        "purpose": "debt consolidation",
        "credit_check_consent": True,
        **extra,
    }
    if rate is not None:
        body["interest_rate"] = rate
    return body


def create_loan(
    client: TestClient,
    auth: dict[str, str],
    amount: str = "5000.00",
    rate: str | None = None,
    term: int = 36,
    **extra: Any,
) -> dict[str, Any]:
    response = client.post("/loans/create", json=loan_body(amount, rate, term, **extra), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def invest(client: TestClient, auth: dict[str, str], loan_id: int, amount: str) -> Any:
    return client.post(f"/loans/{loan_id}/investments", json={"amount": amount}, headers=auth | key())


def make_staff(client: TestClient, username: str, role: str) -> dict[str, str]:
    """Staff cannot self-register: the first admin comes from the command line (`api.cli`), which
    calls the same service."""
    app = client.app
    with app.state.database.transaction() as session:  # type: ignore[attr-defined]
        users_service.register_user(
            session,
            app.state.settings,  # type: ignore[attr-defined]
            username=username,
            email=email_of(username),
            password=PASSWORD,
            role=role,
            client=ClientInfo(ip=None, user_agent="tests"),
        )
    return login(client, username)


def _graded(name: str, birth: str, income: str) -> dict[str, Any]:
    return {**SEED_PROFILE, "legal_name": name, "date_of_birth": birth, "annual_income": income}


# Identities the sandbox bureau and the pinned model grade so for a $2,000, 36-month debt consolidation loan
# (found by scoring candidates; the sandbox is deterministic per identity): a market with several grades.
GRADED_PROFILES = {
    "B": _graded("Test Person9", "1969-10-10", "30000.00"),
    "C": _graded("Test Person1", "1961-02-02", "45000.00"),
    "D": _graded("Test Person0", "1960-01-01", "68000.00"),
}
