"""Golden tests for the servicing rules (api/payments/servicing.py), each with figures worked by hand in
its docstring: the bugs loan systems keep shipping."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.kit.money import round_half_up
from api.payments.schedule import amortize
from api.payments.servicing import (
    CHARGED_OFF,
    GRACE,
    LATE_16_30,
    LATE_31_120,
    REPAID,
    Payment,
    Rules,
    Terms,
    beyond_owed_cents,
    late_fee_cents,
    months_elapsed,
    overpayment_allowed_cents,
    payoff_quote,
    service,
)


def terms_for(amount: int = 500_000, rate: int = 600, months: int = 36, on: date = date(2026, 1, 15)) -> Terms:
    plan = amortize(amount, rate, months, on)
    return Terms(amount, rate, on, tuple(r.due_date for r in plan), tuple(r.payment_cents for r in plan))


def on_time(terms: Terms, upto: int | None = None) -> list[Payment]:
    n = len(terms.due_dates) if upto is None else upto
    return [Payment(k, terms.due_dates[k - 1], terms.scheduled_cents[k - 1]) for k in range(1, n + 1)]


def test_on_time_payments_reproduce_the_schedule_to_the_cent() -> None:
    """$5,000 at 6 % over 36 months: each on-time payment splits exactly as the amortization schedule, and
    the last one closes the loan with nothing left over."""
    terms = terms_for()
    plan = amortize(500_000, 600, 36, date(2026, 1, 15))
    done = service(terms, on_time(terms), terms.maturity)
    for row, paid in zip(plan, done.allocations, strict=True):
        assert (paid.interest_cents, paid.principal_cents) == (row.interest_cents, row.principal_cents)
    assert done.state.status == REPAID and done.state.closed_on == terms.maturity
    assert done.state.principal_cents == 0 and done.payoff_cents == 0 and done.state.excess_cents == 0


def test_the_last_installment_never_closes_the_loan_early() -> None:
    terms = terms_for()
    before_last = service(terms, on_time(terms, 35), terms.due_dates[34])
    assert before_last.state.status != REPAID and before_last.state.principal_cents > 0
    assert before_last.next_due_cents == terms.scheduled_cents[-1]


def test_paying_off_after_one_month_costs_one_month_of_interest() -> None:
    """The seed's loan, paid off on its first due date: 5,000.00 + 5,000.00 x 6 % / 12 = 5,025.00."""
    terms = terms_for()
    assert payoff_quote(terms, [], terms.due_dates[0]) == 502_500
    done = service(terms, [Payment("off", terms.due_dates[0], 502_500)], terms.due_dates[0])
    assert done.state.status == REPAID and done.allocations[0].interest_cents == 2_500


def test_paying_off_on_the_day_of_funding_costs_no_interest() -> None:
    terms = terms_for(250_000)
    assert payoff_quote(terms, [], terms.disbursed_on) == 250_000


def test_a_period_that_spans_29_february() -> None:
    """Disbursed 15 Feb 2028 (a leap year): the first period runs 29 days to 15 March. A payoff on
    29 February, 14 days in, accrues 14/29 of a month: 2,500 x 14 / 29 = 1,206.90 -> 12.07."""
    terms = terms_for(on=date(2028, 2, 15))
    assert (terms.due_dates[0] - terms.disbursed_on).days == 29
    assert months_elapsed(terms, terms.disbursed_on, date(2028, 2, 29)) == Fraction(14, 29)
    assert payoff_quote(terms, [], date(2028, 2, 29)) == 500_000 + 1_207


def test_a_period_that_spans_a_year_end() -> None:
    """Disbursed 10 December 2026: the first period runs 31 days to 10 January 2027. A payoff on
    31 December, 21 days in: 2,500 x 21 / 31 = 1,693.55 -> 16.94."""
    terms = terms_for(on=date(2026, 12, 10))
    assert terms.due_dates[0] == date(2027, 1, 10)
    assert payoff_quote(terms, [], date(2026, 12, 31)) == 500_000 + 1_694


def test_a_payment_ten_days_late_pays_for_the_extra_days() -> None:
    """Installment 1 (152.11, due 15 Feb 2027) paid on 25 Feb: interest is the first period's 25.00 plus
    10 of the second period's 28 days on 5,000.00: 25.00 x 10 / 28 = 8.93, so 33.93 of interest and
    118.18 of principal. No fee (within the 15-day grace); the loan is current again."""
    terms = terms_for(on=date(2027, 1, 15))
    late = terms.due_dates[0] + timedelta(days=10)
    done = service(terms, [Payment(1, late, terms.scheduled_cents[0])], late)
    paid = done.allocations[0]
    assert (paid.interest_cents, paid.principal_cents, paid.fees_cents) == (3_393, 11_818, 0)
    assert done.state.status == "current" and done.fees == ()
    assert [c.status for c in done.changes] == [GRACE, "current"]


