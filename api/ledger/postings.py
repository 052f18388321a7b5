"""Double-entry postings for every money movement, as pure functions.

A posting's amount is positive for a debit and negative for a credit; every transaction's postings
sum to zero. Accounts and their normal sides are in api/ledger/accounts.py.

Transaction kinds: deposit, withdrawal, investment, disbursement, repayment, distribution,
commitment_release (a listing cancelled or expired: committed cash goes back to the investors),
issuance (a loan paid out with its origination fee kept as platform revenue), settlement and
transfer_return (the processor settled or returned a transfer, api/integrations/processor/settlement.py).

Money through the processor moves in two steps (docs/servicing.md, "Money through the processor"): when it is
asked for, the movement goes to `processor_in_transit` (and, for money coming in, to the investor's
`investor_pending_cash`, never spendable); when the processor settles it, `processor_in_transit` clears into
`processor_cash` (and pending cash into available cash). A return reverses the first step instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.ledger.accounts import PLATFORM_FEE_INCOME, PROCESSOR_CASH, PROCESSOR_IN_TRANSIT, Account


@dataclass(frozen=True, slots=True)
class Posting:
    account: Account
    amount_cents: int


class UnbalancedTransaction(ValueError):
    pass


def check_balanced(postings: Sequence[Posting]) -> list[Posting]:
    """Merge postings to the same account, drop zeros, and refuse a transaction that does not sum to zero."""
    merged: dict[Account, int] = {}
    for posting in postings:
        merged[posting.account] = merged.get(posting.account, 0) + posting.amount_cents
    kept = [Posting(account, amount) for account, amount in merged.items() if amount != 0]
    if not kept:
        raise UnbalancedTransaction("a transaction needs at least one non-zero posting")
    total = sum(p.amount_cents for p in kept)
    if total != 0:
        raise UnbalancedTransaction(f"postings sum to {total} cents, not zero")
    return kept


def deposit(investor_id: int, amount_cents: int) -> list[Posting]:
    """A deposit asked for: on its way in, pending for the investor until it settles."""
    return check_balanced(
        [
            Posting(PROCESSOR_IN_TRANSIT, amount_cents),
            Posting(Account.investor_pending_cash(investor_id), -amount_cents),
        ]
    )


def deposit_settled(investor_id: int, amount_cents: int) -> list[Posting]:
    """The processor settled a deposit: it is in the platform's cash and the investor's available cash."""
    return check_balanced(
        [
            Posting(PROCESSOR_CASH, amount_cents),
            Posting(PROCESSOR_IN_TRANSIT, -amount_cents),
            Posting(Account.investor_pending_cash(investor_id), amount_cents),
            Posting(Account.investor_cash(investor_id), -amount_cents),
        ]
    )


def withdrawal(investor_id: int, amount_cents: int) -> list[Posting]:
    """A withdrawal asked for: it leaves the investor's available cash at once (it cannot be spent twice)."""
    return check_balanced(
        [Posting(Account.investor_cash(investor_id), amount_cents), Posting(PROCESSOR_IN_TRANSIT, -amount_cents)]
    )


def payout_settled(amount_cents: int) -> list[Posting]:
    """The processor settled money going out (a withdrawal, a disbursement, a refund)."""
    return check_balanced([Posting(PROCESSOR_IN_TRANSIT, amount_cents), Posting(PROCESSOR_CASH, -amount_cents)])


def collection_settled(amount_cents: int, released: Sequence[tuple[int, int]]) -> list[Posting]:
    """The processor settled a borrower's payment: the money is in the platform's cash, and what it paid the
    note holders, `released` as (investor_id, cents), moves from their pending cash to their available cash."""
    postings = [Posting(PROCESSOR_CASH, amount_cents), Posting(PROCESSOR_IN_TRANSIT, -amount_cents)]
    for investor_id, cents in released:
        postings.append(Posting(Account.investor_pending_cash(investor_id), cents))
        postings.append(Posting(Account.investor_cash(investor_id), -cents))
    return check_balanced(postings)


def reverse(postings: Sequence[Posting]) -> list[Posting]:
    """The transaction that undoes `postings` exactly (a return, a re-allocation): every posting negated."""
    return check_balanced([Posting(p.account, -p.amount_cents) for p in postings])


