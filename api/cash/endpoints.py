"""Cash over HTTP: an investor's deposits and withdrawals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from api.authz import Permission
from api.cash import service
from api.cash.schemas import CashTransferPublic, DepositCreate, WithdrawalCreate
from api.deps import IdempotencyKey, ProcessorDep, SessionDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute

router = APIRouter(tags=["investors"], route_class=TransactionalRoute)

CashMover = Annotated[Caller, Depends(require(Permission.CASH_MOVE))]
MONEY_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "Not enough cash, or the Idempotency-Key is in use"},
    422: {"description": "Invalid amount, or the Idempotency-Key was used for another request"},
}


def _public(transfer: service.Transfer) -> CashTransferPublic:
    return CashTransferPublic(
        transfer_id=transfer.transfer_id,
        direction=transfer.direction,
        amount=transfer.amount_cents,
        cash_balance=transfer.cash_after_cents,
        processor_reference=transfer.processor_reference,
        created_at=transfer.created_at,
    )


@router.post(
    "/investors/me/deposits",
    status_code=status.HTTP_201_CREATED,
    response_model=CashTransferPublic,
    responses=MONEY_RESPONSES,
)
def deposit(
    payload: DepositCreate,
    request: Request,
    caller: CashMover,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Move cash from the investor's bank into their platform cash (through the payment processor)."""
    return idempotent(
        request,
        session,
        caller.user_id,
        idempotency_key,
        payload,
        lambda key: _public(service.deposit(session, processor, caller, payload.amount, key)),
    )


@router.post(
    "/investors/me/withdrawals",
    status_code=status.HTTP_201_CREATED,
    response_model=CashTransferPublic,
    responses=MONEY_RESPONSES,
)
def withdraw(
    payload: WithdrawalCreate,
    request: Request,
    caller: CashMover,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Send available cash back to the investor's bank (through the payment processor)."""
    return idempotent(
        request,
        session,
        caller.user_id,
        idempotency_key,
        payload,
        lambda key: _public(service.withdraw(session, processor, caller, payload.amount, key)),
    )
