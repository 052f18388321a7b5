"""Pricing: the versioned rate card, the origination fee, expected loss and the APR.

**Rate card.** Every grade of `models.grades.GRADES` (A safest .. G) has a base rate, which is also the floor
a borrower of that grade may ask for, and an origination fee of 1-6 % of the amount lent, deducted from the
disbursement. A card is immutable once published: a new card gets a new version and the old one stays here,
so every loan's `rate_card_version` still names the terms that priced it. The floors rise with the grade's
probability of default: the rate must carry the grade's expected loss and still leave the note holders a
return (an E loan at 5.50 % did not).

**Expected loss** of a loan = amount lent x probability of default x LGD, with LGD (loss given default) = 90 %
of the amount lent: unsecured consumer credit recovers little (LendingClub recovered roughly a tenth of
charged-off principal), and counting the whole amount as exposed (no credit for principal already repaid at
default) errs on the side of caution. Rounded half up to the cent.

**APR** (US Regulation Z, 12 CFR 1026.22 and Appendix J, the actuarial method): the nominal annual rate
12 x i, where i is the monthly rate at which the scheduled payments, discounted over whole unit periods
(months; the first payment falls due one month after disbursement, so there are no odd days), equal the
amount financed: the amount lent less the prepaid finance charge (the origination fee), i.e. what the
borrower receives. It is solved with exact decimal arithmetic by bisection to 10^-12 per month and given in
basis points, rounded half up (Regulation Z's tolerance for a regular transaction is 1/8 of a point).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from api.kit.money import round_half_up
from api.lending.limits import MAX_RATE_BPS, PPM
from api.payments.schedule import amortize
from models.grades import GRADES

BPS: Final = 10_000
LGD_BPS: Final = 9_000  # loss given default, 90 % of the amount lent (see the module doc)
MAX_APR_BPS: Final = 3_600  # the platform lends at no more than 36 % APR, all costs included


@dataclass(frozen=True, slots=True)
class GradeTerms:
    grade: str
    base_rate_bps: int  # the grade's rate, and the lowest a borrower of the grade may ask for
    origination_fee_bps: int  # of the amount lent, deducted from the disbursement


@dataclass(frozen=True, slots=True)
class RateCard:
    version: str
    grades: MappingProxyType[str, GradeTerms]

    def terms(self, grade: str) -> GradeTerms:
        return self.grades[grade]


def _card(version: str, rows: tuple[tuple[int, int], ...]) -> RateCard:
    if len(rows) != len(GRADES):
        raise ValueError(f"rate card {version} must price every grade of models.grades: {GRADES}")
    terms = {g: GradeTerms(g, rate, fee) for g, (rate, fee) in zip(GRADES, rows, strict=True)}
    for t in terms.values():
        if not 100 <= t.origination_fee_bps <= 600 or not 0 < t.base_rate_bps <= MAX_RATE_BPS:
            raise ValueError(f"rate card {version}: grade {t.grade} is out of bounds")
    rates = [t.base_rate_bps for t in terms.values()]
    if rates != sorted(rates) or len(set(rates)) != len(rates):
        raise ValueError(f"rate card {version}: base rates must rise strictly with the grade")
    return RateCard(version, MappingProxyType(terms))


#: Every card ever published, by version. Never edit one: add a new version and point CURRENT at it.
RATE_CARDS: Final[MappingProxyType[str, RateCard]] = MappingProxyType(
    {
        "2026-12-a": _card(
            "2026-12-a",
            # (base rate = floor, origination fee), in basis points, for A .. G
            ((549, 100), (799, 200), (1_099, 300), (1_399, 400), (1_749, 500), (2_099, 550), (2_499, 600)),
        )
    }
)
CURRENT_VERSION: Final = "2026-12-a"


def current_card() -> RateCard:
    return RATE_CARDS[CURRENT_VERSION]


def origination_fee_cents(amount_cents: int, fee_bps: int) -> int:
    return round_half_up(Fraction(amount_cents * fee_bps, BPS))


def expected_loss_cents(amount_cents: int, probability_of_default_ppm: int) -> int:
    return round_half_up(Fraction(amount_cents * probability_of_default_ppm * LGD_BPS, PPM * BPS))


def scheduled_payments(amount_cents: int, rate_bps: int, term_months: int) -> list[int]:
    """The payments of the schedule the loan will get (their amounts do not depend on the dates)."""
    return [row.payment_cents for row in amortize(amount_cents, rate_bps, term_months, date(2000, 1, 1))]


def apr_monthly_rate(amount_financed_cents: int, payments: list[int]) -> Decimal:
    """The monthly rate i with sum(p_k / (1 + i)^k) = amount financed, by bisection in 40-digit decimals."""
    if amount_financed_cents <= 0 or not payments or sum(payments) < amount_financed_cents:
        raise ValueError("payments must repay a positive amount financed")
    with localcontext() as ctx:
        ctx.prec = 40
        target = Decimal(amount_financed_cents)
        pays = [Decimal(p) for p in payments]

        def present_value(i: Decimal) -> Decimal:
            factor, total = Decimal(1) / (1 + i), Decimal(0)
            discount = Decimal(1)
            for p in pays:
                discount *= factor
                total += p * discount
            return total

        low, high = Decimal(0), Decimal(1)  # 0 % to 100 % a month brackets every loan we could make
        while high - low > Decimal("1e-12"):
            middle = (low + high) / 2
            if present_value(middle) > target:
                low = middle  # the rate is too low: the payments are worth more than the amount financed
            else:
                high = middle
        return (low + high) / 2


def apr_bps(amount_cents: int, fee_cents: int, rate_bps: int, term_months: int) -> int:
    """The APR in basis points (rounded half up) of a loan of `amount_cents` with a prepaid `fee_cents`."""
    i = apr_monthly_rate(amount_cents - fee_cents, scheduled_payments(amount_cents, rate_bps, term_months))
    return int((i * 12 * BPS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Price:
    rate_card_version: str
    grade: str
    interest_rate_bps: int
    floor_bps: int
    origination_fee_bps: int
    origination_fee_cents: int
    disbursed_cents: int
    apr_bps: int
    expected_loss_cents: int


class RateBelowFloor(ValueError):
    def __init__(self, grade: str, floor_bps: int, version: str) -> None:
        super().__init__(f"below the floor of grade {grade}")
        self.grade, self.floor_bps, self.version = grade, floor_bps, version


class AprAboveCap(ValueError):
    def __init__(self, apr: int) -> None:
        super().__init__("APR above the cap")
        self.apr_bps = apr


def price(
    *,
    grade: str,
    probability_of_default_ppm: int,
    amount_cents: int,
    term_months: int,
    requested_rate_bps: int | None,
    card: RateCard | None = None,
) -> Price:
    """Price a loan of `grade`: the requested rate (the grade's base rate when none is asked) must be at least
    the grade's floor, and the APR with the fee at most MAX_APR_BPS."""
    card = card or current_card()
    terms = card.terms(grade)
    rate = terms.base_rate_bps if requested_rate_bps is None else requested_rate_bps
    if rate < terms.base_rate_bps:
        raise RateBelowFloor(grade, terms.base_rate_bps, card.version)
    return price_at(card, grade, probability_of_default_ppm, amount_cents, term_months, rate)


def price_at(
    card: RateCard, grade: str, probability_of_default_ppm: int, amount_cents: int, term_months: int, rate_bps: int
) -> Price:
    """The figures of a loan already priced at `rate_bps` (also used again at a partial issuance)."""
    terms = card.terms(grade)
    fee = origination_fee_cents(amount_cents, terms.origination_fee_bps)
    apr = apr_bps(amount_cents, fee, rate_bps, term_months)
    if apr > MAX_APR_BPS:
        raise AprAboveCap(apr)
    return Price(
        rate_card_version=card.version,
        grade=grade,
        interest_rate_bps=rate_bps,
        floor_bps=terms.base_rate_bps,
        origination_fee_bps=terms.origination_fee_bps,
        origination_fee_cents=fee,
        disbursed_cents=amount_cents - fee,
        apr_bps=apr,
        expected_loss_cents=expected_loss_cents(amount_cents, probability_of_default_ppm),
    )
