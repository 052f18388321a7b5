"""Test data made through the platform's own services and repositories, without HTTP and without
argon2 (every factory user shares one password hash computed once)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from api.cash import service as cash_service
from api.identity import repository as identity_repo
from api.identity.caller import Caller
from api.identity.security import hash_password
from api.integrations.bureau.base import CONSENT_VERSION, Consent
from api.integrations.processor import repository as processor_repo
from api.integrations.processor import settlement
from api.kit.clock import today
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Owner
from api.lending import service as lending_service
from api.lending.tables import Loan
from api.settings import Settings

PASSWORD = "factory-made-passphrase"
_serial = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"env": "test", "database_url": "sqlite://"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _caller(user_id: int, username: str, role: str, investor_id: int | None, verified: bool = True) -> Caller:
    return Caller(
        user_id=user_id,
        username=username,
        email=f"{username}@example.com",
        role=role,
        email_verified=verified,
        session_id="factory",
        investor_id=investor_id,
        created_at=datetime.now(UTC),
    )


def settled_deposit(session: Session, caller: Caller, cents: int) -> None:
    """A deposit the processor has settled: what its `transfer.settled` webhook does, applied in this session."""
    done = cash_service.deposit(session, caller, cents)
    transfer = processor_repo.by_client_reference(session, done.processor_reference)
    assert transfer is not None
    settlement.settle(session, settings(), transfer, today())


def investor(session: Session, *, cash_cents: int = 0) -> Caller:
    n = next(_serial)
    user = identity_repo.add_user(
        session, f"f_investor_{n}", f"f_investor_{n}@example.com", _password_hash(), "investor"
    )
    user.email_verified_at = datetime.now(UTC)
    account = identity_repo.add_investor(session, user)
    ledger_repo.open_accounts(session, Owner.INVESTOR, account.investor_id)
    caller = _caller(user.user_id, user.username, "investor", account.investor_id)
    if cash_cents:
        settled_deposit(session, caller, cash_cents)
    return caller


def borrower(session: Session, *, income_cents: int = 7_200_000) -> Caller:
    n = next(_serial)
    user = identity_repo.add_user(
        session, f"f_borrower_{n}", f"f_borrower_{n}@example.com", _password_hash(), "borrower"
    )
    user.email_verified_at = datetime.now(UTC)
    profile = identity_repo.get_or_create_profile(session, user.user_id)
    for field, value in {
        "legal_name": f"Factory Borrower {n}",
        "date_of_birth": date(1988, 3, 2),
        "address_line1": "4 Elm Road",
        "city": "Denver",
        "postal_code": "80202",
        "country": "US",
        "phone": "+13035550188",
        "annual_income_cents": income_cents,
        "employment_status": "employed",
        "employment_length_years": 5,
        "housing": "rent",
    }.items():
        setattr(profile, field, value)
    session.flush()
    return _caller(user.user_id, user.username, "borrower", None)


CONSENT = Consent(given_at=datetime(2026, 12, 1, tzinfo=UTC), text_version=CONSENT_VERSION, ip=None, user_agent=None)


def listing(
    session: Session,
    owner: Caller | None = None,
    *,
    amount_cents: int = 500_000,
    rate_bps: int | None = None,
    term_months: int = 36,
    config: Settings | None = None,
    purpose: str = "debt consolidation",
    accept_partial_funding: bool = False,
) -> Loan:
    """A listed loan, priced at its grade's rate unless `rate_bps` is given."""
    return lending_service.create_loan(
        session,
        config or settings(),
        owner or borrower(session),
        amount_cents=amount_cents,
        rate_bps=rate_bps,
        term_months=term_months,
        purpose=purpose,
        consent=CONSENT,
        accept_partial_funding=accept_partial_funding,
    )
