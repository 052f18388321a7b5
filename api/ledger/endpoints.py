"""The ledger over HTTP: the trial balance, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.authz import Permission
from api.deps import ReadSessionDep, require
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.ledger import repository as repo
from api.ledger.schemas import AccountBalancePublic, BalanceMismatchPublic, TrialBalancePublic

router = APIRouter(tags=["admin"], prefix="/admin", route_class=TransactionalRoute)


@router.get("/ledger/trial-balance", response_model=TrialBalancePublic)
def trial_balance(
    _: Annotated[Caller, Depends(require(Permission.LEDGER_READ))], session: ReadSessionDep
) -> TrialBalancePublic:
    """Every ledger account's stored balance (debits positive). The total is zero when the books balance;
    `balance_mismatches` lists any account whose stored balance differs from the sum of its postings."""
    rows = repo.trial_balance(session)
    return TrialBalancePublic(
        accounts=[AccountBalancePublic(code=str(a), account_type=a.kind.value, balance=b) for a, b in rows],
        total=sum(b for _, b in rows),
        unbalanced_transactions=repo.unbalanced_transactions(session),
        balance_mismatches=[
            BalanceMismatchPublic(code=str(a), stored=stored, sum_of_postings=summed)
            for a, stored, summed in repo.balance_mismatches(session)
        ],
    )
