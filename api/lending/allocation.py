"""Auto-invest allocation as a pure function: the reference the set-based SQL (api/lending/allocation_sql.py)
is tested against, the replay of the allocation log, and the Python baseline of benchmarks/allocation.py.

One round takes the listings (each with its capacity for automated investors), the investors with an enabled
rule (each with a budget) and the (listing, investor) pairs already held, and returns the notes to place:

1. **Match.** A rule matches a listing when the grade, probability of default, rate, term and purpose are all
   within it, and one more note (the rule's amount per note) fits the rule's maximum per loan (with what the
   investor already holds in the listing), the listing's capacity and the investor's budget. A round places at
   most one note per listing and investor.
2. **Spread each investor's budget.** Each investor walks the matching listings in a pseudo-random order of
   their own (`spread`: a rotation, different per investor and per run, of one permutation of the listings)
   and keeps them while the running total stays within the target-mix headroom of the listing's grade and
   then within their budget (available cash above the cash to keep). A popular investor's cash is so spread
   across the listings instead of being spent on the lowest loan ids.
3. **Serve each listing fairly.** Its remaining candidates are served in order of **idle-cash share** (the
   budget divided by budget plus money already invested, highest first: the accounts with the most money
   sitting idle are served first, as LendingClub served automated accounts), ties broken by a per-run draw
   (`tiebreak`) and then by id, and accepted while the running total fits the listing's capacity. The
   capacity leaves the listing's last share (PEERLEND_AUTO_INVEST_MAX_SHARE_PCT, 80 % by default: 20 % held
   back) to investors who choose notes themselves.

No investor is always first: being served lowers one's idle-cash share for the next round and run, and among
equals the draw changes with every run. Everything is integer arithmetic, the same in SQL and here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from api.lending.limits import TERMS_MONTHS
from models.grades import GRADES

MODULUS = 2_147_483_647  # 2^31 - 1, a prime: every product below stays far inside a 64-bit integer
SPREAD_LOAN, SPREAD_INVESTOR, TIEBREAK_INVESTOR = 48_271, 16_807, 69_621

FAIRNESS_RULE = (
    "Each listing serves its matching automated investors in descending order of idle-cash share (budget / "
    "(budget + invested)), ties broken by a per-run random draw, then by investor id; each investor's budget is "
    "spread over listings in an order of their own; automated investors fill at most the configured share of a "
    "listing, the rest is held back for manual investors."
)


def grade_bit(grade: str) -> int:
    return 1 << GRADES.index(grade)


def term_bit(term_months: int) -> int:
    return 1 << TERMS_MONTHS.index(term_months) if term_months in TERMS_MONTHS else 0


def spread(loan_id: int, investor_id: int, seed: int) -> int:
    return ((loan_id % MODULUS) * SPREAD_LOAN + (investor_id % MODULUS) * SPREAD_INVESTOR + seed) % MODULUS


def tiebreak(investor_id: int, seed: int) -> int:
    return ((investor_id % MODULUS) * TIEBREAK_INVESTOR + seed) % MODULUS


def idle_share_ppm(budget_cents: int, invested_cents: int) -> int:
    total = budget_cents + invested_cents
    return budget_cents * 1_000_000 // total if total > 0 else 0


@dataclass(frozen=True, slots=True)
class ListingInput:
    loan_id: int
    grade: str
    grade_bit: int
    term_bit: int
    probability_of_default_ppm: int
    interest_rate_bps: int
    purpose_key: str
    capacity_cents: int


@dataclass(frozen=True, slots=True)
class InvestorInput:
    investor_id: int
    rule_id: int
    budget_cents: int
    priority_ppm: int
    tiebreak: int
    headroom: tuple[int | None, ...]  # per grade of GRADES; None = no limit


@dataclass(frozen=True, slots=True)
class RuleInput:
    rule_id: int
    grade_mask: int
    term_mask: int
    min_pd_ppm: int | None
    max_pd_ppm: int | None
    min_rate_bps: int | None
    max_rate_bps: int | None
    any_purpose: bool
    purposes: frozenset[str]
    note_cents: int
    max_per_loan_cents: int


@dataclass(frozen=True, slots=True)
class Placed:
    loan_id: int
    investor_id: int
    rule_id: int
    amount_cents: int
    queue_position: int
    priority_ppm: int
    tiebreak: int
    filled_after_cents: int
    capacity_cents: int
    budget_spent_cents: int
    budget_cents: int


def matches(rule: RuleInput, listing: ListingInput) -> bool:
    return (
        rule.grade_mask & listing.grade_bit != 0
        and rule.term_mask & listing.term_bit != 0
        and (rule.min_pd_ppm is None or listing.probability_of_default_ppm >= rule.min_pd_ppm)
        and (rule.max_pd_ppm is None or listing.probability_of_default_ppm <= rule.max_pd_ppm)
        and (rule.min_rate_bps is None or listing.interest_rate_bps >= rule.min_rate_bps)
        and (rule.max_rate_bps is None or listing.interest_rate_bps <= rule.max_rate_bps)
        and (rule.any_purpose or listing.purpose_key in rule.purposes)
    )


def allocate_round(
    listings: Iterable[ListingInput],
    investors: Iterable[InvestorInput],
    rules: Mapping[int, RuleInput],
    holdings: Mapping[tuple[int, int], int],
    seed: int,
) -> list[Placed]:
    """The notes one round places, ordered by listing and queue position."""
    people = list(investors)
    # (spread, loan_id, listing, investor, note) per matching pair, grouped by investor
    by_investor: dict[int, list[tuple[int, int, ListingInput, InvestorInput, int]]] = {}
    for listing in listings:
        for person in people:
            rule = rules[person.rule_id]
            note = rule.note_cents
            if (
                note > listing.capacity_cents
                or note > person.budget_cents
                or note + holdings.get((listing.loan_id, person.investor_id), 0) > rule.max_per_loan_cents
                or not matches(rule, listing)
            ):
                continue
            key = spread(listing.loan_id, person.investor_id, seed)
            by_investor.setdefault(person.investor_id, []).append((key, listing.loan_id, listing, person, note))

    # Steps 2 (headroom per grade, then budget), per investor in their own order.
    by_listing: dict[int, list[tuple[InvestorInput, int, int, ListingInput]]] = {}
    for candidates in by_investor.values():
        candidates.sort(key=lambda c: (c[0], c[1]))
        in_grade: dict[str, int] = {}
        spent = 0
        for _, _, listing, person, note in candidates:
            headroom = person.headroom[GRADES.index(listing.grade)]
            in_grade[listing.grade] = in_grade.get(listing.grade, 0) + note
            if headroom is not None and in_grade[listing.grade] > headroom:
                continue
            spent += note
            if spent > person.budget_cents:
                continue
            by_listing.setdefault(listing.loan_id, []).append((person, note, spent, listing))

    # Step 3, per listing in queue order.
    placed: list[Placed] = []
    for loan_id in sorted(by_listing):
        queue = sorted(by_listing[loan_id], key=lambda q: (-q[0].priority_ppm, q[0].tiebreak, q[0].investor_id))
        filled = 0
        for position, (person, note, spent, listing) in enumerate(queue, start=1):
            filled += note
            if filled > listing.capacity_cents:
                continue
            placed.append(
                Placed(
                    loan_id=loan_id,
                    investor_id=person.investor_id,
                    rule_id=person.rule_id,
                    amount_cents=note,
                    queue_position=position,
                    priority_ppm=person.priority_ppm,
                    tiebreak=person.tiebreak,
                    filled_after_cents=filled,
                    capacity_cents=listing.capacity_cents,
                    budget_spent_cents=spent,
                    budget_cents=person.budget_cents,
                )
            )
    return placed
