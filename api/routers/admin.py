from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminUser, SessionDep
from api.domain.money import format_cents
from api.repositories import ledger as ledger_repo
from api.schemas.money_movements import AccountBalancePublic, TrialBalancePublic

router = APIRouter(tags=["admin"], prefix="/admin")


@router.get("/ledger/trial-balance", response_model=TrialBalancePublic)
def trial_balance(user: AdminUser, session: SessionDep) -> TrialBalancePublic:
    """Every ledger account's balance (debits positive). The total is zero when the books balance."""
    rows = ledger_repo.trial_balance(session)
    return TrialBalancePublic(
        accounts=[AccountBalancePublic(code=c, account_type=t, balance=format_cents(b)) for c, t, b in rows],
        total=format_cents(sum(b for _, _, b in rows)),
        unbalanced_transactions=ledger_repo.unbalanced_transactions(session),
    )
