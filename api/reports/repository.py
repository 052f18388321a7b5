"""SQL for aggregate, de-identified reports (analysts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.lending.tables import Loan
from api.payments.tables import Payment, PaymentDistribution
from api.servicing.tables import NoteChargeOff


def loan_book(session: Session) -> list[tuple[str, str, int, int, int]]:
    """(status, grade, loans, amount, funded) in cents."""
    rows = session.execute(
        select(
            Loan.status,
            Loan.grade,
            func.count(),
            func.coalesce(func.sum(Loan.amount_cents), 0),
            func.coalesce(func.sum(Loan.funded_amount_cents), 0),
        )
        .group_by(Loan.status, Loan.grade)
        .order_by(Loan.status, Loan.grade)
    ).all()
    return [(s, g, int(n), int(a), int(f)) for s, g, n, a, f in rows]


def note_flows(session: Session, investor_id: int) -> list[tuple[int, date, int, int, int, int, int]]:
    """(investment_id, payment date, principal, interest, fees, recovery, servicing fee) per distribution of
    the investor's settled payments, in date order."""
    rows = session.execute(
        select(
            PaymentDistribution.investment_id,
            Payment.date,
            PaymentDistribution.principal_cents,
            PaymentDistribution.interest_cents,
            PaymentDistribution.fees_cents,
            PaymentDistribution.recovery_cents,
            PaymentDistribution.servicing_fee_cents,
        )
        .join(Payment, Payment.payment_id == PaymentDistribution.payment_id)
        .where(PaymentDistribution.investor_id == investor_id, Payment.status == "settled")
        .order_by(Payment.date, Payment.payment_id)
    ).all()
    return [(int(i), d, int(p), int(n), int(f), int(r), int(s)) for i, d, p, n, f, r, s in rows]


def note_charge_offs(session: Session, investor_id: int) -> dict[int, tuple[date, int]]:
    rows = session.execute(
        select(NoteChargeOff.investment_id, NoteChargeOff.charged_off_on, NoteChargeOff.principal_cents).where(
            NoteChargeOff.investor_id == investor_id
        )
    ).all()
    return {int(i): (d, int(p)) for i, d, p in rows}


def cash_movements(session: Session, investor_id: int, start: date, end: date) -> list[Any]:
    """Every movement of the investor's cash between two dates (end exclusive): the ledger's postings to their
    cash account, with the transaction's kind, description and time."""
    return list(
        session.execute(
            text(
                "SELECT t.created_at, t.kind, t.description, -e.amount_cents AS amount_cents "
                "FROM ledger_entries e JOIN ledger_accounts a ON a.account_id = e.account_id "
                "JOIN ledger_transactions t ON t.transaction_id = e.transaction_id "
                "WHERE a.account_type = 'investor_cash' AND a.owner_id = :investor "
                "AND t.created_at >= :start AND t.created_at < :end ORDER BY t.created_at, t.transaction_id"
            ),
            {"investor": investor_id, "start": start, "end": end},
        ).all()
    )


def cash_before(session: Session, investor_id: int, start: date) -> int:
    """The investor's cash (natural balance) at the start of `start`."""
    value: Any = session.execute(
        text(
            "SELECT COALESCE(SUM(-e.amount_cents), 0) FROM ledger_entries e "
            "JOIN ledger_accounts a ON a.account_id = e.account_id "
            "JOIN ledger_transactions t ON t.transaction_id = e.transaction_id "
            "WHERE a.account_type = 'investor_cash' AND a.owner_id = :investor AND t.created_at < :start"
        ),
        {"investor": investor_id, "start": start},
    ).scalar()
    return int(value or 0)
