"""Payments over HTTP: a borrower pays, and sees what was paid."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from api.authz import Permission
from api.deps import IdempotencyKey, ProcessorDep, ReadSessionDep, SessionDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import LoanIdPath
from api.lending import service as loans_service
from api.payments import service
from api.payments.schemas import DistributionPublic, PaymentCreate, PaymentPublic

router = APIRouter(tags=["payments"], route_class=TransactionalRoute)

Payer = Annotated[Caller, Depends(require(Permission.PAYMENT_MAKE))]
PaymentsReader = Annotated[Caller, Depends(require(Permission.LOAN_PAYMENTS))]


@router.post(
    "/payments/make",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentPublic,
    responses={
        404: {"description": "Unknown loan, or not the caller's loan"},
        409: {"description": "Loan not repayable or payment exceeds what is owed"},
    },
)
def make_payment(
    payload: PaymentCreate,
    request: Request,
    caller: Payer,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A borrower pays their loan. The payment pays installments oldest first, interest before
    principal, and is distributed to the note holders pro rata, exact to the cent."""

    def action(processor_key: str) -> PaymentPublic:
        result = service.make_payment(session, processor, caller, payload.loan_id, payload.amount, processor_key)
        p = result.payment
        return PaymentPublic(
            payment_id=p.payment_id,
            loan_id=p.loan_id,
            amount=p.amount_cents,
            principal=p.principal_cents,
            interest=p.interest_cents,
            fees=p.fees_cents,
            date=p.date,
            loan_status=result.loan.status,
            outstanding_principal=result.outstanding_principal_cents,
            processor_reference=p.processor_reference,
            distributions=[
                DistributionPublic(
                    investment_id=d.investment_id,
                    investor_id=d.investor_id,
                    principal=d.principal_cents,
                    interest=d.interest_cents,
                )
                for d in result.distributions
            ],
        )

    return idempotent(request, session, caller.user_id, idempotency_key, payload, action)


@router.get("/loans/{loan_id}/payments", response_model=list[PaymentPublic])
def list_payments(loan_id: LoanIdPath, caller: PaymentsReader, session: ReadSessionDep) -> list[PaymentPublic]:
    """The borrower's payments on their loan."""
    loan = loans_service.visible_loan(session, caller, loan_id)
    return [
        PaymentPublic(
            payment_id=p.payment_id,
            loan_id=p.loan_id,
            amount=p.amount_cents,
            principal=p.principal_cents,
            interest=p.interest_cents,
            fees=p.fees_cents,
            date=p.date,
            loan_status=loan.status,
            processor_reference=p.processor_reference,
        )
        for p in service.payments_of(session, loan_id)
    ]