def test_a_late_fee_is_charged_once_at_the_end_of_grace_and_paid_first() -> None:
    """Installment 1 unpaid at the end of day 15 after its due date: a fee of max(15.00, 5 % of 152.11 =
    7.61) = 15.00, once. A payment on day 20 pays the fee first."""
    terms = terms_for()
    due = terms.due_dates[0]
    assert late_fee_cents(15_211, Rules()) == 1_500
    assert late_fee_cents(100_000, Rules()) == 5_000
    day20 = due + timedelta(days=20)
    done = service(terms, [Payment(1, day20, 20_000)], day20)
    assert done.fees == (done.fees[0],) and done.fees[0].amount_cents == 1_500
    assert done.fees[0].on == due + timedelta(days=15)
    assert done.allocations[0].fees_cents == 1_500
    assert [c.status for c in done.changes][:2] == [GRACE, LATE_16_30]


def test_two_prepayments_on_the_same_day_go_to_principal_and_shorten_the_term() -> None:
    """After paying installment 1 on time, two extra 1,000.00 payments that day are prepayment: principal
    falls by 2,000.00 at once, the next installment is still due in full, and the loan closes early."""
    terms = terms_for()
    d1 = terms.due_dates[0]
    payments = [*on_time(terms, 1), Payment("a", d1, 100_000), Payment("b", d1, 100_000)]
    after = service(terms, payments, d1)
    assert [a.prepayment_cents for a in after.allocations[1:]] == [100_000, 100_000]
    assert after.next_due_cents == terms.scheduled_cents[1] and after.next_due_date == terms.due_dates[1]
    rest = [Payment(k, terms.due_dates[k - 1], terms.scheduled_cents[k - 1]) for k in range(2, 37)]
    done = service(terms, payments + rest, terms.maturity)
    assert done.state.status == REPAID and done.state.closed_on is not None
    assert done.state.closed_on < terms.maturity
    assert sum(a.excess_cents for a in done.allocations) > 0  # installments after closing are refundable


def test_an_overpayment_is_held_for_a_refund_never_as_negative_debt() -> None:
    terms = terms_for()
    d1 = terms.due_dates[0]
    done = service(terms, [Payment("all", d1, 502_500 + 10_000)], d1)
    assert done.state.status == REPAID and done.state.principal_cents == 0
    assert done.state.excess_cents == 10_000 and done.allocations[0].excess_cents == 10_000


def test_one_payment_may_exceed_what_closes_the_loan_by_one_installment_at_most() -> None:
    terms = terms_for()
    d1 = terms.due_dates[0]
    # 5,000.00 + one month's interest closes the seed's loan on its first due date; 152.11 is its installment
    assert overpayment_allowed_cents(terms) == 15_211
    for amount, beyond in ((502_500, 0), (502_500 + 15_211, 15_211), (502_500 + 15_212, 15_212), (100_000, 0)):
        after = service(terms, [Payment("p", d1, amount)], d1)
        assert beyond_owed_cents(after, after.allocations[-1]) == beyond


def test_after_a_charge_off_what_is_beyond_owed_is_past_what_is_still_written_off() -> None:
    terms = terms_for()
    gone = service(terms, [], terms.due_dates[0] + timedelta(days=130))
    assert gone.state.status == CHARGED_OFF
    written_off = gone.state.charged_off_principal_cents + gone.state.interest_cents + gone.state.fees_cents
    first = Payment("r1", gone.as_of, 100_000)
    recovered = service(terms, [first], gone.as_of)
    assert beyond_owed_cents(recovered, recovered.allocations[-1]) == 0
    # what is left written off is written_off - 1,000.00: a second recovery past it by 15.00 is 15.00 beyond
    again = service(terms, [first, Payment("r2", gone.as_of, written_off - 100_000 + 1_500)], gone.as_of)
    assert beyond_owed_cents(again, again.allocations[-1]) == 1_500


