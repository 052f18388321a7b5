"""Servicing a loan in the database: the replay (api/payments/servicing.py) over its stored terms and settled
payments decides what a new payment pays, what is owed, which late fees fell due and which status the loan is
in; this module writes those decisions down (payments, distributions, fees, charge-offs, lifecycle events, the
snapshot) with a balanced ledger transaction for every movement.

Ordering: a day's payments come before its end-of-day servicing (due-date accrual, late fees, buckets,
charge-off), so the daily job services a day once it is over (the worker runs it for yesterday). Payments on
one day replay in id order (their replay key is the zero-padded id; the payment being made sorts last)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy.orm import Session

from api.kit.clock import utcnow
from api.kit.errors import InvalidInput
from api.kit.money import format_cents, round_half_up
from api.ledger import postings as ledger_postings
from api.ledger import repository as ledger_repo
from api.lending import events
from api.lending.events import Actor
from api.lending.lifecycle import SERVICING_ORDER, LoanEvent, LoanStatus
from api.lending.tables import Loan
from api.payments import servicing
from api.payments.split import split_pro_rata
from api.payments.tables import Installment, Payment, PaymentDistribution
from api.servicing import postings
from api.servicing import repository as repo
from api.servicing.tables import LoanFee, LoanServicingState, NoteChargeOff
from api.settings import Settings

SERVICER = Actor.system("servicing")
NEW_KEY = "~"  # sorts after every zero-padded id: the payment being made is the day's last
BPS = 10_000


@dataclass(frozen=True)
class Taken:
    payment: Payment
    distributions: list[PaymentDistribution]
    result: servicing.Servicing


def rules_for(settings: Settings) -> servicing.Rules:
    return servicing.Rules(
        grace_days=settings.grace_days,
        late_fee_min_cents=settings.late_fee_min_cents,
        late_fee_bps=settings.late_fee_bps,
        charge_off_days=settings.charge_off_days,
    )


def payment_key(payment_id: int) -> str:
    return f"{payment_id:012d}"


def terms_of(loan: Loan, installments: list[Installment]) -> servicing.Terms:
    if loan.disbursed_at is None or not installments:
        raise ValueError(f"loan {loan.loan_id} is not issued")
    return servicing.Terms(
        principal_cents=loan.amount_cents,
        rate_bps=loan.interest_rate_bps,
        disbursed_on=loan.disbursed_at.date(),
        due_dates=tuple(i.due_date for i in installments),
        scheduled_cents=tuple(i.payment_cents for i in installments),
    )


def _replay_inputs(session: Session, loan: Loan) -> tuple[servicing.Terms, list[servicing.Payment]]:
    terms = terms_of(loan, repo.installments(session, loan.loan_id))
    paid = [
        servicing.Payment(payment_key(p.payment_id), p.date, p.amount_cents)
        for p in repo.settled_payments(session, loan.loan_id)
    ]
    return terms, paid


def replay(session: Session, loan: Loan, as_of: date, settings: Settings) -> servicing.Servicing:
    terms, paid = _replay_inputs(session, loan)
    return servicing.service(terms, paid, as_of, rules_for(settings))


# ------------------------------------------------------------------------------------------ payments


class PaymentTooLarge(InvalidInput):
    code = "payment_too_large"


def take_payment(
    session: Session,
    loan: Loan,
    *,
    payer_user_id: int,
    amount_cents: int,
    reference: str,
    on: date,
    settings: Settings,
    actor: Actor,
    transfer_ref_id: int | None = None,
    limit_overpayment: bool = False,
) -> Taken:
    """Apply a payment made on `on` to a locked, issued loan: waterfall, ledger, distribution, status. Its money
    is in transit at the processor, so the note holders' share waits in their pending cash until the processor
    settles it (api/integrations/processor/settlement.py). With `limit_overpayment` (a new payment, not one
    re-applied after a return) a payment beyond everything owed by more than one installment is refused,
    before anything is written."""
    terms, paid = _replay_inputs(session, loan)
    rules = rules_for(settings)
    result = servicing.service(terms, [*paid, servicing.Payment(NEW_KEY, on, amount_cents)], on, rules)
    a = next(x for x in result.allocations if x.key == NEW_KEY)
    beyond, allowed = servicing.beyond_owed_cents(result, a), servicing.overpayment_allowed_cents(terms)
    if limit_overpayment and beyond > allowed:
        owed = "what it owes" if a.recovery_cents else f"{format_cents(amount_cents - beyond)} closes it"
        ceiling = amount_cents - beyond + allowed
        raise PaymentTooLarge(
            f"a payment on loan {loan.loan_id} can be at most {format_cents(ceiling)} today ({owed}, and up to one "
            f"installment more is held for a refund); you asked to pay {format_cents(amount_cents)}"
        )
    payment = Payment(
        loan_id=loan.loan_id,
        payer_user_id=payer_user_id,
        amount_cents=amount_cents,
        principal_cents=a.principal_cents,
        interest_cents=a.interest_cents,
        fees_cents=a.fees_cents,
        prepayment_cents=a.prepayment_cents,
        recovery_cents=a.recovery_cents,
        excess_cents=a.excess_cents,
        servicing_fee_cents=0,
        status="settled",
        processor_reference=reference,
        transfer_ref_id=transfer_ref_id,
        date=on,
        created_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    ledger_repo.post(
        session,
        "repayment",
        ledger_postings.repayment(loan.loan_id, amount_cents),
        f"payment {payment.payment_id} on loan {loan.loan_id}",
        loan_id=loan.loan_id,
        payment_id=payment.payment_id,
    )
    distributions = _distribute(session, loan, payment, settings)
    sync(session, loan, result, actor)
    return Taken(payment, distributions, result)


def _fee_split(total_fee: int, gross: list[int]) -> list[int]:
    if total_fee == 0 or sum(gross) == 0:
        return [0] * len(gross)
    return split_pro_rata(total_fee, gross)


def _distribute(session: Session, loan: Loan, payment: Payment, settings: Settings) -> list[PaymentDistribution]:
    """Pro rata to each note's outstanding principal (recoveries: to each note's written-off principal), each
    part exact to the cent (largest remainder, api/payments/split.py); the servicing fee (recoveries: the
    collection fee) is the setting's share of the whole, rounded half up, split over the notes by their shares."""
    notes = repo.note_outstanding(session, loan.loan_id)
    rows: list[PaymentDistribution] = []
    if notes:
        if payment.recovery_cents:
            written = {c.investment_id: c.principal_cents for c in repo.charge_offs_of_loan(session, loan.loan_id)}
            weights = [written.get(n.investment_id, 0) for n, _ in notes]
            bps = settings.collection_fee_bps
        else:
            weights = [max(0, left) for _, left in notes]
            bps = settings.servicing_fee_bps
        if sum(weights) == 0:
            weights = [n.amount_cents for n, _ in notes]
        principal = split_pro_rata(payment.principal_cents, weights)
        interest = split_pro_rata(payment.interest_cents, weights)
        fees = split_pro_rata(payment.fees_cents, weights)
        recovery = split_pro_rata(payment.recovery_cents, weights)
        gross = [p + i + f + r for p, i, f, r in zip(principal, interest, fees, recovery, strict=True)]
        fee_total = round_half_up(Fraction(sum(gross) * bps, BPS))
        fee_parts = _fee_split(fee_total, gross)
        for (note, _), p, i, f, r, s in zip(notes, principal, interest, fees, recovery, fee_parts, strict=True):
            if p or i or f or r:
                rows.append(
                    PaymentDistribution(
                        payment_id=payment.payment_id,
                        investment_id=note.investment_id,
                        investor_id=note.investor_id,
                        principal_cents=p,
                        interest_cents=i,
                        fees_cents=f,
                        recovery_cents=r,
                        servicing_fee_cents=s,
                    )
                )
        payment.servicing_fee_cents = fee_total
    applied = payment.amount_cents - payment.excess_cents
    if not rows and applied:
        raise ValueError(f"loan {loan.loan_id} has no issued notes to distribute {applied} cents to")
    session.add_all(rows)
    session.flush()
    if rows or payment.excess_cents:
        shares = [
            postings.NoteShare(
                d.investor_id,
                d.principal_cents,
                d.interest_cents,
                d.fees_cents,
                d.recovery_cents,
                d.servicing_fee_cents,
            )
            for d in rows
        ]
        ledger_repo.post(
            session,
            "distribution",
            postings.payment_distribution(loan.loan_id, shares, payment.excess_cents, pending=True),
            f"payment {payment.payment_id} distributed to {len(rows)} notes, servicing fee "
            f"{format_cents(payment.servicing_fee_cents)}, held {format_cents(payment.excess_cents)}",
            loan_id=loan.loan_id,
            payment_id=payment.payment_id,
        )
    return rows


