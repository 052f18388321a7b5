"""Issuing a funded loan: paid out to the borrower less the origination fee, given its schedule (on the amount
lent), and the borrower and every investor told on every channel (feed, email, webhooks).

It runs in its own transaction, after the commitment that funded the loan committed (or after the expiry that
funded it partially), and takes the loan's row lock first and the accounts in the ledger's lock order. It is
idempotent: a loan is issued only while the machine allows `issue` (it is `funded`), so the sweeper (the
worker's `issue_funded` job, or `python -m api.cli issue-funded`) can finish whatever a crash left between the
two transactions, and the notices, written in this same transaction with unique dedupe keys, are enqueued
exactly once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.cash import repository as cash_repo
from api.identity import repository as identity_repo
from api.integrations.processor import outbox
from api.kit.clock import today, utcnow
from api.kit.db import Database
from api.kit.money import format_cents, format_rate
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import events, lifecycle
from api.lending import repository as repo
from api.lending.events import Actor
from api.lending.lifecycle import LoanEvent
from api.lending.tables import Loan
from api.notifications.service import Notice, announce
from api.payments import repository as payments_repo
from api.payments.schedule import amortize
from api.payments.tables import Installment

ISSUER = Actor.system("issuance")


def issue_funded_loan(database: Database, loan_id: int) -> bool:
    with database.transaction() as session:
        return issue(session, loan_id)


def issue(session: Session, loan_id: int, actor: Actor = ISSUER) -> bool:
    """Issue the loan if it is funded and not yet issued; False if there was nothing to do."""
    loan = repo.get_loan(session, loan_id, lock=True)
    if loan is None or not lifecycle.can(loan.status, LoanEvent.ISSUE):
        return False
    now = utcnow()
    notes = repo.notes_of_loan(session, loan.loan_id)
    fee = loan.origination_fee_cents
    paid_out = loan.amount_cents - fee
    # One disbursement per loan, ever: issuing happens once (the state machine), and the outbox row written
    # here, with the ledger's entry, is what the worker submits to the processor.
    reference = outbox.new_reference()
    transfer_id = cash_repo.add_transfer(
        session,
        user_id=loan.borrower_id,
        direction="disbursement",
        amount_cents=paid_out,
        reference=reference,
        created_at=now,
    )
    outbox.enqueue(
        session,
        client_reference=reference,
        kind="disbursement",
        direction="payout",
        user_id=loan.borrower_id,
        amount_cents=paid_out,
        loan_id=loan.loan_id,
        cash_transfer_id=transfer_id,
    )
    ledger_repo.post(
        session,
        "disbursement",
        postings.issuance(loan.loan_id, [(n.investor_id, n.amount_cents) for n in notes], fee),
        f"loan {loan.loan_id} disbursed to borrower, origination fee {format_cents(fee)} kept",
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
    repo.end_commitments(session, loan.loan_id, "issued")
    loan.disbursed_at = now
    loan.first_due_date = plan[0].due_date
    events.transition(session, loan, LoanEvent.ISSUE, actor, details={"disbursed_cents": paid_out, "fee_cents": fee})
    invested: dict[int, int] = {}
    for note in notes:
        invested[note.investor_id] = invested.get(note.investor_id, 0) + note.amount_cents
    _announce_funded(session, loan, invested, plan[0].payment_cents, plan[0].due_date.isoformat())
    session.flush()
    return True


def issue_all_funded(database: Database) -> list[int]:
    """The sweeper: issue every loan left funded (a crash between funding and issuance)."""
    with database.transaction(write=False) as session:
        waiting = repo.funded_not_issued(session)
    return [loan_id for loan_id in waiting if issue_funded_loan(database, loan_id)]


def _announce_funded(
    session: Session, loan: Loan, invested: dict[int, int], first_payment_cents: int, first_due: str
) -> None:
    label = (
        f"Loan #{loan.loan_id} (${format_cents(loan.amount_cents)} at {format_rate(loan.interest_rate_bps)}% "
        f"for {loan.term_months} months)"
    )
    partial = loan.amount_cents < loan.requested_amount_cents
    how = (
        f"funded (partially: ${format_cents(loan.amount_cents)} of ${format_cents(loan.requested_amount_cents)})"
        if (partial)
        else "fully funded"
    )
    fee_text = (
        f"${format_cents(loan.amount_cents - loan.origination_fee_cents)} (the amount less the "
        f"${format_cents(loan.origination_fee_cents)} origination fee) has been sent to your bank account"
        if loan.origination_fee_cents
        else f"${format_cents(loan.amount_cents)} has been sent to your bank account"
    )
    data = {
        "loan_id": loan.loan_id,
        "amount": format_cents(loan.amount_cents),
        "requested_amount": format_cents(loan.requested_amount_cents),
        "interest_rate": format_rate(loan.interest_rate_bps),
        "apr": format_rate(loan.apr_bps),
        "term_months": loan.term_months,
        "grade": loan.grade,
        "status": loan.status,
    }
    notices = [
        Notice(
            user_id=loan.borrower_id,
            subject=f"Your Peerlend loan #{loan.loan_id} is funded",
            text=f"{label} is {how} and {fee_text}. Your first payment of "
            f"${format_cents(first_payment_cents)} is due on {first_due}.",
            data={
                **data,
                "role": "borrower",
                "disbursed_amount": format_cents(loan.amount_cents - loan.origination_fee_cents),
            },
        )
    ]
    users = identity_repo.investor_user_ids(session, sorted(invested))
    for investor_id in sorted(invested):
        notices.append(
            Notice(
                user_id=users[investor_id],
                subject=f"Loan #{loan.loan_id} is funded: your note is active",
                text=f"{label} is {how}. Your ${format_cents(invested[investor_id])} "
                "note is now active and earns interest from today.",
                data={**data, "role": "investor", "note_amount": format_cents(invested[investor_id])},
            )
        )
    announce(session, event="loan.funded", kind="loan_funded", loan_id=loan.loan_id, notices=notices)
