"""Loan servicing as a pure function of the loan's terms and its payments: what each payment paid, which
fees fell due, how late the loan is, and what it takes to close it on any date.

A loan's servicing state is never edited in place: it is replayed from its terms and its settled payments
in date order (`service`). A backdated payment or a returned one is therefore just a different list of
payments, and the difference between two replays is exactly what the ledger has to adjust.

Conventions (stated once, used everywhere; docs/servicing.md explains them with examples):

- **Day count.** Scheduled interest is 30/360: every scheduled period earns exactly one month of interest,
  outstanding principal x annual rate / 12, whatever the calendar (this is what `schedule.amortize` uses).
  Between due dates interest accrues linearly by actual days within the period: a payment k days into a
  period of d days accrues k/d of that period's month. Periods run from due date to due date (the first from
  disbursement); after maturity they continue monthly on the same anchor day. Partial, early and late
  payments therefore pay interest only on principal outstanding, for the time it was outstanding, and a
  loan paid off on its first due date costs its principal plus exactly one month of interest.
- **Rounding.** Interest accrues as an exact rational and is rounded half up to the cent at each accrual
  point: every payment and every due date (so an on-time loan reproduces its schedule to the cent).
- **Waterfall.** A payment pays, in order: fees; all interest accrued to its date; principal due (what the
  installments up to and including the current period's still lack); then prepayment of principal. Money
  beyond everything owed is held as a credit for the borrower (refundable), never as negative debt.
- **Prepayment shortens the term.** The monthly payment stays the same, a prepayment goes straight to
  principal and does not count towards the next installments, so later installments carry more principal
  and the last ones fall away. Borrowers keep the payment they planned for, and investors get their
  principal back sooner; lowering later installments instead would stretch their exposure.
- **Dues.** Installment k is paid once the installment credit (interest and principal paid towards
  installments) reaches the sum of the scheduled payments 1..k. From the maturity date on, everything
  outstanding is due.
- **Lateness.** Days past due count from the day after the oldest unpaid installment's due date (paying
  on the due date is on time). Buckets: current (0), grace (1-15), late_16_30, late_31_120; charge-off when
  the oldest unpaid installment reaches 120 days past due.
- **Late fees.** Once per installment, at the end of its grace period if it is still unpaid: the greater
  of $15 or 5 % of what the installment still lacks (settings; `Rules`).
- **Charge-off.** Interest stops accruing and is no longer recognised; outstanding principal (and any
  accrued, unpaid interest and fees) is written off. Money received afterwards is a recovery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from api.kit.money import round_half_up

BPS_PER_UNIT = 10_000
MONTHS_PER_YEAR = 12

CURRENT, GRACE, LATE_16_30, LATE_31_120, CHARGED_OFF, REPAID = (
    "current",
    "grace",
    "late_16_30",
    "late_31_120",
    "charged_off",
    "repaid",
)


@dataclass(frozen=True, slots=True)
class Rules:
    grace_days: int = 15
    late_fee_min_cents: int = 1_500
    late_fee_bps: int = 500
    charge_off_days: int = 120


@dataclass(frozen=True, slots=True)
class Terms:
    principal_cents: int
    rate_bps: int
    disbursed_on: date
    due_dates: tuple[date, ...]
    scheduled_cents: tuple[int, ...]  # the schedule's payment for each installment

    def __post_init__(self) -> None:
        if not self.due_dates or len(self.due_dates) != len(self.scheduled_cents):
            raise ValueError("a loan needs one scheduled payment per due date")
        if any(b <= a for a, b in zip((self.disbursed_on, *self.due_dates), self.due_dates, strict=False)):
            raise ValueError("due dates must increase from the disbursement date")

    @property
    def maturity(self) -> date:
        return self.due_dates[-1]

    def cumulative_due(self, k: int) -> int:
        """Scheduled payments 1..k."""
        return sum(self.scheduled_cents[:k])


@dataclass(frozen=True, slots=True)
class Payment:
    key: int | str
    on: date
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one payment paid. `principal` includes the prepayment part; `excess` was held as credit."""

    key: int | str
    on: date
    amount_cents: int
    fees_cents: int = 0
    interest_cents: int = 0
    principal_cents: int = 0
    prepayment_cents: int = 0
    recovery_cents: int = 0
    excess_cents: int = 0

    @property
    def applied_cents(self) -> int:
        return self.fees_cents + self.interest_cents + self.principal_cents + self.recovery_cents


@dataclass(frozen=True, slots=True)
class FeeAssessed:
    installment: int
    on: date
    amount_cents: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    on: date
    status: str
    days_past_due: int


