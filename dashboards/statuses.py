"""Loan statuses as people read them, for both of the API's vocabularies.

The API is moving from ``listed, funded, active, late, repaid, expired, cancelled, charged_off`` to the servicing
lifecycle ``requested, listed, funded, current, grace, late_16_30, late_31_120, charged_off, repaid, expired,
cancelled`` (``active`` becomes ``current``). Pages never compare status strings themselves: they ask for a
status's *phase* and *label* here, so either vocabulary (and a warehouse built before the switch) reads the same.

Phases, and what an investor's money is in each:
- ``committed``: raising funds or funded but not issued; the money is committed to the listing, not lent;
- ``performing``: issued and paid as scheduled; ``late``: issued and behind;
- ``repaid`` and ``charged_off``: closed; ``refunded``: the listing ended unfunded (expired, cancelled) and the
  committed money came back, so it was never invested.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal

Phase = Literal["committed", "performing", "late", "repaid", "charged_off", "refunded"]

PHASE_STATUSES: Final[MappingProxyType[str, frozenset[str]]] = MappingProxyType(
    {
        "committed": frozenset({"requested", "listed", "funded"}),
        "performing": frozenset({"active", "current"}),
        "late": frozenset({"late", "grace", "late_16_30", "late_31_120"}),
        "repaid": frozenset({"repaid"}),
        "charged_off": frozenset({"charged_off"}),
        "refunded": frozenset({"expired", "cancelled"}),
    }
)
PHASE_LABELS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "committed": "Raising funds",
        "performing": "Current",
        "late": "Late",
        "repaid": "Repaid",
        "charged_off": "Charged off",
        "refunded": "Ended unfunded",
    }
)
LABELS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "requested": "Requested",
        "listed": "Listed, raising funds",
        "funded": "Funded, being issued",
        "active": "Current",
        "current": "Current",
        "grace": "In grace period",
        "late": "Late",
        "late_16_30": "Late 16-30 days",
        "late_31_120": "Late 31-120 days",
        "charged_off": "Charged off",
        "repaid": "Repaid",
        "expired": "Expired unfunded",
        "cancelled": "Cancelled",
    }
)
# The warehouse's month-end states (fct_loan_states_monthly, fct_roll_rates), in the order of delinquency.
STATE_ORDER: Final[tuple[str, ...]] = (
    "current",
    "dpd_1_30",
    "dpd_31_60",
    "dpd_61_90",
    "dpd_91_120",
    "dpd_121_plus",
    "charged_off",
    "repaid",
)
STATE_LABELS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "current": "Current",
        "dpd_1_30": "1-30 days late",
        "dpd_31_60": "31-60 days late",
        "dpd_61_90": "61-90 days late",
        "dpd_91_120": "91-120 days late",
        "dpd_121_plus": "121+ days late",
        "charged_off": "Charged off",
        "repaid": "Repaid",
    }
)

_PHASE_OF: Final = {status: phase for phase, members in PHASE_STATUSES.items() for status in members}


def phase(status: str | None) -> Phase | None:
    """The phase of a loan status (either vocabulary); ``None`` for a status this app does not know yet."""
    return _PHASE_OF.get(status or "")  # type: ignore[return-value]


def label(status: str | None) -> str:
    """``"late_16_30"`` -> ``"Late 16-30 days"``; an unknown status is shown as it is, tidied."""
    if not status:
        return "—"
    return LABELS.get(status, status.replace("_", " ").capitalize())


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state.replace("_", " ").capitalize())


def is_open_for_investment(status: str | None) -> bool:
    return status == "listed"


def in_repayment(status: str | None) -> bool:
    return phase(status) in ("performing", "late")


def is_invested(status: str | None) -> bool:
    """The note's money went to a borrower (issued, whatever happened since): not merely committed to a
    listing, and not refunded from one that ended unfunded."""
    return phase(status) in ("performing", "late", "repaid", "charged_off")
