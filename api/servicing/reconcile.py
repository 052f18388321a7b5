"""The reconciliation job: proves the books and reports every difference, never hiding one.

- the ledger sums to zero, every transaction balances, every stored balance equals the sum of its postings;
- each loan's principal in the ledger equals the sum over its notes (and, for serviced loans, the replay's
  outstanding principal, zero once charged off);
- processor settlement matches ledger cash:
  - the processor's settlement report, line by line, against our transfer records (a transfer it settled or
    returned that we show otherwise, one it has that we never asked for, one we submitted that it lacks, and
    a late return we could not post);
  - the report's settled total against `processor_cash` (with the history from before the processor outbox,
    which settled at once, added from our own records);
  - money in transit in the ledger against our transfers not yet settled or returned.

`python -m api.cli reconcile` exits 1 on any difference; the worker runs it daily (`reconcile`), and the
Dagster asset `ledger_reconciliation` fails its check on any difference."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.integrations.processor.base import PaymentProcessor, SettlementLine
from api.kit.db import Database
from api.kit.money import format_cents
from api.servicing import repository as repo


@dataclass
class Reconciliation:
    ledger_total_cents: int = 0
    unbalanced: list[tuple[int, int]] = field(default_factory=list)
    balances_off_postings: list[tuple[str, int, int, int]] = field(default_factory=list)
    loans_off_notes: list[tuple[int, int, int]] = field(default_factory=list)
    loans_off_servicing: list[tuple[int, int, int]] = field(default_factory=list)
    processor_cash_cents: int = 0
    settlement_cents: int = 0
    in_transit_cents: int = 0
    recorded_in_transit_cents: int = 0
    settlement_lines: int = 0
    transfers_off_report: list[str] = field(default_factory=list)

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
                f"processor settlement {format_cents(self.settlement_cents)} but ledger cash "
                f"{format_cents(self.processor_cash_cents)}"
            )
        if self.in_transit_cents != self.recorded_in_transit_cents:
            out.append(
                f"ledger in transit {format_cents(self.in_transit_cents)} but open transfers "
                f"{format_cents(self.recorded_in_transit_cents)}"
            )
        return out + self.transfers_off_report

    @property
    def ok(self) -> bool:
        return not self.differences


def compare_report(lines: list[SettlementLine], ours: dict[str, tuple[str, str, int, str | None]]) -> list[str]:
    """Every line of the processor's report against our record of the same transfer, and back."""
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        seen.add(line.client_reference)
        mine = ours.get(line.client_reference)
        if mine is None:
            out.append(f"the processor has {line.status} transfer {line.reference} that we never asked for")
            continue
        status, direction, amount, exception = mine
        if (direction, amount) != (line.direction, line.amount_cents):
            out.append(
                f"transfer {line.client_reference}: processor {line.direction} {format_cents(line.amount_cents)}, "
                f"ours {direction} {format_cents(amount)}"
            )
        if line.status != "pending" and line.status != status:
            out.append(f"transfer {line.client_reference}: processor says {line.status}, we say {status}")
        if exception:
            out.append(f"transfer {line.client_reference}: {exception}")
    out += [
        f"transfer {ref} is {ours[ref][0]} with us but missing from the processor" for ref in ours if ref not in seen
    ]
    return out


def reconcile(database: Database, processor: PaymentProcessor | None = None) -> Reconciliation:
    lines = processor.settlement_report() if processor is not None else None
    with database.transaction(write=False) as session:
        report = Reconciliation(
            ledger_total_cents=repo.ledger_total(session),
            unbalanced=repo.unbalanced_transactions(session),
            balances_off_postings=repo.balances_off_postings(session),
            loans_off_notes=repo.loans_off_notes(session),
            loans_off_servicing=repo.loans_off_servicing(session),
            processor_cash_cents=repo.processor_cash(session),
            in_transit_cents=repo.processor_in_transit(session),
            recorded_in_transit_cents=repo.recorded_in_transit(session),
        )
        recorded = repo.recorded_cash(session)
        if lines is None:
            report.settlement_cents = recorded
        else:
            # the processor's own figure, plus the history before the outbox that it never saw
            legacy = recorded - repo.recorded_outbox_cash(session)
            report.settlement_cents = sum(line.cash_effect_cents for line in lines) + legacy
            report.settlement_lines = len(lines)
            report.transfers_off_report = compare_report(lines, repo.our_transfers(session))
    return report
