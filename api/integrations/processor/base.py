"""The payment-processor integration layer: one interface moves money between users' banks and the platform's
account at its processor: investor deposits and withdrawals, borrower repayments by debit, disbursements and
refunds to borrowers.

It behaves like ACH, asynchronously (docs/servicing.md, "Money through the processor"):

- the platform never calls the processor inside a request: it writes a `processor_transfers` row (the outbox)
  in the transaction of the ledger's pending entry, and the worker submits it afterwards with the row's
  `client_reference` as the idempotency key, so a crash at any point leaves both records or neither, and a
  retry after the processor moved money but before our commit gets the first transfer back;
- the processor settles days later, or returns the transfer (R01 insufficient funds, R02 account closed, ...),
  and says so by signed webhook (api/integrations/processor/webhooks.py);
- its settlement report is reconciled with the ledger (api/servicing/reconcile.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from api.kit.errors import Conflict

Direction = Literal["collect", "payout"]

RETURN_CODES: dict[str, str] = {
    "R01": "insufficient funds",
    "R02": "account closed",
    "R03": "no account / unable to locate account",
    "R10": "customer advises not authorized",
}


class ProcessorRefused(Conflict):
    """The processor refused a request outright (not a return): the same key with another transfer."""

    code = "processor_refused"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    client_reference: str  # our id for the transfer, and the processor's idempotency key
    direction: Direction
    user_id: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One transfer's outcome in the processor's settlement report."""

    reference: str
    client_reference: str
    direction: Direction
    amount_cents: int
    status: Literal["pending", "settled", "returned"]
    settled_on: date | None
    returned_on: date | None
    return_code: str | None

    @property
    def cash_effect_cents(self) -> int:
        """What the transfer did to the platform's settled cash at the processor."""
        if self.status != "settled":
            return 0
        return self.amount_cents if self.direction == "collect" else -self.amount_cents


class PaymentProcessor(Protocol):
    name: str

    def submit(self, request: TransferRequest) -> str:
        """Start a transfer; returns the processor's reference. Idempotent by `client_reference`."""
        ...

    def settlement_report(self) -> list[SettlementLine]:
        """Every transfer the processor has, with its state today."""
        ...
