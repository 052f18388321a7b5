"""Servicing's double-entry postings, as pure functions (api/ledger/postings.py has the others).

- `payment_distribution`: a settled payment leaves the loan's collections account: what was applied to the
  loan goes to the note holders (principal reduces their notes; interest and late fees are their income) less
  the platform's servicing fee, which is the platform's revenue; what exceeded everything owed is held for
  the borrower (`loan_borrower_credit`). A recovery (after charge-off) goes to the note holders less the
  collection fee.
- `charge_off`: each note's outstanding principal is written off: the loan's principal and the notes fall
  together, so the loan's principal stays the sum over its notes.
- `refund`: money held for the borrower goes back out through the processor (in transit until it settles).

A payment made through the processor is distributed at once (`pending=True`): the note holders' share waits in
their pending cash, never spendable, until the processor settles the payment (api/ledger/postings.py
`collection_settled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.ledger.accounts import PLATFORM_SERVICING_INCOME, PROCESSOR_IN_TRANSIT, Account
from api.ledger.postings import Posting, check_balanced


@dataclass(frozen=True, slots=True)
class NoteShare:
    investor_id: int
    principal_cents: int = 0
    interest_cents: int = 0
    fees_cents: int = 0
    recovery_cents: int = 0
    servicing_fee_cents: int = 0

    @property
    def gross_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.fees_cents + self.recovery_cents

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.servicing_fee_cents


def payment_distribution(
    loan_id: int, shares: Sequence[NoteShare], excess_cents: int, *, pending: bool = False
) -> list[Posting]:
    principal = sum(s.principal_cents for s in shares)
    interest = sum(s.interest_cents for s in shares)
    fees = sum(s.fees_cents for s in shares)
    recovery = sum(s.recovery_cents for s in shares)
    servicing = sum(s.servicing_fee_cents for s in shares)
    postings = [
        Posting(Account.loan_collections(loan_id), principal + interest + fees + recovery + excess_cents),
        Posting(Account.loan_principal(loan_id), -principal),
        # interest and fees the borrower has paid, cumulative (as api/ledger/postings.distribution does)
        Posting(Account.loan_interest(loan_id), interest + fees),
        Posting(PLATFORM_SERVICING_INCOME, -servicing),
        Posting(Account.loan_borrower_credit(loan_id), -excess_cents),
    ]
    for s in shares:
        cash = Account.investor_pending_cash(s.investor_id) if pending else Account.investor_cash(s.investor_id)
        postings.append(Posting(cash, -s.net_cents))
        postings.append(Posting(Account.investor_notes(s.investor_id), s.principal_cents))
        postings.append(Posting(Account.investor_interest_income(s.investor_id), -s.interest_cents))
        postings.append(Posting(Account.investor_fee_income(s.investor_id), -s.fees_cents))
    return check_balanced(postings)


def charge_off(loan_id: int, notes: Sequence[tuple[int, int]]) -> list[Posting]:
    """`notes` is (investor_id, outstanding principal) per note."""
    total = sum(p for _, p in notes)
    postings = [Posting(Account.loan_principal(loan_id), -total)]
    postings += [Posting(Account.investor_notes(investor_id), p) for investor_id, p in notes]
    return check_balanced(postings)


def refund(loan_id: int, amount_cents: int) -> list[Posting]:
    return check_balanced(
        [Posting(Account.loan_borrower_credit(loan_id), amount_cents), Posting(PROCESSOR_IN_TRANSIT, -amount_cents)]
    )