@dataclass(frozen=True, slots=True)
class State:
    principal_cents: int
    interest_cents: int  # accrued, unpaid
    fees_cents: int  # assessed, unpaid
    credit_cents: int  # installment credit: interest and principal paid towards installments
    excess_cents: int  # paid beyond what was owed, held for a refund
    accrued_through: date
    status: str = CURRENT
    charged_off_on: date | None = None
    charged_off_principal_cents: int = 0
    closed_on: date | None = None
    recovered_cents: int = 0


@dataclass(frozen=True)
class Servicing:
    """The replay's result as of a date."""

    as_of: date
    state: State
    allocations: tuple[Allocation, ...]
    fees: tuple[FeeAssessed, ...]
    changes: tuple[StatusChange, ...]
    days_past_due: int
    past_due_cents: int  # interest and principal of installments already late
    next_due_date: date | None
    next_due_cents: int  # what the current period's installment (and any arrears) still lack
    payoff_cents: int  # what closes the loan on `as_of`: fees, interest accrued to that day, principal
    installments_paid: int = field(default=0)


# ---------------------------------------------------------------------------------------------- periods


def _period_end(terms: Terms, k: int) -> date:
    """End of period k (1-based): the k-th due date, then monthly after maturity on the same anchor."""
    if k <= len(terms.due_dates):
        return terms.due_dates[k - 1]
    return terms.disbursed_on + relativedelta(months=k)


def _period_start(terms: Terms, k: int) -> date:
    return terms.disbursed_on if k == 1 else _period_end(terms, k - 1)


def months_elapsed(terms: Terms, start: date, end: date) -> Fraction:
    """Months of interest between two dates: whole periods count one month each, parts of a period count
    their share of its actual days."""
    if end <= start:
        return Fraction(0)
    total = Fraction(0)
    k = 1
    while _period_end(terms, k) <= start:
        k += 1
    while True:
        p0, p1 = _period_start(terms, k), _period_end(terms, k)
        lo, hi = max(start, p0), min(end, p1)
        if hi > lo:
            total += Fraction((hi - lo).days, (p1 - p0).days)
        if p1 >= end:
            return total
        k += 1


def accrued_interest(terms: Terms, principal_cents: int, start: date, end: date) -> Fraction:
    monthly = Fraction(terms.rate_bps, BPS_PER_UNIT * MONTHS_PER_YEAR)
    return principal_cents * monthly * months_elapsed(terms, start, end)


# ------------------------------------------------------------------------------------------------ replay


def bucket_for(days_past_due: int, rules: Rules) -> str:
    if days_past_due <= 0:
        return CURRENT
    if days_past_due <= rules.grace_days:
        return GRACE
    if days_past_due <= 30:
        return LATE_16_30
    return LATE_31_120


def late_fee_cents(unpaid_cents: int, rules: Rules) -> int:
    """The greater of the minimum fee or a share of what the installment still lacks, half up."""
    return max(rules.late_fee_min_cents, round_half_up(Fraction(unpaid_cents * rules.late_fee_bps, BPS_PER_UNIT)))


