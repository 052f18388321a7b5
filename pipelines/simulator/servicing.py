"""Loans whose history departs from the schedule (prepaid in part or in full, paid late with a late fee,
defaulted and charged off then partly recovered, a payment returned), serviced one loan at a time by the API's
own replay (`api.payments.servicing`), and written down the way `api.servicing.service` writes them: payments
with their waterfall, distributions pro rata to each note's outstanding principal less the servicing fee
(recoveries: to each note's written-off principal less the collection fee), late fees, note charge-offs, the
loan's lifecycle events, its installments' paid columns, its servicing snapshot, and a balanced ledger
transaction of the API's postings (`api.ledger.postings`, `api.servicing.postings`) for every movement.

The borrower pays what servicing says is owed on the day (fees, interest accrued, principal due); a late payer
pays the late installment with its fee; a prepayer adds a share of the balance, or pays the payoff. The replay
is driven day by day (the days `api.payments.servicing.service` visits) so each amount is read from the state
it is paid into; `tests/pipelines/test_clone.py` checks that `service` over the final payments gives back the
same allocations, fees, status changes and state.

Timing: a payment is taken at its day's `PAYMENT_SECONDS`; the daily job services day D at 00:05 on D + 1 (the
worker services yesterday), so what the replay decides at the end of a day without a payment is written then;
what it decides on a payment day is written by that payment's own sync, by the borrower."""

from __future__ import annotations

import json
from bisect import insort
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from api.kit.money import round_half_up
from api.ledger import postings as ledger_postings
from api.ledger.postings import Posting, check_balanced
from api.payments import servicing as sv
from api.payments.split import split_pro_rata
from api.servicing import postings as servicing_postings
from api.servicing.service import _event_for

BPS = 10_000
RUN_DELAY = timedelta(days=1, minutes=5)  # the daily job for day D runs at 00:05 on D + 1
RETURN_CODE = "R01"  # insufficient funds: by far the most common ACH return


@dataclass(frozen=True)
class Plan:
    """What the borrower does, by installment number (1-based)."""

    default_at: int | None = None  # the first installment never paid: payments stop there
    prepay_full_at: int | None = None  # the loan is paid off on this installment's due date
    partial: dict[int, float] = field(default_factory=dict)  # extra principal, as a share of the balance left
    late: dict[int, int] = field(default_factory=dict)  # paid this many days after its due date
    returned: dict[int, tuple[int, int]] = field(default_factory=dict)  # (returned after, paid again after) days
    recovery: tuple[int, float] | None = None  # (days after charge-off, share of the written-off principal)

    def is_plain(self) -> bool:
        return not (
            self.default_at or self.prepay_full_at or self.partial or self.late or self.returned or self.recovery
        )


@dataclass(frozen=True)
class LoanInput:
    loan_id: int
    borrower_id: int
    amount_cents: int
    rate_bps: int
    disbursed_on: date
    due_dates: tuple[date, ...]
    scheduled_cents: tuple[int, ...]
    principal_cents: tuple[int, ...]  # the schedule's principal per installment
    interest_cents: tuple[int, ...]  # the schedule's interest per installment
    notes: tuple[tuple[int, int, int], ...]  # (investment_id, investor_id, amount_cents), oldest first
    payment_seconds: int  # seconds after midnight at which the borrower's payments are taken


@dataclass
class Rows:
    """Rows of one chunk of loans; a payment is named by `pkey` (loan_id * 1000 + its number on the loan)
    until the chunk gives it an id; a ledger transaction by `key`."""

    payments: list[tuple] = field(default_factory=list)
    distributions: list[tuple] = field(default_factory=list)
    fees: list[tuple] = field(default_factory=list)
    charge_offs: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    installments: list[tuple] = field(default_factory=list)
    snapshots: list[tuple] = field(default_factory=list)
    loans: list[tuple] = field(default_factory=list)
    txns: list[tuple] = field(default_factory=list)
    posts: list[tuple] = field(default_factory=list)
    next_key: int = 0


@dataclass(frozen=True)
class Fees:
    servicing_bps: int
    collection_bps: int


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(seconds=seconds)


def _post(rows: Rows, kind: str, postings: list[Posting], at: datetime, loan_id: int, pkey: int | None) -> None:
    rows.next_key += 1
    key = rows.next_key
    rows.txns.append((key, kind, at, loan_id, pkey))
    for seq, p in enumerate(postings):
        rows.posts.append((key, p.account.kind.value, p.account.owner_id, p.amount_cents, seq))


