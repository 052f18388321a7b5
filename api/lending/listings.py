"""The end of a listing: the borrower cancels it, or its time runs out.

At expiry (PEERLEND_LISTING_DAYS after listing, 14 by default) a listing funded to at least
PEERLEND_PARTIAL_FUNDING_THRESHOLD_PCT of its amount (70 %, as Prosper does) whose borrower accepted partial
funding is funded at what it raised: re-priced on the amount lent (fee, APR, expected loss, payment, from the
rate card that priced it) and issued right after. Any other listing expires: every investor's committed cash
goes back to their available cash in one balanced ledger transaction and everyone is told.

Each listing is handled in its own transaction under its row lock, taken with SKIP LOCKED on PostgreSQL so two
workers share the due listings instead of queueing on them; the machine allows `expire`/`fund_partially` only
from `listed`, so a listing ends exactly once whoever runs the job, and however often."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.identity import repository as identity_repo
from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.db import Database
from api.kit.errors import NotFound
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import events, lifecycle, pricing
from api.lending import repository as repo
from api.lending.events import Actor
from api.lending.issuance import issue_funded_loan
from api.lending.lifecycle import LoanEvent
from api.lending.tables import Loan
from api.notifications.service import Notice, announce
from api.payments.schedule import monthly_payment_cents
from api.settings import Settings

EXPIRY = Actor.system("listing-expiry")


@dataclass
class ExpiryReport:
    expired: list[int] = field(default_factory=list)
    funded_partially: list[int] = field(default_factory=list)
    issued: list[int] = field(default_factory=list)


def cancel(session: Session, caller: Caller, loan_id: int) -> Loan:
    loan = repo.get_loan(session, loan_id, lock=True)
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    if not lifecycle.can(loan.status, LoanEvent.CANCEL):
        raise lifecycle.LoanStateConflict(f"loan {loan_id} is {loan.status}; only a listed loan can be cancelled")
    _close(session, loan, LoanEvent.CANCEL, Actor.of(caller))
    return loan


def expire_due(database: Database, settings: Settings, *, limit: int = 500) -> ExpiryReport:
    """End every listing whose time is up, each in its own transaction; issue the partially funded ones."""
    report = ExpiryReport()
    now = utcnow()
    with database.transaction(write=False) as session:
        candidates = repo.due_for_expiry(session, now, limit)
    for loan_id in candidates:
        with database.transaction() as session:
            loan = repo.get_loan(session, loan_id, lock=True, skip_locked=not database.sqlite)
            # Re-checked under the lock: another worker (or the borrower) may have ended it meanwhile.
            if loan is None or not lifecycle.can(loan.status, LoanEvent.EXPIRE):
                continue
            if loan.listing_expires_at is None or _utc(loan.listing_expires_at) > now:
                continue
            if _fund_partially(session, settings, loan):
                report.funded_partially.append(loan_id)
            else:
                _close(session, loan, LoanEvent.EXPIRE, EXPIRY)
                report.expired.append(loan_id)
    for loan_id in report.funded_partially:
        if issue_funded_loan(database, loan_id):
            report.issued.append(loan_id)
    return report


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fund_partially(session: Session, settings: Settings, loan: Loan) -> bool:
    """Fund the listing at what it raised, if it may be; False if it must expire instead."""
    threshold = loan.requested_amount_cents * settings.partial_funding_threshold_pct
    if not loan.accepts_partial_funding or loan.funded_amount_cents * 100 < threshold or loan.funded_amount_cents <= 0:
        return False
    amount = loan.funded_amount_cents
    card = pricing.RATE_CARDS.get(loan.rate_card_version or "")
    fee = pricing.origination_fee_cents(amount, loan.origination_fee_bps)
    loan.amount_cents = amount
    loan.funded_bps = 10_000
    loan.origination_fee_cents = fee
    loan.apr_bps = pricing.apr_bps(amount, fee, loan.interest_rate_bps, loan.term_months)
    loan.expected_loss_cents = pricing.expected_loss_cents(amount, loan.probability_of_default_ppm)
    loan.monthly_payment_cents = monthly_payment_cents(amount, loan.interest_rate_bps, loan.term_months)
    loan.funded_at = utcnow()
    events.transition(
        session,
        loan,
        LoanEvent.FUND_PARTIALLY,
        EXPIRY,
        details={
            "requested_cents": loan.requested_amount_cents,
            "funded_cents": amount,
            "threshold_pct": settings.partial_funding_threshold_pct,
            "rate_card_version": card.version if card else None,
        },
    )
    session.flush()
    return True


def _close(session: Session, loan: Loan, event: LoanEvent, actor: Actor) -> None:
    committed = repo.committed_by_investor(session, loan.loan_id)
    status = lifecycle.next_status(loan.status, event).value
    if committed:
        ledger_repo.post(
            session,
            "commitment_release",
            postings.commitment_release(sorted(committed.items())),
            f"loan {loan.loan_id} {status}: commitments returned",
            loan_id=loan.loan_id,
        )
    repo.end_commitments(session, loan.loan_id, "released")
    loan.closed_at = utcnow()
    events.transition(session, loan, event, actor, details={"released_cents": sum(committed.values())})
    users = identity_repo.investor_user_ids(session, sorted(committed))
    label = f"Loan #{loan.loan_id} (${format_cents(loan.amount_cents)})"
    data = {"loan_id": loan.loan_id, "status": status, "amount": format_cents(loan.amount_cents)}
    notices = [
        Notice(
            user_id=loan.borrower_id,
            subject=f"Your Peerlend listing #{loan.loan_id} was {status}",
            text=f"{label} was {status} before it was fully funded.",
            data={**data, "role": "borrower"},
        )
    ] + [
        Notice(
            user_id=users[investor_id],
            subject=f"Loan #{loan.loan_id} was {status}: your cash is back",
            text=f"{label} was {status} before it was fully funded; "
            f"${format_cents(amount)} is back in your available cash.",
            data={**data, "role": "investor", "released_amount": format_cents(amount)},
        )
        for investor_id, amount in sorted(committed.items())
    ]
    announce(session, event=f"loan.{status}", kind=f"loan_{status}", loan_id=loan.loan_id, notices=notices)
    session.flush()
