"""Ledger accounts as values: what kind of account, and whose.

An account is `Account(kind, owner_id)`, never a string. Its balance is stored debit-positive (a debit
adds, a credit subtracts); `natural_balance` turns that into the figure people read, by the account's
normal side:

| kind                       | owner    | normal side | the natural balance is                               |
|----------------------------|----------|-------------|------------------------------------------------------|
| processor_cash             | platform | debit       | cash held at the payment processor for everyone      |
| investor_cash              | investor | credit      | the investor's available cash                        |
| investor_commitments       | investor | credit      | cash committed to listings not yet issued            |
| investor_notes             | investor | credit      | outstanding principal of the investor's notes        |
| investor_interest_income   | investor | credit      | interest the investor has received, cumulative       |
| loan_principal             | loan     | debit       | principal the borrower still owes                    |
| loan_interest              | loan     | debit       | interest the borrower has paid, cumulative           |
| loan_collections           | loan     | credit      | received from the borrower, not yet distributed      |
| platform_fee_income        | platform | credit      | origination fees the platform has earned, cumulative |
| platform_servicing_income  | platform | credit      | servicing and collection fees earned, cumulative     |
| loan_borrower_credit       | loan     | credit      | paid beyond what was owed, held for the borrower     |
| investor_fee_income        | investor | credit      | late fees the investor has received, cumulative      |
| processor_in_transit       | platform | debit       | sent to the processor, not yet settled (net: money   |
|                            |          |             | on its way in less money on its way out)             |
| investor_pending_cash      | investor | credit      | the investor's cash not yet settled: never spendable |

Every owner's accounts are created with the owner (investor, loan) or by the migration (platform), so
posting never has to create one. Accounts are locked, and their balances changed, in `lock_order`, the
one order every transaction uses, so two transactions can never wait on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Side(IntEnum):
    DEBIT = 1
    CREDIT = -1


class Owner(StrEnum):
    PLATFORM = "platform"
    INVESTOR = "investor"
    LOAN = "loan"


class AccountKind(StrEnum):
    PROCESSOR_CASH = "processor_cash"
    INVESTOR_CASH = "investor_cash"
    INVESTOR_COMMITMENTS = "investor_commitments"
    INVESTOR_NOTES = "investor_notes"
    INVESTOR_INTEREST_INCOME = "investor_interest_income"
    LOAN_PRINCIPAL = "loan_principal"
    LOAN_INTEREST = "loan_interest"
    LOAN_COLLECTIONS = "loan_collections"
    PLATFORM_FEE_INCOME = "platform_fee_income"
    PLATFORM_SERVICING_INCOME = "platform_servicing_income"
    LOAN_BORROWER_CREDIT = "loan_borrower_credit"
    INVESTOR_FEE_INCOME = "investor_fee_income"
    PROCESSOR_IN_TRANSIT = "processor_in_transit"
    INVESTOR_PENDING_CASH = "investor_pending_cash"

    @property
    def normal_side(self) -> Side:
        return _NORMAL_SIDE[self]

    @property
    def owner(self) -> Owner:
        return _OWNER[self]


_NORMAL_SIDE: dict[AccountKind, Side] = {
    AccountKind.PROCESSOR_CASH: Side.DEBIT,
    AccountKind.INVESTOR_CASH: Side.CREDIT,
    AccountKind.INVESTOR_COMMITMENTS: Side.CREDIT,
    AccountKind.INVESTOR_NOTES: Side.CREDIT,
    AccountKind.INVESTOR_INTEREST_INCOME: Side.CREDIT,
    AccountKind.LOAN_PRINCIPAL: Side.DEBIT,
    AccountKind.LOAN_INTEREST: Side.DEBIT,
    AccountKind.LOAN_COLLECTIONS: Side.CREDIT,
    AccountKind.PLATFORM_FEE_INCOME: Side.CREDIT,
    AccountKind.PLATFORM_SERVICING_INCOME: Side.CREDIT,
    AccountKind.LOAN_BORROWER_CREDIT: Side.CREDIT,
    AccountKind.INVESTOR_FEE_INCOME: Side.CREDIT,
    AccountKind.PROCESSOR_IN_TRANSIT: Side.DEBIT,
    AccountKind.INVESTOR_PENDING_CASH: Side.CREDIT,
}
_PLATFORM_KINDS = frozenset(
    {
        AccountKind.PROCESSOR_CASH,
        AccountKind.PROCESSOR_IN_TRANSIT,
        AccountKind.PLATFORM_FEE_INCOME,
        AccountKind.PLATFORM_SERVICING_INCOME,
    }
)
_OWNER: dict[AccountKind, Owner] = {
    kind: Owner.PLATFORM
    if kind in _PLATFORM_KINDS
    else (Owner.INVESTOR if kind.value.startswith("investor_") else Owner.LOAN)
    for kind in AccountKind
}

#: Kinds whose natural balance may never go below zero; the database refuses it too (a CHECK).
NEVER_NEGATIVE: frozenset[AccountKind] = frozenset(
    {AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_COMMITMENTS, AccountKind.INVESTOR_PENDING_CASH}
)

PLATFORM_OWNER_ID = 0


def kinds_owned_by(owner: Owner) -> tuple[AccountKind, ...]:
    return tuple(kind for kind in AccountKind if kind.owner is owner)


@dataclass(frozen=True, slots=True, order=True)
class Account:
    kind: AccountKind
    owner_id: int = PLATFORM_OWNER_ID

    def __post_init__(self) -> None:
        platform = self.kind.owner is Owner.PLATFORM
        if platform != (self.owner_id == PLATFORM_OWNER_ID) or self.owner_id < 0:
            raise ValueError(f"{self.kind} needs {'no' if platform else 'an'} owner id, got {self.owner_id}")

    def natural_balance(self, balance_cents: int) -> int:
        """The debit-positive stored balance as people read it (cash of $25 is 2500, not -2500)."""
        return balance_cents * int(self.kind.normal_side)

    def __str__(self) -> str:
        return self.kind.value if self.kind.owner is Owner.PLATFORM else f"{self.kind.value}:{self.owner_id}"

    @staticmethod
    def investor_cash(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_CASH, investor_id)

    @staticmethod
    def investor_commitments(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_COMMITMENTS, investor_id)

    @staticmethod
    def investor_notes(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_NOTES, investor_id)

    @staticmethod
    def investor_interest_income(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_INTEREST_INCOME, investor_id)

    @staticmethod
    def loan_principal(loan_id: int) -> Account:
        return Account(AccountKind.LOAN_PRINCIPAL, loan_id)

    @staticmethod
    def loan_interest(loan_id: int) -> Account:
        return Account(AccountKind.LOAN_INTEREST, loan_id)

    @staticmethod
    def loan_collections(loan_id: int) -> Account:
        return Account(AccountKind.LOAN_COLLECTIONS, loan_id)

    @staticmethod
    def investor_fee_income(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_FEE_INCOME, investor_id)

    @staticmethod
    def loan_borrower_credit(loan_id: int) -> Account:
        return Account(AccountKind.LOAN_BORROWER_CREDIT, loan_id)

    @staticmethod
    def investor_pending_cash(investor_id: int) -> Account:
        return Account(AccountKind.INVESTOR_PENDING_CASH, investor_id)


PROCESSOR_CASH = Account(AccountKind.PROCESSOR_CASH)
PLATFORM_FEE_INCOME = Account(AccountKind.PLATFORM_FEE_INCOME)
PLATFORM_SERVICING_INCOME = Account(AccountKind.PLATFORM_SERVICING_INCOME)
PROCESSOR_IN_TRANSIT = Account(AccountKind.PROCESSOR_IN_TRANSIT)


def lock_order(account: Account) -> tuple[str, int]:
    """The one order in which every transaction locks accounts (kind name, then owner id)."""
    return (account.kind.value, account.owner_id)