# ----------------------------------------------------------------------------------- state sync


def _event_for(current: str, target: str) -> LoanEvent | None:
    if current == target:
        return None
    if current == LoanStatus.REPAID:  # the payment that closed it was returned
        return LoanEvent.REOPEN
    if target == LoanStatus.REPAID:
        return LoanEvent.REPAY
    if target == LoanStatus.CHARGED_OFF:
        return LoanEvent.CHARGE_OFF
    order = [s.value for s in SERVICING_ORDER]
    return LoanEvent.BECOME_DELINQUENT if order.index(target) > order.index(current) else LoanEvent.CURE


def sync(session: Session, loan: Loan, result: servicing.Servicing, actor: Actor) -> dict[str, int]:
    """Write the replay's decisions down: new late fees, the charge-off, the status, installments, snapshot.
    Idempotent: running it twice with the same replay changes nothing the second time."""
    counts = {"fees": 0, "changes": 0, "charge_offs": 0}
    known = {f.installment_number for f in repo.fees_of_loan(session, loan.loan_id)}
    terms_due = {i.number: i for i in repo.installments(session, loan.loan_id)}
    for fee in result.fees:
        if fee.installment in known:
            continue
        due = terms_due[fee.installment]
        repo.add_fee(
            session,
            LoanFee(
                loan_id=loan.loan_id,
                installment_number=fee.installment,
                assessed_on=fee.on,
                amount_cents=fee.amount_cents,
                reason=(
                    f"installment {fee.installment} due {due.due_date.isoformat()} still unpaid at the end of the "
                    f"grace period: the greater of the minimum fee or a share of what it lacked"
                ),
            ),
        )
        counts["fees"] += 1
    state = result.state
    if state.status == servicing.CHARGED_OFF and loan.status != LoanStatus.CHARGED_OFF:
        _charge_off(session, loan, state.charged_off_on or result.as_of)
        counts["charge_offs"] += 1
    event = _event_for(loan.status, state.status)
    if event is not None:
        events.transition(
            session,
            loan,
            event,
            actor,
            target=LoanStatus(state.status),
            details={"as_of": result.as_of.isoformat(), "days_past_due": result.days_past_due},
        )
        counts["changes"] += 1
        if state.status == servicing.REPAID:
            loan.closed_at = utcnow()
        elif event is LoanEvent.REOPEN:
            loan.closed_at = None
    _installments(session, loan.loan_id, result)
    repo.save_snapshot(
        session,
        LoanServicingState(
            loan_id=loan.loan_id,
            as_of=result.as_of,
            status=state.status,
            days_past_due=result.days_past_due,
            principal_cents=state.principal_cents,
            interest_cents=state.interest_cents,
            fees_cents=state.fees_cents,
            excess_cents=state.excess_cents,
            past_due_cents=result.past_due_cents,
            next_due_date=result.next_due_date,
            next_due_cents=result.next_due_cents,
            payoff_cents=result.payoff_cents,
            charged_off_on=state.charged_off_on,
            charged_off_principal_cents=state.charged_off_principal_cents,
            recovered_cents=state.recovered_cents,
            updated_at=utcnow(),
        ),
    )
    return counts


