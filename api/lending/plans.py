"""The diversified portfolio builder, as a pure function, and its expected figures.

`build` spreads an amount over open listings so that:
- the amount per grade follows the risk preference's target mix (`MIXES`, basis points of the amount), split in
  $25 steps by largest remainder (api/payments/split.py) so the grades add up to the amount exactly;
- at least `min_loans` different loans are used, their count per grade split by the same mix (every grade with
  money gets at least one), and more when a grade's money would otherwise put more than `max_share_pct` of the
  whole amount in one loan;
- within a grade the money goes to the listings with the best expected net return (rate less the annualised
  expected loss; ties to the listing that ends soonest, then the lower id), in equal $25 steps, never more
  than a loan can still take (what remains of it, and the investor's per-loan cap less what they hold).

Expected loss of a note = its amount x probability of default x LGD (api/lending/pricing.py). Expected return
(annual) = the amount-weighted mean over the notes of rate - PD x LGD / term in years: the lifetime expected loss
spread evenly over the loan's life, a deliberately simple yardstick, stated as such to the investor.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from api.kit.money import format_cents, round_half_up
from api.lending.limits import PPM
from api.lending.pricing import BPS, LGD_BPS, expected_loss_cents
from api.payments.split import split_pro_rata
from models.grades import GRADES

#: Target share of the amount per grade (basis points), by risk preference.
MIXES: Final[dict[str, dict[str, int]]] = {
    "conservative": {"A": 4_000, "B": 3_500, "C": 2_500},
    "balanced": {"A": 1_500, "B": 2_500, "C": 2_500, "D": 2_000, "E": 1_500},
    "aggressive": {"B": 1_000, "C": 2_000, "D": 2_500, "E": 2_000, "F": 1_500, "G": 1_000},
}


@dataclass(frozen=True, slots=True)
class Candidate:
    loan_id: int
    grade: str
    interest_rate_bps: int
    probability_of_default_ppm: int
    term_months: int
    room_cents: int  # what this investor may still put in: the loan's remainder and their cap, whichever is less
    expires_order: int  # smaller ends sooner


@dataclass(frozen=True, slots=True)
class PlannedNote:
    loan_id: int
    grade: str
    amount_cents: int
    interest_rate_bps: int
    probability_of_default_ppm: int
    term_months: int

    @property
    def expected_loss_cents(self) -> int:
        return expected_loss_cents(self.amount_cents, self.probability_of_default_ppm)


@dataclass(frozen=True, slots=True)
class Plan:
    notes: tuple[PlannedNote, ...]
    target_mix: dict[str, int]
    max_per_loan_cents: int

    @property
    def amount_cents(self) -> int:
        return sum(n.amount_cents for n in self.notes)

    @property
    def expected_loss_cents(self) -> int:
        return sum(n.expected_loss_cents for n in self.notes)

    @property
    def expected_return_bps(self) -> int:
        return expected_return_bps(self.notes)

    def mix(self) -> dict[str, int]:
        total = self.amount_cents
        by_grade: dict[str, int] = {}
        for note in self.notes:
            by_grade[note.grade] = by_grade.get(note.grade, 0) + note.amount_cents
        return {g: round_half_up(Fraction(a * BPS, total)) for g, a in sorted(by_grade.items())}


class NoPlan(ValueError):
    pass


def net_return(candidate: Candidate | PlannedNote) -> Fraction:
    """Annual rate less the lifetime expected loss spread over the term, in basis points (exact)."""
    annual_loss = Fraction(candidate.probability_of_default_ppm * LGD_BPS * 12, PPM * candidate.term_months)
    return candidate.interest_rate_bps - annual_loss


def expected_return_bps(notes: tuple[PlannedNote, ...] | list[PlannedNote]) -> int:
    total = sum(n.amount_cents for n in notes)
    if total == 0:
        return 0
    return round_half_up(sum((n.amount_cents * net_return(n) for n in notes), Fraction(0)) / total)


def build(
    amount_cents: int,
    risk_preference: str,
    min_loans: int,
    candidates: list[Candidate],
    *,
    step_cents: int,
    max_share_pct: int,
) -> Plan:
    if amount_cents <= 0 or amount_cents % step_cents:
        raise NoPlan(f"the amount must be a positive multiple of {format_cents(step_cents)}")
    mix = MIXES[risk_preference]
    grades = [g for g in GRADES if g in mix]
    steps = amount_cents // step_cents
    per_loan_max = max(step_cents, (amount_cents * max_share_pct // 100) // step_cents * step_cents)
    if min_loans > steps:
        raise NoPlan(
            f"{format_cents(amount_cents)} buys at most {steps} notes of {format_cents(step_cents)}; "
            f"ask for at most {steps} loans or invest more"
        )
    grade_steps = dict(zip(grades, split_pro_rata(steps, [mix[g] for g in grades]), strict=True))
    funded_grades = [g for g in grades if grade_steps[g] > 0]
    loan_counts = dict(zip(funded_grades, split_pro_rata(min_loans, [mix[g] for g in funded_grades]), strict=True))
    problems: list[str] = []
    notes: list[PlannedNote] = []
    for grade in funded_grades:
        budget = grade_steps[grade] * step_cents
        pool = sorted(
            (c for c in candidates if c.grade == grade and c.room_cents >= step_cents),
            key=lambda c: (-net_return(c), c.expires_order, c.loan_id),
        )
        wanted = max(1, loan_counts[grade], -(-budget // per_loan_max), 1)
        wanted = min(wanted, grade_steps[grade])  # never more loans than $25 steps
        if len(pool) < wanted:
            problems.append(f"grade {grade} needs {wanted} open listings and has {len(pool)}")
            continue
        chosen = pool[:wanted]
        caps = [min(c.room_cents, per_loan_max) // step_cents for c in chosen]
        if sum(caps) < grade_steps[grade]:
            # More loans of the grade can take the rest, if there are any.
            for extra in pool[wanted:]:
                chosen.append(extra)
                caps.append(min(extra.room_cents, per_loan_max) // step_cents)
                if sum(caps) >= grade_steps[grade]:
                    break
        if sum(caps) < grade_steps[grade]:
            problems.append(
                f"grade {grade}: open listings can take {format_cents(sum(caps) * step_cents)} of the "
                f"{format_cents(budget)} it should get"
            )
            continue
        for candidate, units in zip(chosen, _water_fill(grade_steps[grade], caps), strict=True):
            if units:
                notes.append(
                    PlannedNote(
                        loan_id=candidate.loan_id,
                        grade=grade,
                        amount_cents=units * step_cents,
                        interest_rate_bps=candidate.interest_rate_bps,
                        probability_of_default_ppm=candidate.probability_of_default_ppm,
                        term_months=candidate.term_months,
                    )
                )
    if problems:
        raise NoPlan("not enough open listings for this plan: " + "; ".join(problems))
    return Plan(tuple(sorted(notes, key=lambda n: n.loan_id)), dict(mix), per_loan_max)


def _water_fill(units: int, caps: list[int]) -> list[int]:
    """Split `units` as evenly as the caps allow: equal shares, a capped loan's excess to the others."""
    given = [0] * len(caps)
    left = units
    open_slots = [i for i, cap in enumerate(caps) if cap > 0]
    while left and open_slots:
        share, extra = divmod(left, len(open_slots))
        for position, i in enumerate(open_slots):
            take = min(caps[i] - given[i], share + (1 if position < extra else 0))
            given[i] += take
            left -= take
        open_slots = [i for i in open_slots if given[i] < caps[i]]
    return given
