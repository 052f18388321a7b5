"""A market to load-test against, built through the platform's own services (not over HTTP, which would
take minutes): verified investors with cash, borrowers with complete profiles and listings, and a bearer
token per investor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from api.cash import service as cash_service
from api.identity import auth as auth_service
from api.identity import repository as identity_repo
from api.identity import service as identity_service
from api.identity.audit import ClientInfo
from api.identity.caller import Caller
from api.integrations.bureau.base import CONSENT_VERSION, Consent
from api.integrations.processor import jobs as processor_jobs
from api.kit.db import Database
from api.lending import service as lending_service
from api.settings import Settings

PASSWORD = "bench-marking-passphrase-2026"
CASH_PER_INVESTOR_CENTS = 100_000_000  # $1,000,000: the largest single deposit
LOAN_CENTS = 4_000_000  # $40,000: the largest loan, 1,600 notes of $25
CLIENT = ClientInfo(ip="127.0.0.1", user_agent="benchmarks")
CONSENT = Consent(given_at=datetime(2026, 12, 1, tzinfo=UTC), text_version=CONSENT_VERSION, ip=None, user_agent=None)


@dataclass(frozen=True)
class Market:
    investor_tokens: list[str]
    borrower_token: str
    spread_loans: list[int]
    hot_loans: list[int]


def _caller(user_id: int, username: str, role: str, investor_id: int | None) -> Caller:
    return Caller(
        user_id=user_id,
        username=username,
        email=f"{username}@example.com",
        role=role,
        email_verified=True,
        session_id="benchmarks",
        investor_id=investor_id,
        created_at=datetime.now(UTC),
    )


def build(settings: Settings, *, investors: int, spread_loans: int, hot_loans: int) -> Market:
    database = Database(settings.database_url)
    tokens: list[str] = []
    try:
        with database.transaction() as session:
            borrower, _, _ = identity_service.register_user(
                session,
                settings,
                username="bench_borrower",
                email="bench_borrower@example.com",
                password=PASSWORD,
                role="borrower",
                client=CLIENT,
            )
            borrower.email_verified_at = datetime.now(UTC)
            profile = identity_repo.get_or_create_profile(session, borrower.user_id)
            for field, value in {
                "legal_name": "Bench Borrower",
                "date_of_birth": date(1985, 5, 5),
                "address_line1": "1 Load Street",
                "city": "Austin",
                "postal_code": "78701",
                "country": "US",
                "phone": "+15125550100",
                "annual_income_cents": 9_000_000,
                "employment_status": "employed",
                "employment_length_years": 8,
                "housing": "mortgage",
            }.items():
                setattr(profile, field, value)
            borrower_caller = _caller(borrower.user_id, borrower.username, "borrower", None)
            loans = [
                lending_service.create_loan(
                    session,
                    settings,
                    borrower_caller,
                    amount_cents=LOAN_CENTS,
                    rate_bps=None,  # the grade's rate from the rate card (a fixed rate may sit under the floor)
                    term_months=36,
                    purpose="debt consolidation",
                    consent=CONSENT,
                ).loan_id
                for _ in range(spread_loans + hot_loans)
            ]
        for n in range(investors):
            with database.transaction() as session:
                user, investor, _ = identity_service.register_investor(
                    session,
                    settings,
                    username=f"bench_investor_{n}",
                    email=f"bench_investor_{n}@example.com",
                    password=PASSWORD,
                    client=CLIENT,
                )
                user.email_verified_at = datetime.now(UTC)
                caller = _caller(user.user_id, user.username, "investor", investor.investor_id)
                cash_service.deposit(session, caller, CASH_PER_INVESTOR_CENTS)
        # the deposits settle through the processor, as two business days would
        processor_jobs.settle_everything(database, processor_jobs.build_processor(settings, database), settings)
        for n in range(investors):
            with database.transaction() as session:
                issued = auth_service.login(session, settings, f"bench_investor_{n}", PASSWORD, CLIENT)
                tokens.append(issued.access_token)
        with database.transaction() as session:
            borrower_token = auth_service.login(session, settings, "bench_borrower", PASSWORD, CLIENT).access_token
    finally:
        database.dispose()
    return Market(tokens, borrower_token, loans[:spread_loans], loans[spread_loans:])