def test_a_backdated_payment_is_replayed_in_date_order() -> None:
    """Recorded late but dated on due date 1, it is applied before the payment of due date 2, exactly as if
    both had arrived on time."""
    terms = terms_for()
    recorded = [Payment("second", terms.due_dates[1], terms.scheduled_cents[1]), *on_time(terms, 1)]
    assert (
        service(terms, recorded, terms.due_dates[1]).state
        == service(terms, on_time(terms, 2), terms.due_dates[1]).state
    )


def test_a_returned_payment_is_as_if_it_never_came() -> None:
    """A payment returned after it was applied: replaying without it leaves installment 1 unpaid, and the
    loan late from the day after its due date, with the fee at the end of grace."""
    terms = terms_for()
    day40 = terms.due_dates[0] + timedelta(days=40)
    kept = service(terms, [], day40)
    assert kept.days_past_due == 40 and kept.state.status == LATE_31_120
    # 40 days after due date 1 is 12 days after due date 2: both installments are late, one fee so far.
    assert len(kept.fees) == 1 and kept.past_due_cents == terms.cumulative_due(2)


def test_a_charge_off_at_120_days_then_a_recovery() -> None:
    """No payment ever: charged off 120 days after the first due date, with all 5,000.00 of principal
    written off; interest stops; money received afterwards is a recovery."""
    terms = terms_for()
    charge_off_day = terms.due_dates[0] + timedelta(days=120)
    later = charge_off_day + timedelta(days=30)
    done = service(terms, [Payment("recovery", later, 40_000)], later)
    assert done.state.status == CHARGED_OFF and done.state.charged_off_on == charge_off_day
    assert done.state.charged_off_principal_cents == 500_000
    assert done.allocations[0].recovery_cents == 40_000 and done.state.recovered_cents == 40_000
    assert done.payoff_cents == 0 and done.days_past_due == 0
    before = service(terms, [], charge_off_day - timedelta(days=1))
    assert before.state.status == LATE_31_120 and before.days_past_due == 119


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(1_000, 4_000).map(lambda n: n * 1_000),
    rate=st.integers(100, 3_600),
    months=st.sampled_from([12, 24, 36, 48, 60]),
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    lateness=st.lists(st.integers(-10, 12), min_size=1, max_size=60),
    extra=st.lists(st.integers(0, 50_000), min_size=1, max_size=60),
)
def test_every_cent_of_every_payment_is_accounted_for(
    amount: int, rate: int, months: int, start: date, lateness: list[int], extra: list[int]
) -> None:
    """Whatever the timing and size of payments: each allocation sums to its payment, principal never goes
    negative, and principal paid plus principal left (or written off) equals the amount lent."""
    terms = terms_for(amount, rate, months, start)
    payments = []
    for k in range(1, months + 1):
        shift = lateness[k % len(lateness)]
        on = max(terms.disbursed_on, terms.due_dates[k - 1] + timedelta(days=shift))
        payments.append(Payment(k, on, terms.scheduled_cents[k - 1] + extra[k % len(extra)]))
    done = service(terms, payments, terms.maturity + timedelta(days=200))
    for a in done.allocations:
        assert a.applied_cents + a.excess_cents == a.amount_cents
        assert min(a.fees_cents, a.interest_cents, a.principal_cents, a.excess_cents) >= 0
    principal_paid = sum(a.principal_cents for a in done.allocations)
    written_off = done.state.charged_off_principal_cents if done.state.status == CHARGED_OFF else 0
    assert done.state.principal_cents >= 0
    if done.state.status == CHARGED_OFF:
        assert principal_paid + written_off == amount
    else:
        assert principal_paid + done.state.principal_cents == amount


def test_interest_accrues_only_on_principal_outstanding() -> None:
    """Half the principal prepaid on day 10 of a 31-day period: the rest of the period accrues on the half."""
    terms = terms_for(on=date(2026, 12, 10))
    d10 = date(2026, 12, 20)
    first = round_half_up(Fraction(2_500 * 10, 31))
    paid = service(terms, [Payment("half", d10, 250_000 + first)], terms.due_dates[0])
    assert paid.allocations[0].interest_cents == first
    later = round_half_up(Fraction(1_250 * 21, 31))
    assert paid.state.interest_cents == later


@pytest.mark.parametrize("dpd,bucket", [(0, "current"), (1, GRACE), (15, GRACE), (16, LATE_16_30), (31, LATE_31_120)])
def test_buckets(dpd: int, bucket: str) -> None:
    from api.payments.servicing import bucket_for

    assert bucket_for(dpd, Rules()) == bucket