class _Loan:
    """One loan's replay, driven day by day, and the rows it leaves."""

    def __init__(self, loan: LoanInput, plan: Plan, through: date, rules: sv.Rules, fees: Fees, rows: Rows) -> None:
        self.loan, self.plan, self.through, self.rules, self.fee_rates, self.rows = (
            loan,
            plan,
            through,
            rules,
            fees,
            rows,
        )
        self.terms = sv.Terms(loan.amount_cents, loan.rate_bps, loan.disbursed_on, loan.due_dates, loan.scheduled_cents)
        self.replay = sv._Replay(self.terms, rules)
        self.paid_principal = {n[0]: 0 for n in loan.notes}  # by settled payments
        self.written_off: dict[int, int] = {}
        self.count = 0
        self.settled: list[tuple[sv.Allocation, datetime]] = []
        self.payment_days: dict[date, datetime] = {}
        self.status = sv.CURRENT
        self.closed_at: datetime | None = None
        self.last_sync: tuple[date, datetime] | None = None
        self.moved: tuple[date, date, datetime] | None = None  # a returned payment: changes until its return
        self.charged: tuple[date, datetime] = (through, datetime.combine(through, time()))
        self.returned_postings: list[Posting] = []

    # -- money

    def _distribute(self, alloc: sv.Allocation, pkey: int, at: datetime, settled: bool) -> None:
        """api.servicing.service._distribute, on this loan's notes as they stand."""
        notes = self.loan.notes
        if alloc.recovery_cents:
            weights = [self.written_off.get(n[0], 0) for n in notes]
            bps = self.fee_rates.collection_bps
        else:
            weights = [max(0, n[2] - self.paid_principal[n[0]] - self.written_off.get(n[0], 0)) for n in notes]
            bps = self.fee_rates.servicing_bps
        if sum(weights) == 0:
            weights = [n[2] for n in notes]
        principal = split_pro_rata(alloc.principal_cents, weights)
        interest = split_pro_rata(alloc.interest_cents, weights)
        fees = split_pro_rata(alloc.fees_cents, weights)
        recovery = split_pro_rata(alloc.recovery_cents, weights)
        gross = [p + i + f + r for p, i, f, r in zip(principal, interest, fees, recovery, strict=True)]
        fee_total = round_half_up(Fraction(sum(gross) * bps, BPS))
        fee_parts = [0] * len(gross) if fee_total == 0 or sum(gross) == 0 else split_pro_rata(fee_total, gross)
        shares = []
        for (investment_id, investor_id, _), p, i, f, r, s in zip(
            notes, principal, interest, fees, recovery, fee_parts, strict=True
        ):
            if p or i or f or r:
                self.rows.distributions.append((pkey, investment_id, investor_id, p, i, f, r, s))
                shares.append(servicing_postings.NoteShare(investor_id, p, i, f, r, s))
                if settled:
                    self.paid_principal[investment_id] += p
        return_code = None if settled else RETURN_CODE
        self.rows.payments.append(
            (
                pkey,
                self.loan.loan_id,
                self.loan.borrower_id,
                alloc.amount_cents,
                alloc.principal_cents,
                alloc.interest_cents,
                alloc.fees_cents,
                alloc.prepayment_cents,
                alloc.recovery_cents,
                alloc.excess_cents,
                fee_total,
                "settled" if settled else "returned",
                return_code,
                alloc.on,
                at,
            )
        )
        repayment = ledger_postings.repayment(self.loan.loan_id, alloc.amount_cents, settled=True)
        _post(self.rows, "repayment", repayment, at, self.loan.loan_id, pkey)
        distribution: list[Posting] = []
        if shares or alloc.excess_cents:
            distribution = servicing_postings.payment_distribution(self.loan.loan_id, shares, alloc.excess_cents)
            _post(self.rows, "distribution", distribution, at, self.loan.loan_id, pkey)
        if not settled:
            self.returned_postings = [Posting(p.account, -p.amount_cents) for p in (*repayment, *distribution)]

    def pay(self, day: date, amount: int, *, returned_after: int | None = None) -> None:
        if amount <= 0:
            return
        self.count += 1
        pkey = self.loan.loan_id * 1000 + self.count
        at = _at(day, self.loan.payment_seconds)
        r = self.replay
        back = day + timedelta(days=returned_after or 0)
        if returned_after is not None and back <= self.through:
            saved = (r.state, len(r.allocations), len(r.fees), len(r.changes), set(r.fee_charged))
            r.pay(sv.Payment(f"{self.count:04d}", day, amount))
            if r.state.status == sv.REPAID:  # a payment that closed the loan cannot be returned (returns.py)
                self.settled.append((r.allocations[-1], at))
                self._distribute(r.allocations[-1], pkey, at, settled=True)
                self.payment_days[day] = at
                self.last_sync = (day, at)
                return
            alloc = r.allocations[-1]
            r.state, r.fee_charged = saved[0], saved[4]
            del r.allocations[saved[1] :], r.fees[saved[2] :], r.changes[saved[3] :]
            self._distribute(alloc, pkey, at, settled=False)
            returned_at = _at(back, self.loan.payment_seconds + 1800)
            _post(
                self.rows,
                "payment_return",
                check_balanced(self.returned_postings),
                returned_at,
                self.loan.loan_id,
                pkey,
            )
            self.moved = (day, back, returned_at)
            self.last_sync = (back, returned_at)
            return
        r.pay(sv.Payment(f"{self.count:04d}", day, amount))
        self.settled.append((r.allocations[-1], at))
        self._distribute(r.allocations[-1], pkey, at, settled=True)
        self.payment_days[day] = at
        self.last_sync = (day, at)

    # -- what the borrower pays

    def owed_now(self, day: date) -> int:
        """Fees and what is due today (interest and principal), after accruing to today."""
        r = self.replay
        r.accrue(day)
        return r.state.fees_cents + r.due_now(day)

    def late_amount(self, day: date, k: int) -> int:
        """What brings installment k up to date on a later day: fees, and what it lacks (at least the interest
        accrued, which the waterfall takes first)."""
        r = self.replay
        r.accrue(day)
        lacking = self.terms.cumulative_due(k) - r.state.credit_cents
        return r.state.fees_cents + min(max(lacking, r.state.interest_cents), r.payoff_ip())

    # -- the run

    def run(self) -> None:
        loan, plan, through = self.loan, self.plan, self.through
        actions: dict[date, list[tuple[str, int]]] = {}
        for k, due in enumerate(loan.due_dates, start=1):
            if plan.default_at is not None and k >= plan.default_at:
                break
            if k == plan.prepay_full_at:
                actions.setdefault(due, []).append(("payoff", k))
                break
            if k in plan.late:
                actions.setdefault(due + timedelta(days=plan.late[k]), []).append(("late", k))
            elif k in plan.returned:
                after, again = plan.returned[k]
                actions.setdefault(due, []).append(("return", k))
                actions.setdefault(due + timedelta(days=again), []).append(("late", k))
            else:
                actions.setdefault(due, []).append(("due", k))
        days = sorted(set(sv._event_days(self.terms, self.rules, [], through)) | {d for d in actions if d <= through})
        r = self.replay
        i = 0
        while i < len(days):
            day = days[i]
            i += 1
            for action, k in actions.get(day, []):
                status = r.state.status
                if status == sv.REPAID or (status == sv.CHARGED_OFF and action != "recovery"):
                    continue
                if action == "due":
                    owed = self.owed_now(day)
                    share = plan.partial.get(k)
                    if share:  # a prepayment with the installment: the waterfall takes it as principal last
                        s = r.state
                        after_due = s.principal_cents - max(0, owed - s.fees_cents - s.interest_cents)
                        extra = int(after_due * share) // 100 * 100
                        owed += extra if 0 < extra < after_due else 0
                    self.pay(day, owed)
                elif action == "late":
                    self.pay(day, self.late_amount(day, k))
                elif action == "return":
                    self.pay(day, self.owed_now(day), returned_after=plan.returned[k][0])
                elif action == "payoff":
                    r.accrue(day)
                    self.pay(day, r.state.fees_cents + r.payoff_ip())
                elif action == "recovery":
                    self.pay(day, k)
            before = r.state.status
            r.end_of_day(day)
            if before != sv.CHARGED_OFF and r.state.status == sv.CHARGED_OFF:
                at, _ = self.sync_time(day)
                self.charge_off(day, at)
                self.charged = (day, at)
            if before != sv.CHARGED_OFF and r.state.status == sv.CHARGED_OFF and plan.recovery:
                after, share = plan.recovery
                back = day + timedelta(days=after)
                amount = round_half_up(Fraction(r.state.charged_off_principal_cents) * Fraction(share))
                if back <= through and amount > 0:
                    actions.setdefault(back, []).append(("recovery", amount))
                    if back not in days[i:]:
                        insort(days, back, lo=i)
        self.write_down()

    # -- writing down what the replay decided

    def sync_time(self, day: date) -> tuple[datetime, bool]:
        """When the API writes down what the replay decided at the end of `day`, and whether a borrower's
        payment (rather than the daily job) did."""
        if day in self.payment_days:
            return self.payment_days[day], True
        return datetime.combine(day, time()) + RUN_DELAY, False

    def write_down(self) -> None:
        loan, r, rows = self.loan, self.replay, self.rows
        username = f"borrower{loan.borrower_id}"
        fee_times: dict[int, datetime] = {}
        for fee in r.fees:
            at, _ = self.sync_time(fee.on)
            fee_times[fee.installment] = at
            due = loan.due_dates[fee.installment - 1]
            rows.fees.append(
                (
                    loan.loan_id,
                    fee.installment,
                    fee.on,
                    fee.amount_cents,
                    f"installment {fee.installment} due {due.isoformat()} still unpaid at the end of the "
                    f"grace period: the greater of the minimum fee or a share of what it lacked",
                    at,
                )
            )
        status = sv.CURRENT
        last_at = datetime.combine(loan.disbursed_on, time())
        for change in r.changes:
            at, by_borrower = self.sync_time(change.on)
            on, dpd = change.on, change.days_past_due
            if self.moved and self.moved[0] < change.on < self.moved[1]:
                # the returned payment was settled until its return: the replay's earlier change is seen then
                on, at, by_borrower = self.moved[1], self.moved[2], False
                dpd += (on - change.on).days
            event = _event_for(status, change.status)
            if event is None:
                continue
            rows.events.append(
                (
                    loan.loan_id,
                    event.value,
                    status,
                    change.status,
                    "borrower" if by_borrower else "system",
                    loan.borrower_id if by_borrower else None,
                    username if by_borrower else "servicing",
                    json.dumps({"as_of": on.isoformat(), "days_past_due": dpd}, sort_keys=True),
                    at,
                )
            )
            status = change.status
            last_at = max(last_at, at)
            if status == sv.REPAID:
                self.closed_at = at
        # installments: principal and interest paid so far, oldest first (service._installments), each one's
        # paid_at the time of the payment that completed it
        n = len(loan.due_dates)
        paid_p, paid_i = [0] * n, [0] * n
        paid_at: list[datetime | None] = [None] * n
        updated: list[datetime | None] = [None] * n
        total_p = total_i = 0
        for alloc, at in self.settled:
            total_p += alloc.principal_cents
            total_i += alloc.interest_cents
            left_p, left_i = total_p, total_i
            for j in range(n):
                pi = min(left_i, loan.interest_cents[j])
                pp = min(left_p, loan.principal_cents[j])
                left_i -= pi
                left_p -= pp
                if (pi, pp) != (paid_i[j], paid_p[j]):
                    paid_i[j], paid_p[j] = pi, pp
                    updated[j] = at
                    done = pi == loan.interest_cents[j] and pp == loan.principal_cents[j]
                    paid_at[j] = (paid_at[j] or at) if done else None
        created = datetime.combine(loan.disbursed_on, time())
        for j in range(n):
            rows.installments.append((loan.loan_id, j + 1, paid_p[j], paid_i[j], paid_at[j], updated[j] or created))
        # the snapshot: the daily job's for the last day while the loan is serviced; a closed loan keeps the
        # one its last sync wrote (the payment that repaid it, the charge-off run, or a later recovery)
        state = r.state
        if state.status == sv.REPAID and self.last_sync is not None:
            snap_day, snap_at = self.last_sync
        elif state.status == sv.CHARGED_OFF:
            snap_day, snap_at = max(self.charged, self.last_sync or self.charged, key=lambda x: x[1])
        else:
            snap_day, snap_at = self.through, datetime.combine(self.through, time()) + RUN_DELAY
        last_at = max(last_at, (self.last_sync or (loan.disbursed_on, created))[1])
        snap = sv._snapshot(r, snap_day)
        rows.snapshots.append(
            (
                loan.loan_id,
                snap_day,
                state.status,
                snap.days_past_due,
                state.principal_cents,
                state.interest_cents,
                state.fees_cents,
                state.excess_cents,
                snap.past_due_cents,
                snap.next_due_date,
                snap.next_due_cents,
                snap.payoff_cents,
                state.charged_off_on,
                state.charged_off_principal_cents,
                state.recovered_cents,
                snap_at,
            )
        )
        rows.loans.append((loan.loan_id, state.status, self.closed_at, max(last_at, created)))

    def charge_off(self, on: date, at: datetime) -> None:
        """service._charge_off: each note's outstanding principal written off."""
        notes = [
            (investment_id, investor_id, amount - self.paid_principal[investment_id])
            for investment_id, investor_id, amount in self.loan.notes
        ]
        notes = [n for n in notes if n[2] > 0]
        if not notes:
            return
        for investment_id, investor_id, left in notes:
            self.written_off[investment_id] = left
            self.rows.charge_offs.append((investment_id, self.loan.loan_id, investor_id, left, on, at))
        _post(
            self.rows,
            "charge_off",
            servicing_postings.charge_off(self.loan.loan_id, [(inv, left) for _, inv, left in notes]),
            at,
            self.loan.loan_id,
            None,
        )


def service_loan(loan: LoanInput, plan: Plan, through: date, rules: sv.Rules, fees: Fees, rows: Rows) -> None:
    """Service one loan through the end of `through`, appending its rows."""
    _Loan(loan, plan, through, rules, fees, rows).run()
