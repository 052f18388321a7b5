"""The loan lifecycle: one state machine, the only place that knows which status may follow which.

    requested --list--> listed --fund--> funded --issue--> current
                        listed --fund_partially--> funded       (at expiry, funded >= the threshold, borrower agreed)
                        listed --expire--> expired              (at expiry otherwise; every commitment released)
    requested|listed --cancel--> cancelled                      (the borrower withdraws)
    current --become_delinquent--> grace|late_16_30|late_31_120 (servicing: days past due 1-15, 16-30, 31-120)
    grace|late_* --become_delinquent--> a later bucket          (it may skip buckets when a replay catches up)
    grace|late_* --cure--> current or an earlier bucket          (a payment brought it (partly) up to date)
    current|grace|late_* --charge_off--> charged_off            (120 days past due, or written off earlier)
    current|grace|late_* --repay--> repaid                      (paid in full)
    repaid --reopen--> current|grace|late_*                     (the processor returned the payment that closed it)

"Issued" is the event between `funded` and `current` (disbursed, scheduled, everyone told), not a status:
a funded loan is always on its way to being issued, by the request that funded it or by the sweeper.

Services never compare status strings: they ask `transition` (which refuses what the table does not allow
with a 409 naming the state) or the questions below (`takes_investments`, `accepts_repayment`, ...). SQL
that needs a set of statuses builds it from here too, so the table stays the one source of truth. Each
transition is stored as a row of `loan_events` (api/lending/events.py) with its time and actor.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from api.kit.errors import Conflict


class LoanStatus(StrEnum):
    REQUESTED = "requested"
    LISTED = "listed"
    FUNDED = "funded"
    CURRENT = "current"
    GRACE = "grace"
    LATE_16_30 = "late_16_30"
    LATE_31_120 = "late_31_120"
    CHARGED_OFF = "charged_off"
    REPAID = "repaid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class LoanEvent(StrEnum):
    REQUEST = "request"  # the application arrives (no previous state)
    LIST = "list"
    FUND = "fund"
    FUND_PARTIALLY = "fund_partially"
    ISSUE = "issue"
    EXPIRE = "expire"
    CANCEL = "cancel"
    BECOME_DELINQUENT = "become_delinquent"
    CURE = "cure"
    CHARGE_OFF = "charge_off"
    REPAY = "repay"
    REOPEN = "reopen"


S = LoanStatus
E = LoanEvent

#: Delinquency buckets in order of days past due; servicing moves along them in both directions.
SERVICING_ORDER: Final[tuple[LoanStatus, ...]] = (S.CURRENT, S.GRACE, S.LATE_16_30, S.LATE_31_120)


def _servicing_moves() -> dict[tuple[LoanStatus, LoanEvent], frozenset[LoanStatus]]:
    moves: dict[tuple[LoanStatus, LoanEvent], frozenset[LoanStatus]] = {}
    for i, state in enumerate(SERVICING_ORDER):
        later, earlier = SERVICING_ORDER[i + 1 :], SERVICING_ORDER[:i]
        if later:
            moves[(state, E.BECOME_DELINQUENT)] = frozenset(later)
        if earlier:
            moves[(state, E.CURE)] = frozenset(earlier)
        moves[(state, E.CHARGE_OFF)] = frozenset({S.CHARGED_OFF})
        moves[(state, E.REPAY)] = frozenset({S.REPAID})
    return moves


#: (from, event) -> the statuses it may lead to. Anything not here is refused.
TRANSITIONS: Final[dict[tuple[LoanStatus, LoanEvent], frozenset[LoanStatus]]] = {
    (S.REQUESTED, E.LIST): frozenset({S.LISTED}),
    (S.REQUESTED, E.CANCEL): frozenset({S.CANCELLED}),
    (S.LISTED, E.FUND): frozenset({S.FUNDED}),
    (S.LISTED, E.FUND_PARTIALLY): frozenset({S.FUNDED}),
    (S.LISTED, E.EXPIRE): frozenset({S.EXPIRED}),
    (S.LISTED, E.CANCEL): frozenset({S.CANCELLED}),
    (S.FUNDED, E.ISSUE): frozenset({S.CURRENT}),
    **_servicing_moves(),
    (S.REPAID, E.REOPEN): frozenset(SERVICING_ORDER),
}

INITIAL: Final = S.REQUESTED
#: Where a loan ends: nothing follows but a processor's return reopening a repaid loan (days later, at most).
TERMINAL: Final[frozenset[LoanStatus]] = frozenset(
    s for s in LoanStatus if not any(origin is s and event is not E.REOPEN for origin, event in TRANSITIONS)
)

#: Statuses in which investors may buy (and cancel) notes: where the machine can still fund the loan.
OPEN_FOR_INVESTMENT: Final[frozenset[LoanStatus]] = frozenset(o for o, e in TRANSITIONS if e is E.FUND)
#: Issued and not closed: the loan is being repaid (payments, servicing).
IN_REPAYMENT: Final[frozenset[LoanStatus]] = frozenset(o for o, e in TRANSITIONS if e is E.REPAY)
#: Statuses that a listing's end (borrower cancellation or expiry) can leave.
CLOSABLE_LISTING: Final[frozenset[LoanStatus]] = frozenset(o for o, e in TRANSITIONS if e is E.EXPIRE)


class LoanStateConflict(Conflict):
    code = "loan_state_conflict"


def _describe(status: LoanStatus) -> str:
    return status.value.replace("_", " ")


def next_status(current: str, event: LoanEvent, target: LoanStatus | None = None) -> LoanStatus:
    """The status `event` moves a loan in `current` to (`target` picks one where the event allows several);
    a 409 naming the state when the machine does not allow it."""
    state = LoanStatus(current)
    allowed = TRANSITIONS.get((state, event))
    if not allowed:
        raise LoanStateConflict(f"the loan is {_describe(state)}; it cannot {event.value.replace('_', ' ')}")
    if target is None:
        if len(allowed) != 1:
            raise ValueError(f"{event} from {state} needs a target: one of {sorted(allowed)}")
        return next(iter(allowed))
    if target not in allowed:
        raise LoanStateConflict(
            f"the loan is {_describe(state)}; {event.value.replace('_', ' ')} cannot make it {_describe(target)}"
        )
    return target


def can(current: str, event: LoanEvent) -> bool:
    return (LoanStatus(current), event) in TRANSITIONS


def takes_investments(status: str) -> bool:
    return LoanStatus(status) in OPEN_FOR_INVESTMENT


def accepts_repayment(status: str) -> bool:
    """Payments are taken from an issued loan until it is repaid or charged off (for `api/payments`)."""
    return LoanStatus(status) in IN_REPAYMENT


def is_terminal(status: str) -> bool:
    return LoanStatus(status) in TERMINAL


def values(statuses: frozenset[LoanStatus]) -> tuple[str, ...]:
    """A status set as sorted strings, for SQL `IN (...)` built from the machine."""
    return tuple(sorted(s.value for s in statuses))


ALL_STATUSES: Final[tuple[str, ...]] = tuple(s.value for s in LoanStatus)
