from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse

from api.authz import Permission
from api.db.tables import User
from api.deps import IdempotencyKey, ProcessorDep, SessionDep, require
from api.domain.money import format_cents, parse_cents
from api.routers.idempotent import idempotent
from api.schemas.common import LoanIdPath
from api.schemas.money_movements import DistributionPublic, PaymentCreate, PaymentPublic
from api.services import loans as loans_service
from api.services import payments as payments_service

router = APIRouter(tags=["payments"])

Payer = Annotated[User, Depends(require(Permission.PAYMENT_MAKE))]
PaymentsReader = Annotated[User, Depends(require(Permission.LOAN_PAYMENTS))]


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
    user: Payer,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A borrower pays their loan. The payment pays installments oldest first, interest before
    principal, and is distributed to the note holders pro rata, exact to the cent."""

    def action(processor_key: str) -> PaymentPublic:
        result = payments_service.make_payment(
            session, processor, user, payload.loan_id, parse_cents(payload.amount), processor_key
        )
        p = result.payment
        return PaymentPublic(
            payment_id=p.payment_id,
            loan_id=p.loan_id,
            amount=format_cents(p.amount_cents),
            principal=format_cents(p.principal_cents),
            interest=format_cents(p.interest_cents),
            fees=format_cents(p.fees_cents),
            date=p.date,
            loan_status=result.loan.status,
            outstanding_principal=format_cents(result.outstanding_principal_cents),
            processor_reference=p.processor_reference,
            distributions=[
                DistributionPublic(
                    investment_id=d.investment_id,
                    investor_id=d.investor_id,
                    principal=format_cents(d.principal_cents),
                    interest=format_cents(d.interest_cents),
                )
                for d in result.distributions
            ],
        )

    return idempotent(request, session, user, idempotency_key, payload, action)


@router.get("/loans/{loan_id}/payments", response_model=list[PaymentPublic])
def list_payments(loan_id: LoanIdPath, user: PaymentsReader, session: SessionDep) -> list[PaymentPublic]:
    """The borrower's payments on their loan."""
    loan = loans_service.visible_loan(session, user, loan_id)
    return [
        PaymentPublic(
            payment_id=p.payment_id,
            loan_id=p.loan_id,
            amount=format_cents(p.amount_cents),
            principal=format_cents(p.principal_cents),
            interest=format_cents(p.interest_cents),
            fees=format_cents(p.fees_cents),
            date=p.date,
            loan_status=loan.status,
            processor_reference=p.processor_reference,
        )
        for p in payments_service.payments_of(session, loan)
    ]
