"""Full funding: the moment a loan's notes add up to its amount it is funded, paid out to the
borrower, given its schedule, and everyone involved is told. All in the investing transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.clock import today, utcnow
from api.db.tables import CashTransfer, Installment, Investment, Investor, Loan
from api.domain import ledger
from api.domain.money import format_cents, format_rate
from api.domain.schedule import amortize
from api.processor.base import PaymentProcessor
from api.repositories import ledger as ledger_repo
from api.repositories import loans as loans_repo
from api.repositories import payments as payments_repo
from api.repositories import users as users_repo
from api.services.notifications import notify


def fund_and_disburse(session: Session, loan: Loan, processor: PaymentProcessor) -> None:
    """Caller holds the loan's row lock and has checked funded == amount."""
    now = utcnow()
    loan.status = "funded"
    loan.funded_at = now
    notes = loans_repo.notes_of_loan(session, loan.loan_id)

    # One disbursement per loan, ever: the key is the loan itself.
    reference = processor.payout(
        user_id=loan.borrower_id,
        amount_cents=loan.amount_cents,
        purpose="disbursement",
        idempotency_key=f"loan{loan.loan_id}:disbursement",
    )
    transfer = payments_repo.add_transfer(
        session,
        CashTransfer(
            user_id=loan.borrower_id,
            direction="disbursement",
            amount_cents=loan.amount_cents,
            processor_reference=reference,
            created_at=now,
        ),
    )
    ledger_repo.post_transaction(
        session,
        "disbursement",
        ledger.disbursement(loan.loan_id, [(n.investor_id, n.amount_cents) for n in notes]),
        f"loan {loan.loan_id} disbursed to borrower",
        loan_id=loan.loan_id,
        transfer_id=transfer.transfer_id,
    )

    plan = amortize(loan.amount_cents, loan.interest_rate_bps, loan.term_months, today())
    first_due = plan[0].due_date
    loans_repo.add_installments(
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
            )
            for row in plan
        ],
    )
    loan.status = "active"
    loan.disbursed_at = now
    loan.first_due_date = first_due
    _notify_funded(session, loan, notes_by_investor(notes), plan[0].payment_cents, first_due.isoformat())
    session.flush()


def notes_by_investor(notes: list[Investment]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for note in notes:
        totals[note.investor_id] = totals.get(note.investor_id, 0) + note.amount_cents
    return totals


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
    investors: list[Investor] = users_repo.get_investors(session, sorted(invested))
    for investor in investors:
        messages.append(
            (
                investor.user_id,
                "loan_funded",
                loan.loan_id,
                f"{label} is fully funded. Your ${format_cents(invested[investor.investor_id])} "
                f"note is now active and earns interest from today.",
            )
        )
    notify(session, messages)
