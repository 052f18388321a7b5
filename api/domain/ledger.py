"""Double-entry postings for every money movement, as pure functions.

Sign convention: a posting's amount is positive for a debit and negative for a credit; every
transaction's postings sum to zero. Account codes are `<account_type>` or `<account_type>:<owner id>`:

| account type               | owner    | normal side | balance means                                        |
|----------------------------|----------|-------------|------------------------------------------------------|
| processor_cash             | platform | debit       | cash held at the payment processor for everyone      |
| investor_cash              | investor | credit      | the investor's available cash (-balance)             |
| investor_commitments       | investor | credit      | cash committed to loans not yet disbursed (-balance) |
| investor_notes             | investor | credit      | outstanding principal of the investor's notes        |
| investor_interest_income   | investor | credit      | interest the investor has received, cumulative       |
| loan_principal             | loan     | debit       | principal the borrower still owes                    |
| loan_interest              | loan     | debit       | interest the borrower has paid, cumulative           |
| loan_collections           | loan     | credit      | received from the borrower, not yet distributed      |

Transaction kinds: deposit, withdrawal, investment, disbursement, repayment, distribution,
commitment_release (a listing cancelled or expired: committed cash goes back to the investors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PROCESSOR_CASH = "processor_cash"


@dataclass(frozen=True, slots=True)
class Posting:
    account_code: str
    amount_cents: int


class UnbalancedTransaction(ValueError):
    pass


def investor_cash(investor_id: int) -> str:
    return f"investor_cash:{investor_id}"


def investor_commitments(investor_id: int) -> str:
    return f"investor_commitments:{investor_id}"


def investor_notes(investor_id: int) -> str:
    return f"investor_notes:{investor_id}"


def investor_interest_income(investor_id: int) -> str:
    return f"investor_interest_income:{investor_id}"


def loan_principal(loan_id: int) -> str:
    return f"loan_principal:{loan_id}"


def loan_interest(loan_id: int) -> str:
    return f"loan_interest:{loan_id}"


def loan_collections(loan_id: int) -> str:
    return f"loan_collections:{loan_id}"


def account_type_of(code: str) -> str:
    return code.split(":", 1)[0]


def check_balanced(postings: Sequence[Posting]) -> list[Posting]:
    """Drop zero postings and refuse a transaction that does not sum to zero."""
    kept = [p for p in postings if p.amount_cents != 0]
    if not kept:
        raise UnbalancedTransaction("a transaction needs at least one non-zero posting")
    total = sum(p.amount_cents for p in kept)
    if total != 0:
        raise UnbalancedTransaction(f"postings sum to {total} cents, not zero")
    return kept


def deposit(investor_id: int, amount_cents: int) -> list[Posting]:
    return check_balanced([Posting(PROCESSOR_CASH, amount_cents), Posting(investor_cash(investor_id), -amount_cents)])


def withdrawal(investor_id: int, amount_cents: int) -> list[Posting]:
    return check_balanced([Posting(investor_cash(investor_id), amount_cents), Posting(PROCESSOR_CASH, -amount_cents)])


def investment(investor_id: int, amount_cents: int) -> list[Posting]:
    return check_balanced(
        [
            Posting(investor_cash(investor_id), amount_cents),
            Posting(investor_commitments(investor_id), -amount_cents),
        ]
    )


def commitment_release(commitments: Sequence[tuple[int, int]]) -> list[Posting]:
    """Return committed cash to each investor of a loan that will never be disbursed.
    `commitments` is (investor_id, amount_cents) per note."""
    postings: list[Posting] = []
    for investor_id, amount in commitments:
        postings.append(Posting(investor_commitments(investor_id), amount))
        postings.append(Posting(investor_cash(investor_id), -amount))
    return check_balanced(postings)


def disbursement(loan_id: int, notes: Sequence[tuple[int, int]]) -> list[Posting]:
    """Pay the loan out to the borrower. `notes` is (investor_id, amount_cents) per note: each
    investor's commitment becomes an outstanding note, and the borrower now owes the principal."""
    total = sum(amount for _, amount in notes)
    postings = [Posting(loan_principal(loan_id), total), Posting(PROCESSOR_CASH, -total)]
    for investor_id, amount in notes:
        postings.append(Posting(investor_commitments(investor_id), amount))
        postings.append(Posting(investor_notes(investor_id), -amount))
    return check_balanced(postings)


def repayment(loan_id: int, amount_cents: int) -> list[Posting]:
    """Money received from the borrower, held for the note holders until distributed."""
    return check_balanced([Posting(PROCESSOR_CASH, amount_cents), Posting(loan_collections(loan_id), -amount_cents)])


def distribution(loan_id: int, shares: Sequence[tuple[int, int, int]]) -> list[Posting]:
    """Pass a repayment to the note holders. `shares` is (investor_id, principal, interest) per note."""
    principal = sum(p for _, p, _ in shares)
    interest = sum(i for _, _, i in shares)
    postings = [
        Posting(loan_collections(loan_id), principal + interest),
        Posting(loan_principal(loan_id), -principal),
        Posting(loan_interest(loan_id), interest),
    ]
    for investor_id, share_principal, share_interest in shares:
        postings.append(Posting(investor_cash(investor_id), -(share_principal + share_interest)))
        postings.append(Posting(investor_notes(investor_id), share_principal))
        postings.append(Posting(investor_interest_income(investor_id), -share_interest))
    return check_balanced(postings)
