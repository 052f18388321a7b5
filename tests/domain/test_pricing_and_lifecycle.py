"""Pricing (the rate card, the fee, Reg Z APR checked against numpy-financial's IRR) and the lifecycle machine."""

from __future__ import annotations

from decimal import Decimal

import numpy_financial as npf
import pytest

from api.lending import lifecycle, pricing
from api.lending.lifecycle import LoanEvent, LoanStateConflict, LoanStatus
from models.grades import GRADES


def test_the_rate_card_prices_every_grade_with_a_fee_of_1_to_6_percent() -> None:
    card = pricing.current_card()
    assert tuple(card.grades) == tuple(GRADES)
    rates = [card.terms(g).base_rate_bps for g in GRADES]
    assert rates == sorted(rates)
    assert all(100 <= card.terms(g).origination_fee_bps <= 600 for g in GRADES)


@pytest.mark.parametrize("grade", list("ABCDEFG"))
@pytest.mark.parametrize(("amount_cents", "term"), [(500_000, 36), (100_000, 12), (4_000_000, 60), (1_234_500, 24)])
def test_apr_matches_an_independent_irr(grade: str, amount_cents: int, term: int) -> None:
    card = pricing.current_card()
    rate = card.terms(grade).base_rate_bps + 37
    try:
        price = pricing.price(
            grade=grade,
            probability_of_default_ppm=50_000,
            amount_cents=amount_cents,
            term_months=term,
            requested_rate_bps=rate,
        )
    except pricing.AprAboveCap:
        pytest.skip("above the APR cap")
    payments = pricing.scheduled_payments(amount_cents, rate, term)
    flows = [-(amount_cents - price.origination_fee_cents) / 100, *(p / 100 for p in payments)]
    independent = float(npf.irr(flows)) * 12 * 100  # percent a year, nominal (Reg Z: unit period x periods)
    assert abs(price.apr_bps / 100 - independent) < 0.01
    assert price.disbursed_cents + price.origination_fee_cents == amount_cents
    assert price.apr_bps > rate  # the fee is a finance charge


def test_a_rate_below_the_floor_names_it() -> None:
    with pytest.raises(pricing.RateBelowFloor) as refused:
        pricing.price(
            grade="C", probability_of_default_ppm=80_000, amount_cents=500_000, term_months=36, requested_rate_bps=600
        )
    assert refused.value.floor_bps == pricing.current_card().terms("C").base_rate_bps


def test_seed_loan_apr() -> None:
    price = pricing.price(
        grade="A", probability_of_default_ppm=20_000, amount_cents=500_000, term_months=36, requested_rate_bps=600
    )
    assert (price.origination_fee_cents, Decimal(price.apr_bps) / 100) == (5_000, Decimal("6.68"))


def test_every_transition_is_stated_and_every_other_is_a_409_naming_the_state() -> None:
    allowed = {(s, e) for s, e in lifecycle.TRANSITIONS}
    for status in LoanStatus:
        for event in LoanEvent:
            if (status, event) in allowed:
                assert lifecycle.can(status, event)
            else:
                with pytest.raises(LoanStateConflict, match=f"the loan is {status.value.replace('_', ' ')}"):
                    lifecycle.next_status(status, event, None)
    assert lifecycle.next_status("listed", LoanEvent.FUND) is LoanStatus.FUNDED
    assert lifecycle.next_status("funded", LoanEvent.ISSUE) is LoanStatus.CURRENT
    assert lifecycle.TERMINAL == {LoanStatus.REPAID, LoanStatus.CHARGED_OFF, LoanStatus.EXPIRED, LoanStatus.CANCELLED}
    assert lifecycle.OPEN_FOR_INVESTMENT == {LoanStatus.LISTED}