class _Replay:
    def __init__(self, terms: Terms, rules: Rules) -> None:
        self.terms = terms
        self.rules = rules
        self.state = State(
            principal_cents=terms.principal_cents,
            interest_cents=0,
            fees_cents=0,
            credit_cents=0,
            excess_cents=0,
            accrued_through=terms.disbursed_on,
        )
        self.allocations: list[Allocation] = []
        self.fees: list[FeeAssessed] = []
        self.changes: list[StatusChange] = []
        self.fee_charged: set[int] = set()

    # -- accrual and dues

    def accrue(self, to: date) -> None:
        s = self.state
        if s.status in (CHARGED_OFF, REPAID) or to <= s.accrued_through:
            return
        owed = accrued_interest(self.terms, s.principal_cents, s.accrued_through, to)
        self.state = replace(s, interest_cents=s.interest_cents + round_half_up(owed), accrued_through=to)

    def payoff_ip(self) -> int:
        return self.state.interest_cents + self.state.principal_cents

    def installments_due_by(self, day: date, *, inclusive: bool) -> int:
        """How many installments have fallen due by `day` (inclusive: including one due that day)."""
        return sum(1 for d in self.terms.due_dates if (d <= day if inclusive else d < day))

    def due_now(self, day: date) -> int:
        """Interest and principal payable on `day` without prepaying: installments up to and including the
        current period's, capped by the payoff; from maturity on, everything."""
        if day >= self.terms.maturity:
            return self.payoff_ip()
        k = self.installments_due_by(day, inclusive=True)
        current = k if k and self.terms.due_dates[k - 1] == day else k + 1
        return max(0, min(self.terms.cumulative_due(current) - self.state.credit_cents, self.payoff_ip()))

    def oldest_unpaid(self, day: date) -> int | None:
        """The 1-based installment whose lateness counts, among those due before `day`."""
        if self.state.status == REPAID or self.payoff_ip() == 0:
            return None
        late = self.installments_due_by(day, inclusive=False)
        for k in range(1, late + 1):
            if self.state.credit_cents < self.terms.cumulative_due(k):
                return k
        if late == len(self.terms.due_dates) and self.payoff_ip() > 0:
            return late  # matured with a remainder: still due since maturity
        return None

    def days_past_due(self, day: date) -> int:
        """At the end of `day`."""
        k = self.oldest_unpaid(day + timedelta(days=1))
        return 0 if k is None else (day - self.terms.due_dates[k - 1]).days

    # -- events

    def pay(self, payment: Payment) -> None:
        if payment.amount_cents <= 0:
            raise ValueError("payments are positive")
        s = self.state
        if s.status == CHARGED_OFF:
            self.state = replace(s, recovered_cents=s.recovered_cents + payment.amount_cents)
            self.allocations.append(
                Allocation(payment.key, payment.on, payment.amount_cents, recovery_cents=payment.amount_cents)
            )
            return
        if s.status == REPAID:  # nothing is owed any more: all of it is held for a refund
            self.state = replace(s, excess_cents=s.excess_cents + payment.amount_cents)
            self.allocations.append(
                Allocation(payment.key, payment.on, payment.amount_cents, excess_cents=payment.amount_cents)
            )
            return
        self.accrue(payment.on)
        s = self.state
        left = payment.amount_cents
        due = self.due_now(payment.on)
        fees = min(left, s.fees_cents)
        left -= fees
        interest = min(left, s.interest_cents)
        left -= interest
        principal_due = min(left, max(0, due - interest), s.principal_cents)
        left -= principal_due
        prepayment = min(left, s.principal_cents - principal_due)
        left -= prepayment
        credit = min(interest + principal_due, due)
        self.state = replace(
            s,
            fees_cents=s.fees_cents - fees,
            interest_cents=s.interest_cents - interest,
            principal_cents=s.principal_cents - principal_due - prepayment,
            credit_cents=s.credit_cents + credit,
            excess_cents=s.excess_cents + left,
        )
        self.allocations.append(
            Allocation(
                payment.key,
                payment.on,
                payment.amount_cents,
                fees_cents=fees,
                interest_cents=interest,
                principal_cents=principal_due + prepayment,
                prepayment_cents=prepayment,
                excess_cents=left,
            )
        )
        st = self.state
        if st.principal_cents == 0 and st.interest_cents == 0 and st.fees_cents == 0:
            self.state = replace(st, status=REPAID, closed_on=payment.on)
            self.changes.append(StatusChange(payment.on, REPAID, 0))

    def end_of_day(self, day: date) -> None:
        """Due-date accrual, late fees, buckets and charge-off, after the day's payments."""
        if self.state.status in (CHARGED_OFF, REPAID):
            return
        if day in self.terms.due_dates:
            self.accrue(day)
        rules = self.rules
        for k, due_date in enumerate(self.terms.due_dates, start=1):
            if k in self.fee_charged or due_date + timedelta(days=rules.grace_days) != day:
                continue
            lacking = self.terms.cumulative_due(k) - self.state.credit_cents
            if lacking > 0 and self.payoff_ip() > 0:
                unpaid = min(lacking, self.terms.scheduled_cents[k - 1])
                fee = late_fee_cents(unpaid, rules)
                self.fee_charged.add(k)
                self.fees.append(FeeAssessed(k, day, fee))
                self.state = replace(self.state, fees_cents=self.state.fees_cents + fee)
        dpd = self.days_past_due(day)
        if dpd >= rules.charge_off_days:
            self.accrue(day)
            s = self.state
            self.state = replace(
                s, status=CHARGED_OFF, charged_off_on=day, charged_off_principal_cents=s.principal_cents
            )
            self.changes.append(StatusChange(day, CHARGED_OFF, dpd))
            return
        bucket = bucket_for(dpd, rules)
        if bucket != self.state.status:
            self.state = replace(self.state, status=bucket)
            self.changes.append(StatusChange(day, bucket, dpd))


