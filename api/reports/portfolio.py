"""An investor's portfolio: balances from the ledger's accounts, notes with what each has received, and returns
(NAR per note and for the portfolio, LendingClub's formula in api/reports/returns.py; XIRR with pyxirr).

Note months for NAR: month m of a note runs from its loan's disbursement date + m months to + m+1 months; its
principal outstanding is the note's amount less principal received and written off before the month starts;
the month's interest, late fees, recoveries and servicing fees are those of payments dated in it, and a
charge-off counts its written-off principal in the month it happened. XIRR's flows are the note's purchase
(negative, on disbursement), every net distribution, and, for a note still outstanding, its outstanding
principal at par today (so a performing note's XIRR is comparable with its NAR)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.clock import today
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import repository as loans_repo
from api.lending.lifecycle import LoanStatus
from api.lending.tables import Investment, Loan
from api.reports import repository as repo
from api.reports.returns import NoteMonth, net_annualized_return, xirr

LATE = frozenset({LoanStatus.GRACE, LoanStatus.LATE_16_30, LoanStatus.LATE_31_120})

Flow = tuple[date, int, int, int, int, int]  # date, principal, interest, fees, recovery, servicing fee


@dataclass(frozen=True)
class NoteView:
    investment: Investment
    loan: Loan
    principal_received_cents: int
    interest_received_cents: int
    fees_received_cents: int = 0
    recoveries_cents: int = 0
    servicing_fees_cents: int = 0
    charged_off_cents: int = 0
    nar: Decimal | None = None
    xirr: Decimal | None = None
    months: tuple[NoteMonth, ...] = ()
    cash_flows: tuple[tuple[date, int], ...] = ()

    @property
    def outstanding_principal_cents(self) -> int:
        if self.loan.disbursed_at is None or self.investment.status != "issued":
            return 0
        return self.investment.amount_cents - self.principal_received_cents - self.charged_off_cents


@dataclass(frozen=True)
class Portfolio:
    investor_id: int
    username: str
    cash_cents: int
    committed_cents: int
    outstanding_principal_cents: int
    interest_received_cents: int
    principal_received_cents: int
    notes: list[NoteView]
    fees_received_cents: int = 0
    recoveries_cents: int = 0
    servicing_fees_cents: int = 0
    charged_off_cents: int = 0
    pending_cents: int = 0
    nar: Decimal | None = None
    xirr: Decimal | None = None
    late_notes: int = 0
    charged_off_notes: int = 0

    @property
    def portfolio_value_cents(self) -> int:
        return self.cash_cents + self.pending_cents + self.committed_cents + self.outstanding_principal_cents


def note_months(
    amount: int, start: date, end: date, flows: list[Flow], charge_off: tuple[date, int] | None
) -> list[NoteMonth]:
    months: list[NoteMonth] = []
    m = 0
    while True:
        lo, hi = start + relativedelta(months=m), start + relativedelta(months=m + 1)
        if lo >= end:
            return months
        before = sum(f[1] for f in flows if f[0] < lo)
        written_before = charge_off[1] if charge_off and charge_off[0] < lo else 0
        inside = [f for f in flows if lo <= f[0] < hi]
        outstanding = amount - before - written_before
        written_now = charge_off[1] if charge_off and lo <= charge_off[0] < hi else 0
        if outstanding > 0 or inside or written_now:
            months.append(
                NoteMonth(
                    principal_outstanding_cents=max(0, outstanding),
                    interest_cents=sum(f[2] for f in inside),
                    late_fees_cents=sum(f[3] for f in inside),
                    recoveries_cents=sum(f[4] for f in inside),
                    servicing_fees_cents=sum(f[5] for f in inside),
                    charged_off_cents=written_now,
                )
            )
        elif not any(f[0] >= lo for f in flows):
            return months
        m += 1


def _note(inv: Investment, loan: Loan, flows: list[Flow], charge_off: tuple[date, int] | None, as_of: date) -> NoteView:
    principal = sum(f[1] for f in flows)
    written = charge_off[1] if charge_off else 0
    view = NoteView(
        investment=inv,
        loan=loan,
        principal_received_cents=principal,
        interest_received_cents=sum(f[2] for f in flows),
        fees_received_cents=sum(f[3] for f in flows),
        recoveries_cents=sum(f[4] for f in flows),
        servicing_fees_cents=sum(f[5] for f in flows),
        charged_off_cents=written,
    )
    if loan.disbursed_at is None or inv.status != "issued":
        return view
    start = loan.disbursed_at.date()
    months = note_months(inv.amount_cents, start, as_of + timedelta(days=1), flows, charge_off)
    dated = [(start, -inv.amount_cents)] + [(f[0], f[1] + f[2] + f[3] + f[4] - f[5]) for f in flows]
    left = inv.amount_cents - principal - written
    if left > 0:
        dated.append((as_of, left))
    return replace(
        view, nar=net_annualized_return(months), xirr=xirr(dated), months=tuple(months), cash_flows=tuple(dated)
    )


def portfolio_of(session: Session, caller: Caller) -> Portfolio:
    i = caller.investor()
    cash, pending, committed, notes_account, interest, fees = (
        Account.investor_cash(i),
        Account.investor_pending_cash(i),
        Account.investor_commitments(i),
        Account.investor_notes(i),
        Account.investor_interest_income(i),
        Account.investor_fee_income(i),
    )
    found = ledger_repo.natural_balances(session, [cash, pending, committed, notes_account, interest, fees])
    rows = loans_repo.notes_of_investor(session, i)
    by_note: dict[int, list[Flow]] = {}
    for investment_id, on, p, n, f, r, s in repo.note_flows(session, i):
        by_note.setdefault(investment_id, []).append((on, p, n, f, r, s))
    charge_offs = repo.note_charge_offs(session, i)
    as_of = today()
    notes = [
        _note(inv, loan, by_note.get(inv.investment_id, []), charge_offs.get(inv.investment_id), as_of)
        for inv, loan in rows
    ]
    all_months = [m for n in notes for m in n.months]
    all_flows = [f for n in notes for f in n.cash_flows]
    return Portfolio(
        investor_id=i,
        username=caller.username,
        cash_cents=found[cash],
        pending_cents=found[pending],
        committed_cents=found[committed],
        outstanding_principal_cents=found[notes_account],
        interest_received_cents=found[interest],
        principal_received_cents=sum(n.principal_received_cents for n in notes),
        notes=notes,
        fees_received_cents=found[fees],
        recoveries_cents=sum(n.recoveries_cents for n in notes),
        servicing_fees_cents=sum(n.servicing_fees_cents for n in notes),
        charged_off_cents=sum(n.charged_off_cents for n in notes),
        nar=net_annualized_return(all_months),
        xirr=xirr(all_flows),
        late_notes=sum(1 for n in notes if n.loan.status in LATE and n.investment.status == "issued"),
        charged_off_notes=sum(1 for n in notes if n.charged_off_cents > 0),
    )
