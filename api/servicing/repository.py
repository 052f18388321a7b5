"""SQL for servicing: the inputs of a loan's replay, its snapshot, late fees, charge-offs and runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.orm import Session

from api.lending.lifecycle import IN_REPAYMENT, values
from api.lending.tables import Investment, Loan
from api.payments.tables import Installment, Payment, PaymentDistribution
from api.servicing.tables import LoanFee, LoanServicingState, NoteChargeOff, ServicingRun

RUNS = cast(Table, ServicingRun.__table__)


def settled_payments(session: Session, loan_id: int) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.loan_id == loan_id, Payment.status == "settled")
            .order_by(Payment.date, Payment.payment_id)
        )
    )


def fees_of_loan(session: Session, loan_id: int) -> list[LoanFee]:
    return list(session.scalars(select(LoanFee).where(LoanFee.loan_id == loan_id).order_by(LoanFee.installment_number)))


def add_fee(session: Session, fee: LoanFee) -> None:
    session.add(fee)
    session.flush()


def snapshot(session: Session, loan_id: int) -> LoanServicingState | None:
    return session.get(LoanServicingState, loan_id)


def save_snapshot(session: Session, state: LoanServicingState) -> None:
    session.merge(state)
    session.flush()


def note_outstanding(session: Session, loan_id: int) -> list[tuple[Investment, int]]:
    """The loan's issued notes (oldest first) with each one's outstanding principal: amount less the
    principal distributed (returned payments' distributions are reversed rows) less what was written off."""
    paid = (
        select(PaymentDistribution.investment_id, func.sum(PaymentDistribution.principal_cents).label("paid"))
        .join(Payment, Payment.payment_id == PaymentDistribution.payment_id)
        .where(Payment.loan_id == loan_id, Payment.status == "settled")
        .group_by(PaymentDistribution.investment_id)
        .subquery()
    )
    rows: Sequence[Any] = session.execute(
        select(Investment, func.coalesce(paid.c.paid, 0), func.coalesce(NoteChargeOff.principal_cents, 0))
        .outerjoin(paid, paid.c.investment_id == Investment.investment_id)
        .outerjoin(NoteChargeOff, NoteChargeOff.investment_id == Investment.investment_id)
        .where(Investment.loan_id == loan_id, Investment.status == "issued")
        .order_by(Investment.investment_id)
    ).all()
    return [(inv, inv.amount_cents - int(p) - int(w)) for inv, p, w in rows]


def charge_offs_of_loan(session: Session, loan_id: int) -> list[NoteChargeOff]:
    return list(
        session.scalars(
            select(NoteChargeOff).where(NoteChargeOff.loan_id == loan_id).order_by(NoteChargeOff.investment_id)
        )
    )


def add_charge_offs(session: Session, rows: Sequence[NoteChargeOff]) -> None:
    session.add_all(rows)
    session.flush()


def installments(session: Session, loan_id: int) -> list[Installment]:
    return list(session.scalars(select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.number)))


def loans_in_servicing(session: Session) -> list[int]:
    statuses = values(IN_REPAYMENT)
    return [
        int(i)
        for (i,) in session.execute(
            select(Loan.loan_id).where(Loan.status.in_(statuses), Loan.disbursed_at.is_not(None)).order_by(Loan.loan_id)
        )
    ]


def run_of(session: Session, day: date) -> ServicingRun | None:
    return session.get(ServicingRun, day)


def start_run(session: Session, day: date, now: datetime) -> None:
    if session.get(ServicingRun, day) is None:
        session.add(ServicingRun(run_date=day, started_at=now, loans=0, changes=0, fees=0, charge_offs=0))
        session.flush()


def finish_run(session: Session, day: date, now: datetime, counts: dict[str, int]) -> None:
    session.execute(update(RUNS).where(RUNS.c.run_date == day).values(finished_at=now, **counts))


