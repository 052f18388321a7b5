"""Payments over HTTP: a borrower pays any amount, sees what it paid, what closes the loan, and the loan's
servicing (balance, next due, late fees with their reasons)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.authz import Permission
from api.deps import IdempotencyKey, ReadSessionDep, SessionDep, SettingsDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import LoanIdPath
from api.lending import service as loans_service
from api.payments import service
from api.payments.schemas import (
    DistributionPublic,
    LateFeePublic,
    PaymentCreate,
    PaymentPublic,
    PayoffQuote,
    RefundCreate,
    RefundPublic,
    ServicingPublic,
)
from api.payments.tables import Payment

router = APIRouter(tags=["payments"], route_class=TransactionalRoute)

Payer = Annotated[Caller, Depends(require(Permission.PAYMENT_MAKE))]
PaymentsReader = Annotated[Caller, Depends(require(Permission.LOAN_PAYMENTS))]


def _public(p: Payment, loan_status: str, money: str | None = None) -> PaymentPublic:
    """`status` as the borrower reads it: pending while the debit has not settled, settled, returned, or
    superseded (re-applied as a new payment after an earlier one was returned)."""
    status = p.status if p.status != "settled" or money in (None, "settled") else "pending"
    return PaymentPublic(
        payment_id=p.payment_id,
        loan_id=p.loan_id,
        amount=p.amount_cents,
        principal=p.principal_cents,
        interest=p.interest_cents,
        fees=p.fees_cents,
        prepayment=p.prepayment_cents,
        recovery=p.recovery_cents,
        excess=p.excess_cents,
        servicing_fee=p.servicing_fee_cents,
        status=status,
        return_code=p.return_code,
        date=p.date,
        loan_status=loan_status,
        processor_reference=p.processor_reference,
    )


@router.post(
    "/payments/make",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentPublic,
    responses={
        404: {"description": "Unknown loan, or not the caller's loan"},
        409: {"description": "Loan not in repayment"},
    },
)
def make_payment(
    payload: PaymentCreate,
    request: Request,
    caller: Payer,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A borrower pays any amount, debited from their bank through the payment processor (`status` is
    `pending` until it settles, two business days later; a return, such as R01 insufficient funds, reverses
    it and the loan is serviced as if it never came). The waterfall: late fees, then interest accrued to today,
    then principal due, then prepayment of principal (which shortens the term); beyond everything owed is held for the
    borrower. It is distributed to the note holders pro rata to outstanding principal, exact to the cent, less
    the platform's servicing fee."""

    def action(_key: str) -> PaymentPublic:
        result = service.make_payment(session, caller, payload.loan_id, payload.amount, settings)
        body = _public(result.payment, result.loan.status, "pending")
        body.outstanding_principal = result.outstanding_principal_cents
        body.payoff = result.payoff_cents
        body.distributions = [
            DistributionPublic(
                investment_id=d.investment_id,
                investor_id=d.investor_id,
                principal=d.principal_cents,
                interest=d.interest_cents,
                fees=d.fees_cents,
                recovery=d.recovery_cents,
                servicing_fee=d.servicing_fee_cents,
            )
            for d in result.distributions
        ]
        return body

    return idempotent(request, session, caller.user_id, idempotency_key, payload, action)


@router.get("/loans/{loan_id}/payments", response_model=list[PaymentPublic])
def list_payments(loan_id: LoanIdPath, caller: PaymentsReader, session: ReadSessionDep) -> list[PaymentPublic]:
    """The borrower's payments on their loan."""
    loan = loans_service.visible_loan(session, caller, loan_id)
    money = service.debit_states(session, loan_id)
    return [_public(p, loan.status, money.get(p.transfer_ref_id or 0)) for p in service.payments_of(session, loan_id)]


@router.get(
    "/loans/{loan_id}/payoff",
    response_model=PayoffQuote,
    responses={404: {"description": "Unknown loan"}, 409: {"description": "Not issued"}},
)
def payoff(
    loan_id: LoanIdPath,
    caller: PaymentsReader,
    session: ReadSessionDep,
    settings: SettingsDep,
    on: Annotated[date | None, Query(alias="date", description="Quote date (default today)")] = None,
) -> PayoffQuote:
    """The exact amount that closes the loan on that date (no other payment assumed until then): late fees,
    interest accrued to that day, and the outstanding principal."""
    loan, result = service.payoff(session, caller, loan_id, on, settings)
    fees = result.state.fees_cents if result.payoff_cents else 0
    principal = result.state.principal_cents if result.payoff_cents else 0
    return PayoffQuote(
        loan_id=loan_id,
        date=result.as_of,
        payoff=result.payoff_cents,
        principal=principal,
        interest=result.payoff_cents - fees - principal,
        fees=fees,
        loan_status=loan.status,
    )


@router.get("/loans/{loan_id}/servicing", response_model=ServicingPublic)
def servicing_view(
    loan_id: LoanIdPath, caller: PaymentsReader, session: ReadSessionDep, settings: SettingsDep
) -> ServicingPublic:
    """The borrower's loan as its servicer sees it today: balance, next due date and amount, payoff, payment
    history with each payment's waterfall, and late fees with their reasons."""
    view = service.borrower_view(session, caller, loan_id, settings)
    r = view.result
    closed = r.payoff_cents == 0
    principal = 0 if closed else r.state.principal_cents
    fees = 0 if closed else r.state.fees_cents
    return ServicingPublic(
        loan_id=loan_id,
        as_of=r.as_of,
        loan_status=view.loan.status,
        days_past_due=r.days_past_due,
        principal=principal,
        interest=r.payoff_cents - principal - fees,
        fees=fees,
        past_due=r.past_due_cents,
        next_due_date=r.next_due_date,
        next_due=r.next_due_cents,
        payoff=r.payoff_cents,
        held_for_borrower=view.held_cents,
        installments_paid=r.installments_paid,
        payments=[_public(p, view.loan.status, view.debits.get(p.transfer_ref_id or 0)) for p in view.payments],
        late_fees=[
            LateFeePublic(
                installment=f.installment_number, assessed_on=f.assessed_on, amount=f.amount_cents, reason=f.reason
            )
            for f in view.fees
        ],
    )


@router.post(
    "/loans/{loan_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundPublic,
    responses={404: {"description": "Unknown loan, or not the caller's loan"}, 409: {"description": "No credit"}},
)
def refund(
    loan_id: LoanIdPath,
    payload: RefundCreate,
    request: Request,
    caller: Payer,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Send money held for the borrower (paid beyond what the loan owed) back to their bank through the
    processor; without `amount`, all of it."""

    def action(_key: str) -> RefundPublic:
        done = service.refund(session, caller, loan_id, payload.amount, settings)
        return RefundPublic(
            loan_id=done.loan_id,
            amount=done.amount_cents,
            held_for_borrower=done.held_after_cents,
            processor_reference=done.reference,
            status="pending",
        )

    return idempotent(request, session, caller.user_id, idempotency_key, payload, action)
