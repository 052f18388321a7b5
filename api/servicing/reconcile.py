"""The reconciliation job: proves the books and reports every difference, never hiding one.

- the ledger sums to zero, every transaction balances, every stored balance equals the sum of its postings;
- each loan's principal in the ledger equals the sum over its notes (and, for serviced loans, the replay's
  outstanding principal, zero once charged off);
- processor settlement equals ledger cash: the processor's settlement total (its report when it gives one;
  otherwise what our own transfer and payment records say moved) against `processor_cash`.

`python -m api.cli reconcile` exits 1 on any difference; the worker runs it daily (`reconcile`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from api.kit.db import Database
from api.servicing import repository as repo


@runtime_checkable
class SettlementSource(Protocol):
    def settled_total_cents(self) -> int: ...


@dataclass
class Reconciliation:
    ledger_total_cents: int = 0
    unbalanced: list[tuple[int, int]] = field(default_factory=list)
    balances_off_postings: list[tuple[str, int, int, int]] = field(default_factory=list)
    loans_off_notes: list[tuple[int, int, int]] = field(default_factory=list)
    loans_off_servicing: list[tuple[int, int, int]] = field(default_factory=list)
    processor_cash_cents: int = 0
    settlement_cents: int = 0

    @property
    def differences(self) -> list[str]:
        out = []
        if self.ledger_total_cents:
            out.append(f"the ledger sums to {self.ledger_total_cents} cents, not zero")
        out += [f"transaction {t} sums to {s} cents" for t, s in self.unbalanced]
        out += [f"{k}:{o} balance {b} but postings {p}" for k, o, b, p in self.balances_off_postings]
        out += [f"loan {loan} principal {b} but its notes hold {n}" for loan, b, n in self.loans_off_notes]
        out += [f"loan {loan} principal {b} but servicing says {n}" for loan, b, n in self.loans_off_servicing]
        if self.processor_cash_cents != self.settlement_cents:
            out.append(
                f"processor settlement {self.settlement_cents} cents but ledger cash {self.processor_cash_cents}"
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(database: Database, processor: object | None = None) -> Reconciliation:
    with database.transaction(write=False) as session:
        report = Reconciliation(
            ledger_total_cents=repo.ledger_total(session),
            unbalanced=repo.unbalanced_transactions(session),
            balances_off_postings=repo.balances_off_postings(session),
            loans_off_notes=repo.loans_off_notes(session),
            loans_off_servicing=repo.loans_off_servicing(session),
            processor_cash_cents=repo.processor_cash(session),
        )
        report.settlement_cents = (
            processor.settled_total_cents() if isinstance(processor, SettlementSource) else repo.recorded_cash(session)
        )
    return report