def _charge_off(session: Session, loan: Loan, on: date) -> None:
    notes = [(n, left) for n, left in repo.note_outstanding(session, loan.loan_id) if left > 0]
    if not notes:
        return
    repo.add_charge_offs(
        session,
        [
            NoteChargeOff(
                investment_id=n.investment_id,
                loan_id=loan.loan_id,
                investor_id=n.investor_id,
                principal_cents=left,
                charged_off_on=on,
            )
            for n, left in notes
        ],
    )
    ledger_repo.post(
        session,
        "charge_off",
        postings.charge_off(loan.loan_id, [(n.investor_id, left) for n, left in notes]),
        f"loan {loan.loan_id} charged off on {on.isoformat()}: "
        f"{format_cents(sum(left for _, left in notes))} of principal written off",
        loan_id=loan.loan_id,
    )


def _installments(session: Session, loan_id: int, result: servicing.Servicing) -> None:
    """Installments show what has been paid: principal and interest paid so far, oldest first."""
    principal_left = sum(a.principal_cents for a in result.allocations)
    interest_left = sum(a.interest_cents for a in result.allocations)
    now = utcnow()
    for i in repo.installments(session, loan_id):
        paid_i = min(interest_left, i.interest_cents)
        paid_p = min(principal_left, i.principal_cents)
        interest_left -= paid_i
        principal_left -= paid_p
        if (paid_i, paid_p) != (i.paid_interest_cents, i.paid_principal_cents):
            i.paid_interest_cents, i.paid_principal_cents = paid_i, paid_p
            i.updated_at = now
            done = paid_i == i.interest_cents and paid_p == i.principal_cents
            i.paid_at = (i.paid_at or now) if done else None
    session.flush()


def describe(result: servicing.Servicing) -> str:
    return json.dumps({"status": result.state.status, "dpd": result.days_past_due}, sort_keys=True)
