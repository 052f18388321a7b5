from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status
from fastapi.responses import JSONResponse

from api.authz import Permission
from api.db.tables import CashTransfer, User
from api.deps import (
    ClientDep,
    IdempotencyKey,
    MailerDep,
    ProcessorDep,
    Public,
    SessionDep,
    SettingsDep,
    rate_limited,
    require,
)
from api.domain.money import format_cents, format_rate, parse_cents
from api.routers.idempotent import idempotent
from api.routers.mail import send_later
from api.schemas.money_movements import (
    CashTransferPublic,
    DepositCreate,
    NotePublic,
    PortfolioPublic,
    WithdrawalCreate,
)
from api.schemas.users import InvestorPublic, InvestorRegister
from api.services import cash as cash_service
from api.services import portfolio as portfolio_service
from api.services import users as users_service

router = APIRouter(tags=["investors"])


CashMover = Annotated[User, Depends(require(Permission.CASH_MOVE))]
PortfolioOwner = Annotated[User, Depends(require(Permission.PORTFOLIO_OWN))]


@router.post(
    "/investors/register",
    status_code=status.HTTP_201_CREATED,
    response_model=InvestorPublic,
    dependencies=[Public, Depends(rate_limited("register"))],
)
def register_investor(
    payload: InvestorRegister,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> InvestorPublic:
    """Create a user with the investor role and its investor account (portfolio starts at zero), and
    email a verification link."""
    user, email = users_service.register_user(
        session,
        settings,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
        role="investor",
        client=client,
    )
    send_later(background, mailer, email)
    investor = users_service.investor_of(session, user)
    assert investor is not None
    return InvestorPublic(
        investor_id=investor.investor_id,
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        role=user.role,
        portfolio_value=format_cents(portfolio_service.portfolio_value_cents(session, investor.investor_id)),
        created_at=investor.created_at,
    )


MONEY_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "Not enough cash, or the Idempotency-Key is in use"},
    422: {"description": "Invalid amount, or the Idempotency-Key was used for another request"},
}


def _transfer_public(transfer: CashTransfer, cash_cents: int) -> CashTransferPublic:
    return CashTransferPublic(
        transfer_id=transfer.transfer_id,
        direction=transfer.direction,
        amount=format_cents(transfer.amount_cents),
        cash_balance=format_cents(cash_cents),
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
    user: CashMover,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Move cash from the investor's bank into their platform cash (through the payment processor)."""
    return idempotent(
        request,
        session,
        user,
        idempotency_key,
        payload,
        lambda pkey: _transfer_public(
            *cash_service.deposit(session, processor, user, parse_cents(payload.amount), pkey)
        ),
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
    user: CashMover,
    session: SessionDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send available cash back to the investor's bank (through the payment processor)."""
    return idempotent(
        request,
        session,
        user,
        idempotency_key,
        payload,
        lambda pkey: _transfer_public(
            *cash_service.withdraw(session, processor, user, parse_cents(payload.amount), pkey)
        ),
    )


@router.get("/investors/me/portfolio", response_model=PortfolioPublic)
def portfolio(user: PortfolioOwner, session: SessionDep) -> PortfolioPublic:
    """Cash, committed cash, notes, outstanding principal and what has been received."""
    p = portfolio_service.portfolio_of(session, user)
    return PortfolioPublic(
        investor_id=p.investor.investor_id,
        username=p.investor.username,
        cash=format_cents(p.cash_cents),
        committed=format_cents(p.committed_cents),
        outstanding_principal=format_cents(p.outstanding_principal_cents),
        interest_received=format_cents(p.interest_received_cents),
        principal_received=format_cents(p.principal_received_cents),
        portfolio_value=format_cents(p.portfolio_value_cents),
        notes=[
            NotePublic(
                investment_id=n.investment.investment_id,
                loan_id=n.loan.loan_id,
                amount=format_cents(n.investment.amount_cents),
                grade=n.loan.grade,
                interest_rate=format_rate(n.loan.interest_rate_bps),
                loan_status=n.loan.status,
                principal_received=format_cents(n.principal_received_cents),
                interest_received=format_cents(n.interest_received_cents),
                outstanding_principal=format_cents(n.outstanding_principal_cents),
                created_at=n.investment.created_at,
            )
            for n in p.notes
        ],
    )
