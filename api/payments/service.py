"""Borrower repayments and their distribution to note holders."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.integrations.processor.base import PaymentProcessor
from api.kit.clock import today, utcnow
from api.kit.errors import Conflict, NotFound
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import repository as loans_repo
from api.lending.tables import Loan
from api.payments import repository as repo
from api.payments.schedule import outstanding_principal
from api.payments.split import split_pro_rata
from api.payments.tables import Payment, PaymentDistribution
from api.payments.waterfall import InstallmentDue, PaymentExceedsBalance, apply_payment

REPAYABLE_STATUSES = ("active", "late")


class LoanNotRepayable(Conflict):
    code = "loan_not_repayable"


class PaymentTooLarge(Conflict):
    code = "payment_exceeds_balance"


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    loan: Loan
    distributions: list[PaymentDistribution]
    outstanding_principal_cents: int


def make_payment(
    session: Session, processor: PaymentProcessor, caller: Caller, loan_id: int, amount_cents: int, processor_key: str
) -> PaymentResult:
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    # Someone else's loan is reported as missing: its existence is private to its borrower.
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    if loan.status not in REPAYABLE_STATUSES:
        raise LoanNotRepayable(f"loan {loan_id} is {loan.status}; only active or late loans take payments")

    installments = repo.installments_of_loan(session, loan_id)
    dues = [
        InstallmentDue(
            number=i.number,
            principal_due_cents=i.principal_cents - i.paid_principal_cents,
            interest_due_cents=i.interest_cents - i.paid_interest_cents,
        )
        for i in installments
    ]
    try:
        applied = apply_payment(dues, amount_cents)
    except PaymentExceedsBalance as exc:
        raise PaymentTooLarge(
            f"payment of {format_cents(amount_cents)} exceeds the {format_cents(exc.outstanding_cents)} still owed"
        ) from None

    reference = processor.collect(
        user_id=caller.user_id, amount_cents=amount_cents, purpose=f"loan {loan_id}", idempotency_key=processor_key
    )
    now = utcnow()
    payment = repo.add_payment(
        session,
        Payment(
            loan_id=loan_id,
            payer_user_id=caller.user_id,
            amount_cents=amount_cents,
            principal_cents=applied.principal_cents,
            interest_cents=applied.interest_cents,
            fees_cents=0,
            processor_reference=reference,
            date=today(),
            created_at=now,
        ),
    )
    ledger_repo.post(
        session,
        "repayment",
        postings.repayment(loan_id, amount_cents),
        f"payment {payment.payment_id} on loan {loan_id}",
        loan_id=loan_id,
        payment_id=payment.payment_id,
    )
    distributions = _distribute(session, loan, payment)

    by_number = {i.number: i for i in installments}
    for part in applied.parts:
        installment = by_number[part.number]
        installment.paid_principal_cents += part.principal_cents
        installment.paid_interest_cents += part.interest_cents
        installment.updated_at = now
        if (
            installment.paid_principal_cents == installment.principal_cents
            and installment.paid_interest_cents == installment.interest_cents
        ):
            installment.paid_at = now
    outstanding = outstanding_principal((i.principal_cents, i.paid_principal_cents) for i in installments)
    if outstanding == 0:
        loan.status = "repaid"
        loan.closed_at = now
        loan.updated_at = now
    session.flush()
    return PaymentResult(payment, loan, distributions, outstanding)


def _distribute(session: Session, loan: Loan, payment: Payment) -> list[PaymentDistribution]:
    """Split principal and interest across the notes pro rata to each note's outstanding principal
    (see api/payments/split.py for the remainder rule): the parts sum exactly to the payment, and the
    payment that clears the loan gives every note exactly what it still had outstanding."""
    notes = loans_repo.notes_of_loan(session, loan.loan_id)
    received = repo.received_by_note(session, [n.investment_id for n in notes])
    weights = [n.amount_cents - received.get(n.investment_id, (0, 0))[0] for n in notes]
    if sum(weights) == 0:
        weights = [n.amount_cents for n in notes]
    principal_parts = split_pro_rata(payment.principal_cents, weights)
    interest_parts = split_pro_rata(payment.interest_cents, weights)
    distributions = [
        PaymentDistribution(
            payment_id=payment.payment_id,
            investment_id=note.investment_id,
            investor_id=note.investor_id,
            principal_cents=principal,
            interest_cents=interest,
        )
        for note, principal, interest in zip(notes, principal_parts, interest_parts, strict=True)
        if principal or interest
    ]
    repo.add_distributions(session, distributions)
    ledger_repo.post(
        session,
        "distribution",
        postings.distribution(
            loan.loan_id, [(d.investor_id, d.principal_cents, d.interest_cents) for d in distributions]
        ),
        f"payment {payment.payment_id} distributed to {len(distributions)} notes",
        loan_id=loan.loan_id,
        payment_id=payment.payment_id,
    )
    return distributions


def payments_of(session: Session, loan_id: int) -> list[Payment]:
    return repo.payments_of_loan(session, loan_id)