def _event_days(terms: Terms, rules: Rules, payments: Sequence[Payment], as_of: date) -> list[date]:
    """Days on which something can happen, through `as_of`: payments, due dates, the ends of grace periods
    and every day a loan could cross a bucket or the charge-off line (due date + 1, 16, 31, 120)."""
    days: set[date] = {p.on for p in payments if p.on <= as_of}
    horizon = terms.maturity + relativedelta(months=6)
    k = 1
    while True:
        due = _period_end(terms, k)
        if due > as_of or due > horizon:
            break
        for offset in (0, 1, rules.grace_days, rules.grace_days + 1, 31, rules.charge_off_days):
            day = due + timedelta(days=offset)
            if day <= as_of:
                days.add(day)
        k += 1
    return sorted(days)


def service(terms: Terms, payments: Iterable[Payment], as_of: date, rules: Rules | None = None) -> Servicing:
    """Replay the loan from disbursement through the end of `as_of`."""
    rules = rules or Rules()
    ordered = sorted((p for p in payments if p.on <= as_of), key=lambda p: (p.on, str(p.key)))
    replay = _Replay(terms, rules)
    by_day: dict[date, list[Payment]] = {}
    for payment in ordered:
        by_day.setdefault(payment.on, []).append(payment)
    for day in _event_days(terms, rules, ordered, as_of):
        for payment in by_day.get(day, []):
            replay.pay(payment)
        replay.end_of_day(day)
    return _snapshot(replay, as_of)


def _snapshot(replay: _Replay, as_of: date) -> Servicing:
    terms = replay.terms
    state = replay.state
    closed = state.status in (CHARGED_OFF, REPAID)
    if closed:
        interest_now = state.interest_cents
    else:
        interest_now = state.interest_cents + round_half_up(
            accrued_interest(terms, state.principal_cents, state.accrued_through, as_of)
        )
    payoff = 0 if closed else state.fees_cents + interest_now + state.principal_cents
    dpd = 0 if closed else replay.days_past_due(as_of)
    late = replay.installments_due_by(as_of, inclusive=False)
    past_due = 0
    next_due_date: date | None = None
    next_due = 0
    if not closed:
        owed_now = interest_now + state.principal_cents
        n = len(terms.due_dates)
        unpaid = next((k for k in range(1, n + 1) if state.credit_cents < terms.cumulative_due(k)), None)
        if as_of > terms.maturity:
            past_due = owed_now
        else:
            past_due = max(0, min(terms.cumulative_due(late) - state.credit_cents, owed_now))
        if unpaid is None and owed_now > 0:
            unpaid = n  # every installment met, a remainder (from late days) is due at maturity
        if unpaid is not None:
            current = next((k for k, d in enumerate(terms.due_dates, start=1) if d >= as_of), n)
            target = max(unpaid, current)
            next_due_date = terms.due_dates[unpaid - 1]
            # What it takes to be current on the target installment's due date (interest runs until then).
            then = max(as_of, terms.due_dates[target - 1])
            owed_then = state.interest_cents + state.principal_cents
            owed_then += round_half_up(accrued_interest(terms, state.principal_cents, state.accrued_through, then))
            reach = owed_then if target == n else terms.cumulative_due(target) - state.credit_cents
            next_due = max(0, min(reach, owed_then))
    paid = sum(1 for k in range(1, len(terms.due_dates) + 1) if state.credit_cents >= terms.cumulative_due(k))
    return Servicing(
        as_of=as_of,
        state=state,
        allocations=tuple(replay.allocations),
        fees=tuple(replay.fees),
        changes=tuple(replay.changes),
        days_past_due=dpd,
        past_due_cents=past_due,
        next_due_date=next_due_date,
        next_due_cents=next_due,
        payoff_cents=payoff,
        installments_paid=len(terms.due_dates) if state.status == REPAID else paid,
    )


def payoff_quote(terms: Terms, payments: Iterable[Payment], on: date, rules: Rules | None = None) -> int:
    """The exact amount that closes the loan on `on` (0 once repaid or charged off)."""
    return service(terms, payments, on, rules).payoff_cents


def beyond_owed_cents(after: Servicing, new: Allocation) -> int:
    """What payment `new` paid beyond everything the loan owed when it was made (`after`: the replay ending with
    it): its excess, or after a charge-off the part of its recovery past what was written off."""
    if new.recovery_cents:
        s = after.state
        written_off = s.charged_off_principal_cents + s.interest_cents + s.fees_cents
        return min(new.recovery_cents, max(0, s.recovered_cents - written_off))
    return new.excess_cents


def overpayment_allowed_cents(terms: Terms) -> int:
    """The most one payment may pay beyond everything owed: one scheduled installment.

    Why a limit: a borrower who overpays a little, by paying a payoff quoted for a later day or the usual
    installment once too often, is held and refunded; a payment far beyond everything owed is a typo or a
    probe, and its debit would draw that sum from the borrower's bank account for days before the refund."""
    return max(terms.scheduled_cents)