def last_finished_run(session: Session) -> date | None:
    value: Any = session.execute(select(func.max(RUNS.c.run_date)).where(RUNS.c.finished_at.is_not(None))).scalar()
    return value


# ------------------------------------------------------------------------------------ reconciliation

_LEDGER_TOTAL = text("SELECT COALESCE(SUM(balance_cents), 0) FROM ledger_accounts")
_UNBALANCED = text(
    "SELECT transaction_id, SUM(amount_cents) FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount_cents) <> 0"
)
_BALANCE_VS_POSTINGS = text(
    "SELECT a.account_type, a.owner_id, a.balance_cents, COALESCE(e.total, 0) FROM ledger_accounts a "
    "LEFT JOIN (SELECT account_id, SUM(amount_cents) AS total FROM ledger_entries GROUP BY account_id) e "
    "ON e.account_id = a.account_id WHERE a.balance_cents <> COALESCE(e.total, 0)"
)
# Each loan's principal in the ledger against the sum over its issued notes (amount, less principal distributed
# by settled payments, less what was written off), all loans at once.
_LOAN_VS_NOTES = text(
    """
    WITH notes AS (
        SELECT i.loan_id, SUM(i.amount_cents) AS lent FROM investments i WHERE i.status = 'issued' GROUP BY i.loan_id
    ), paid AS (
        SELECT p.loan_id, SUM(d.principal_cents) AS paid FROM payment_distributions d
        JOIN payments p ON p.payment_id = d.payment_id WHERE p.status = 'settled' GROUP BY p.loan_id
    ), written AS (
        SELECT loan_id, SUM(principal_cents) AS written FROM note_charge_offs GROUP BY loan_id
    )
    SELECT a.loan_id, a.balance_cents, COALESCE(n.lent, 0) - COALESCE(pd.paid, 0) - COALESCE(w.written, 0)
    FROM ledger_accounts a
    LEFT JOIN notes n ON n.loan_id = a.owner_id
    LEFT JOIN paid pd ON pd.loan_id = a.owner_id
    LEFT JOIN written w ON w.loan_id = a.owner_id
    WHERE a.account_type = 'loan_principal'
      AND a.balance_cents <> COALESCE(n.lent, 0) - COALESCE(pd.paid, 0) - COALESCE(w.written, 0)
    """
)
_LOAN_VS_SERVICING = text(
    "SELECT s.loan_id, a.balance_cents, CASE WHEN s.status = 'charged_off' THEN 0 ELSE s.principal_cents END "
    "FROM loan_servicing s JOIN ledger_accounts a ON a.account_type = 'loan_principal' AND a.owner_id = s.loan_id "
    "WHERE a.balance_cents <> CASE WHEN s.status = 'charged_off' THEN 0 ELSE s.principal_cents END"
)
_PROCESSOR_CASH = text("SELECT balance_cents FROM ledger_accounts WHERE account_type = 'processor_cash'")
_IN_TRANSIT = text("SELECT balance_cents FROM ledger_accounts WHERE account_type = 'processor_in_transit'")
# What our own records say moved through the processor and settled: processor transfers, plus the history from
# before the processor outbox (cash transfers and payments that settled at once, with no transfer row).
_RECORDED_CASH = text(
    "SELECT COALESCE((SELECT SUM(CASE WHEN direction = 'collect' THEN amount_cents ELSE -amount_cents END) "
    "FROM processor_transfers WHERE status = 'settled'), 0) "
    "+ COALESCE((SELECT SUM(CASE WHEN c.direction = 'deposit' THEN c.amount_cents ELSE -c.amount_cents END) "
    "FROM cash_transfers c WHERE NOT EXISTS (SELECT 1 FROM processor_transfers t "
    "WHERE t.cash_transfer_id = c.transfer_id)), 0) "
    "+ COALESCE((SELECT SUM(amount_cents) FROM payments WHERE status = 'settled' AND transfer_ref_id IS NULL), 0)"
)
# Money asked for and not yet settled or returned: in transit, coming in (collect) less going out (payout).
_RECORDED_IN_TRANSIT = text(
    "SELECT COALESCE(SUM(CASE WHEN direction = 'collect' THEN amount_cents ELSE -amount_cents END), 0) "
    "FROM processor_transfers WHERE status IN ('queued', 'submitted')"
)


