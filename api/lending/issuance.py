"""Issuing a fully funded loan: paid out to the borrower, given its schedule, and everyone involved is told.

It runs in its own transaction, after the investment that completed the loan committed, and takes the
loan's row lock first and the accounts in the ledger's lock order. It is idempotent: a loan is issued
only while it is `funded`, so the sweeper (`python -m api.cli issue-funded`) can finish whatever a crash
left between the two transactions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.cash import repository as cash_repo
from api.identity import repository as identity_repo
from api.integrations.processor.base import PaymentProcessor
from api.kit.clock import today, utcnow
from api.kit.db import Database
from api.kit.money import format_cents, format_rate
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import repository as repo
from api.lending.tables import Loan
from api.notifications.service import notify
from api.payments import repository as payments_repo
from api.payments.schedule import amortize
from api.payments.tables import Installment


def issue_funded_loan(database: Database, processor: PaymentProcessor, loan_id: int) -> bool:
    with database.transaction() as session:
        return issue(session, processor, loan_id)


def issue(session: Session, processor: PaymentProcessor, loan_id: int) -> bool:
    """Issue the loan if it is funded and not yet issued; False if there was nothing to do."""
    loan = repo.get_loan(session, loan_id, lock=True)
    if loan is None or loan.status != "funded":
        return False
    now = utcnow()
    notes = repo.notes_of_loan(session, loan.loan_id)
    # One disbursement per loan, ever: the key is the loan itself.
    reference = processor.payout(
        user_id=loan.borrower_id,
        amount_cents=loan.amount_cents,
        purpose="disbursement",
        idempotency_key=f"loan{loan.loan_id}:disbursement",
    )
    transfer_id = cash_repo.add_transfer(
        session,
        user_id=loan.borrower_id,
        direction="disbursement",
        amount_cents=loan.amount_cents,
        reference=reference,
        created_at=now,
    )
    ledger_repo.post(
        session,
        "disbursement",
        postings.disbursement(loan.loan_id, [(n.investor_id, n.amount_cents) for n in notes]),
        f"loan {loan.loan_id} disbursed to borrower",
        loan_id=loan.loan_id,
        transfer_id=transfer_id,
    )
    plan = amortize(loan.amount_cents, loan.interest_rate_bps, loan.term_months, today())
    payments_repo.add_installments(
        session,
        [
            Installment(
                loan_id=loan.loan_id,
                number=row.number,
                due_date=row.due_date,
                payment_cents=row.payment_cents,
                principal_cents=row.principal_cents,
                interest_cents=row.interest_cents,
                balance_after_cents=row.balance_after_cents,
                paid_principal_cents=0,
                paid_interest_cents=0,
                updated_at=now,
            )
            for row in plan
        ],
    )
    loan.status = "active"
    loan.disbursed_at = now
    loan.first_due_date = plan[0].due_date
    loan.updated_at = now
    invested: dict[int, int] = {}
    for note in notes:
        invested[note.investor_id] = invested.get(note.investor_id, 0) + note.amount_cents
    _notify_funded(session, loan, invested, plan[0].payment_cents, plan[0].due_date.isoformat())
    session.flush()
    return True


def issue_all_funded(database: Database, processor: PaymentProcessor) -> list[int]:
    """The sweeper: issue every loan left funded (a crash between funding and issuance)."""
    with database.transaction(write=False) as session:
        waiting = repo.funded_not_issued(session)
    return [loan_id for loan_id in waiting if issue_funded_loan(database, processor, loan_id)]


def _notify_funded(
    session: Session, loan: Loan, invested: dict[int, int], first_payment_cents: int, first_due: str
) -> None:
    label = (
        f"Loan #{loan.loan_id} (${format_cents(loan.amount_cents)} at {format_rate(loan.interest_rate_bps)}% "
        f"for {loan.term_months} months)"
    )
    messages: list[tuple[int, str, int | None, str]] = [
        (
            loan.borrower_id,
            "loan_funded",
            loan.loan_id,
            f"{label} is fully funded and ${format_cents(loan.amount_cents)} has been sent to your bank account. "
            f"Your first payment of ${format_cents(first_payment_cents)} is due on {first_due}.",
        )
    ]
    users = identity_repo.investor_user_ids(session, sorted(invested))
    for investor_id in sorted(invested):
        messages.append(
            (
                users[investor_id],
                "loan_funded",
                loan.loan_id,
                f"{label} is fully funded. Your ${format_cents(invested[investor_id])} "
                f"note is now active and earns interest from today.",
            )
        )
    notify(session, messages)