def payout_returned_to_borrower(loan_id: int, amount_cents: int) -> list[Posting]:
    """A disbursement or refund the borrower's bank sent back: held for the borrower until it is sent again."""
    return check_balanced(
        [Posting(PROCESSOR_IN_TRANSIT, amount_cents), Posting(Account.loan_borrower_credit(loan_id), -amount_cents)]
    )


def investment(investor_id: int, amount_cents: int) -> list[Posting]:
    return check_balanced(
        [
            Posting(Account.investor_cash(investor_id), amount_cents),
            Posting(Account.investor_commitments(investor_id), -amount_cents),
        ]
    )


def commitment_release(commitments: Sequence[tuple[int, int]]) -> list[Posting]:
    """Return committed cash to each investor of a loan that will never be disbursed.
    `commitments` is (investor_id, amount_cents) per note."""
    postings: list[Posting] = []
    for investor_id, amount in commitments:
        postings.append(Posting(Account.investor_commitments(investor_id), amount))
        postings.append(Posting(Account.investor_cash(investor_id), -amount))
    return check_balanced(postings)


def disbursement(loan_id: int, notes: Sequence[tuple[int, int]]) -> list[Posting]:
    """Pay the loan out to the borrower. `notes` is (investor_id, amount_cents) per note: each
    investor's commitment becomes an outstanding note, and the borrower now owes the principal."""
    total = sum(amount for _, amount in notes)
    postings = [Posting(Account.loan_principal(loan_id), total), Posting(PROCESSOR_IN_TRANSIT, -total)]
    for investor_id, amount in notes:
        postings.append(Posting(Account.investor_commitments(investor_id), amount))
        postings.append(Posting(Account.investor_notes(investor_id), -amount))
    return check_balanced(postings)


def repayment(loan_id: int, amount_cents: int, *, settled: bool = False) -> list[Posting]:
    """Money from the borrower, held for the note holders until distributed: debited through the processor
    (in transit until it settles), or `settled` when it is already in the platform's cash (a simulated book's
    history)."""
    cash = PROCESSOR_CASH if settled else PROCESSOR_IN_TRANSIT
    return check_balanced([Posting(cash, amount_cents), Posting(Account.loan_collections(loan_id), -amount_cents)])


def distribution(loan_id: int, shares: Sequence[tuple[int, int, int]]) -> list[Posting]:
    """Pass a repayment to the note holders. `shares` is (investor_id, principal, interest) per note."""
    principal = sum(p for _, p, _ in shares)
    interest = sum(i for _, _, i in shares)
    postings = [
        Posting(Account.loan_collections(loan_id), principal + interest),
        Posting(Account.loan_principal(loan_id), -principal),
        Posting(Account.loan_interest(loan_id), interest),
    ]
    for investor_id, share_principal, share_interest in shares:
        postings.append(Posting(Account.investor_cash(investor_id), -(share_principal + share_interest)))
        postings.append(Posting(Account.investor_notes(investor_id), share_principal))
        postings.append(Posting(Account.investor_interest_income(investor_id), -share_interest))
    return check_balanced(postings)


def issuance(loan_id: int, notes: Sequence[tuple[int, int]], fee_cents: int) -> list[Posting]:
    """Issue a loan whose origination fee is deducted from the disbursement. `notes` is (investor_id,
    amount_cents) per note. The borrower owes the whole amount lent (the schedule is on it); the processor
    pays out the amount less the fee, and the fee is the platform's revenue. Each investor's commitment
    becomes an outstanding note, as in `disbursement`."""
    total = sum(amount for _, amount in notes)
    if not 0 <= fee_cents < total:
        raise UnbalancedTransaction(f"an origination fee of {fee_cents} cents does not fit a loan of {total}")
    postings = [
        Posting(Account.loan_principal(loan_id), total),
        Posting(PROCESSOR_IN_TRANSIT, -(total - fee_cents)),
        Posting(PLATFORM_FEE_INCOME, -fee_cents),
    ]
    for investor_id, amount in notes:
        postings.append(Posting(Account.investor_commitments(investor_id), amount))
        postings.append(Posting(Account.investor_notes(investor_id), -amount))
    return check_balanced(postings)
