"""Cash over HTTP: an investor's deposits, withdrawals and cash (available and pending)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from api.authz import Permission
from api.cash import service
from api.cash.schemas import CashPublic, CashTransferPublic, DepositCreate, TransferStatePublic, WithdrawalCreate
from api.deps import IdempotencyKey, ReadSessionDep, SessionDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.integrations.processor import repository as transfers_repo
from api.kit.routing import TransactionalRoute

router = APIRouter(tags=["investors"], route_class=TransactionalRoute)

CashMover = Annotated[Caller, Depends(require(Permission.CASH_MOVE))]
PortfolioOwner = Annotated[Caller, Depends(require(Permission.PORTFOLIO_OWN))]
MONEY_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "Not enough available cash, or the Idempotency-Key is in use"},
    422: {"description": "Invalid amount, or the Idempotency-Key was used for another request"},
}


def _public(transfer: service.Transfer) -> CashTransferPublic:
    return CashTransferPublic(
        transfer_id=transfer.transfer_id,
        direction=transfer.direction,
        amount=transfer.amount_cents,
        cash_balance=transfer.cash_after_cents,
        pending_cash=transfer.pending_cash_cents,
        status=transfer.status,
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
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Pull cash from the investor's bank through the payment processor. It is pending (not investable) until
    the processor settles it, two business days later, or returns it (R01 insufficient funds, ...)."""
    return idempotent(
        request,
        session,
        caller.user_id,
        idempotency_key,
        payload,
        lambda _key: _public(service.deposit(session, caller, payload.amount)),
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
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Send available cash back to the investor's bank through the payment processor. It leaves available cash
    at once; if the bank returns it, it comes back."""
    return idempotent(
        request,
        session,
        caller.user_id,
        idempotency_key,
        payload,
        lambda _key: _public(service.withdraw(session, caller, payload.amount)),
    )


@router.get("/investors/me/cash", response_model=CashPublic)
def cash(caller: PortfolioOwner, session: ReadSessionDep) -> CashPublic:
    """Available, pending and committed cash, and the investor's transfers with their processor status."""
    investor_id = caller.investor()
    found = service.balances(session, investor_id)
    return CashPublic(
        available=found.available_cents,
        pending=found.pending_cents,
        committed=found.committed_cents,
        transfers=[
            TransferStatePublic(
                transfer_id=t.cash_transfer_id or t.transfer_ref_id,
                kind=t.kind,
                amount=t.amount_cents,
                status="pending" if t.status in ("queued", "submitted") else t.status,
                return_code=t.return_code,
                requested_on=t.requested_on,
                settled_on=t.settled_on,
                returned_on=t.returned_on,
            )
            for t in transfers_repo.transfers_of_investor(session, investor_id)
        ],
    )