def _rows(session: Session, statement: Any) -> Sequence[Any]:
    return session.execute(statement).all()


def ledger_total(session: Session) -> int:
    return int(session.execute(_LEDGER_TOTAL).scalar_one())


def unbalanced_transactions(session: Session) -> list[tuple[int, int]]:
    return [(int(t), int(s)) for t, s in _rows(session, _UNBALANCED)]


def balances_off_postings(session: Session) -> list[tuple[str, int, int, int]]:
    return [(str(k), int(o), int(b), int(p)) for k, o, b, p in _rows(session, _BALANCE_VS_POSTINGS)]


def loans_off_notes(session: Session) -> list[tuple[int, int, int]]:
    return [(int(loan), int(b), int(n)) for loan, b, n in _rows(session, _LOAN_VS_NOTES)]


def loans_off_servicing(session: Session) -> list[tuple[int, int, int]]:
    return [(int(loan), int(b), int(n)) for loan, b, n in _rows(session, _LOAN_VS_SERVICING)]


def processor_cash(session: Session) -> int:
    value: Any = session.execute(_PROCESSOR_CASH).scalar_one_or_none()
    return int(value or 0)


def processor_in_transit(session: Session) -> int:
    return int(session.execute(_IN_TRANSIT).scalar_one())


def recorded_in_transit(session: Session) -> int:
    return int(session.execute(_RECORDED_IN_TRANSIT).scalar_one())


def our_transfers(session: Session) -> dict[str, tuple[str, str, int, str | None]]:
    """client_reference -> (status, direction, amount, exception) of every transfer submitted to the processor."""
    rows: Sequence[Any] = session.execute(
        text(
            "SELECT client_reference, status, direction, amount_cents, exception FROM processor_transfers "
            "WHERE status <> 'queued'"
        )
    ).all()
    return {str(r): (str(s), str(d), int(a), None if e is None else str(e)) for r, s, d, a, e in rows}


def recorded_outbox_cash(session: Session) -> int:
    value: Any = session.execute(
        text(
            "SELECT COALESCE(SUM(CASE WHEN direction = 'collect' THEN amount_cents ELSE -amount_cents END), 0) "
            "FROM processor_transfers WHERE status = 'settled'"
        )
    ).scalar()
    return int(value or 0)


def recorded_cash(session: Session) -> int:
    return int(session.execute(_RECORDED_CASH).scalar_one())


def postings_of_payment(session: Session, payment_id: int) -> list[tuple[str, int, int]]:
    """(account kind, owner id, amount) of every posting the payment's transactions made (repayment and
    distribution), to reverse them exactly."""
    rows = _rows(
        session,
        text(
            "SELECT a.account_type, a.owner_id, e.amount_cents FROM ledger_entries e "
            "JOIN ledger_accounts a ON a.account_id = e.account_id "
            "JOIN ledger_transactions t ON t.transaction_id = e.transaction_id "
            "WHERE t.payment_id = :payment AND t.kind IN ('repayment', 'distribution', 'settlement') "
            "ORDER BY e.entry_id"
        ).bindparams(payment=payment_id),
    )
    return [(str(k), int(o), int(a)) for k, o, a in rows]


def later_applied_payments(session: Session, loan_id: int, on: date, payment_id: int) -> list[Payment]:
    """The loan's applied payments after this one in replay order (date, then id), oldest first, locked."""
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.loan_id == loan_id,
                Payment.status == "settled",
                Payment.payment_id != payment_id,
                (Payment.date > on) | ((Payment.date == on) & (Payment.payment_id > payment_id)),
            )
            .order_by(Payment.date, Payment.payment_id)
            .with_for_update()
        )
    )
