"""Auto-invest: investors' rules, and runs that allocate new listings to them.

A rule is stored as an immutable version per PUT (the allocation log points at the version that decided each
note). A run claims every listing not yet allocated (a listing is allocated by one run only: the claim's
primary key), then plays up to PEERLEND_AUTO_INVEST_ROUNDS set-based rounds (api/lending/allocation_sql.py) in
one transaction, under the listings' row locks and then the investors' account locks, in the order every other
path takes them. Each round's inputs are logged (listings with their capacity, investors with budget, priority
and headroom, the pairs already held) with its decisions, so `explain` can replay it through the pure reference
(api/lending/allocation.py) and show that it gives the same notes."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.db import Database, after_commit
from api.kit.errors import NotFound
from api.kit.money import format_cents
from api.lending import allocation_sql as sql
from api.lending import events
from api.lending.allocation import (
    FAIRNESS_RULE,
    MODULUS,
    InvestorInput,
    ListingInput,
    Placed,
    RuleInput,
    allocate_round,
    grade_bit,
    term_bit,
)
from api.lending.errors import InvalidRules
from api.lending.events import Actor
from api.lending.issuance import issue_funded_loan
from api.lending.lifecycle import LoanEvent, LoanStatus
from api.lending.limits import PPM, TERMS_MONTHS
from api.lending.schemas import AutoInvestRules
from api.lending.tables import AllocationRun, AutoInvestRule, AutoInvestRulePurpose
from api.settings import Settings
from models.grades import GRADES

ALLOCATOR = Actor.system("auto-invest")
MAX_LISTINGS_PER_RUN = 5_000
_MIX = [f"mix_{g.lower()}_bps" for g in GRADES]


def current_rule(session: Session, investor_id: int) -> AutoInvestRule | None:
    return session.scalars(
        select(AutoInvestRule).where(AutoInvestRule.investor_id == investor_id, AutoInvestRule.superseded_at.is_(None))
    ).first()


def purposes_of(session: Session, rule_id: int) -> list[str]:
    return sorted(
        session.scalars(select(AutoInvestRulePurpose.purpose).where(AutoInvestRulePurpose.rule_id == rule_id))
    )


def save_rules(session: Session, settings: Settings, caller: Caller, body: AutoInvestRules) -> AutoInvestRule:
    investor_id = caller.investor()
    problems = _problems(settings, body)
    if problems:
        raise InvalidRules("; ".join(problems))
    now = utcnow()
    previous = current_rule(session, investor_id)
    if previous is not None:
        session.execute(
            update(AutoInvestRule).where(AutoInvestRule.rule_id == previous.rule_id).values(superseded_at=now)
        )
        session.flush()
    grades: list[str] = list(body.grades or GRADES)
    terms = body.terms or list(TERMS_MONTHS)
    mix = body.target_mix or {}
    rule = AutoInvestRule(
        investor_id=investor_id,
        version=(previous.version + 1) if previous else 1,
        enabled=body.enabled,
        grade_mask=sum(grade_bit(g) for g in set(grades)),
        term_mask=sum(term_bit(t) for t in set(terms)),
        min_pd_ppm=None if body.min_probability_of_default is None else body.min_probability_of_default * 100,
        max_pd_ppm=None if body.max_probability_of_default is None else body.max_probability_of_default * 100,
        min_rate_bps=body.min_rate,
        max_rate_bps=body.max_rate,
        any_purpose=body.purposes is None,
        note_cents=body.amount_per_note,
        max_per_loan_cents=body.max_per_loan,
        cash_reserve_cents=body.cash_to_keep,
        created_at=now,
        **{column: (mix.get(g, 0) if mix else None) for g, column in zip(GRADES, _MIX, strict=True)},  # type: ignore[call-overload]
    )
    session.add(rule)
    session.flush()
    for purpose in sorted({p.strip().lower() for p in body.purposes or []}):
        session.add(AutoInvestRulePurpose(rule_id=rule.rule_id, purpose=purpose))
    session.flush()
    return rule


def _problems(settings: Settings, body: AutoInvestRules) -> list[str]:
    step = settings.investment_step_cents
    problems = []
    if body.amount_per_note % step:
        problems.append(f"amount_per_note must be a multiple of {format_cents(step)}")
    if body.max_per_loan < body.amount_per_note:
        problems.append("max_per_loan must be at least amount_per_note")
    if body.max_per_loan > settings.max_investment_per_loan_cents:
        problems.append(f"max_per_loan may not exceed {format_cents(settings.max_investment_per_loan_cents)}")
    low, high = body.min_probability_of_default, body.max_probability_of_default
    if low is not None and high is not None and low > high:
        problems.append("min_probability_of_default is above max_probability_of_default")
    if body.min_rate is not None and body.max_rate is not None and body.min_rate > body.max_rate:
        problems.append("min_rate is above max_rate")
    if body.target_mix is not None:
        if sum(body.target_mix.values()) != 10_000:
            problems.append("target_mix must add up to 100.00")
        allowed: set[str] = set(body.grades or GRADES)
        outside = sorted(g for g in body.target_mix if g not in allowed)
        if outside:
            problems.append(f"target_mix names grades the rule excludes: {', '.join(outside)}")
    return problems


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: int
    listings: int
    notes: int
    amount_cents: int
    completed: list[int]


def run(
    database: Database,
    settings: Settings,
    *,
    trigger: str,
    actor_user_id: int | None = None,
    seed: int | None = None,
) -> RunResult:
    """One auto-invest run over every listing not yet allocated, in its own transaction."""
    with database.transaction() as session:
        result = run_in(session, database, settings, trigger=trigger, actor_user_id=actor_user_id, seed=seed)
    return result


def run_in(
    session: Session,
    database: Database,
    settings: Settings,
    *,
    trigger: str,
    actor_user_id: int | None = None,
    seed: int | None = None,
) -> RunResult:
    now = utcnow()
    config = {
        "auto_invest_max_share_pct": settings.auto_invest_max_share_pct,
        "rounds": settings.auto_invest_rounds,
        "investment_step_cents": settings.investment_step_cents,
    }
    record = AllocationRun(
        trigger=trigger,
        actor_user_id=actor_user_id,
        seed=secrets.randbelow(MODULUS) if seed is None else seed % MODULUS,
        rounds=0,
        listings=0,
        rules=0,
        notes=0,
        amount_cents=0,
        settings=json.dumps(config, sort_keys=True),
        started_at=now,
    )
    session.add(record)
    session.flush()
    run_id = record.run_id
    claimed = sql.claim(session, run_id, now, MAX_LISTINGS_PER_RUN)
    notes = amount = rules = rounds = 0
    if claimed:
        sql.lock(session, run_id)
        for round_ in range(1, settings.auto_invest_rounds + 1):
            listed, investors = sql.snapshot(
                session,
                run_id,
                round_,
                now,
                record.seed,
                settings.auto_invest_max_share_pct,
                settings.investment_step_cents,
            )
            rounds = round_
            rules = max(rules, investors)
            if not listed or not investors or not sql.decide(session, run_id, round_, record.seed):
                break
            placed, cents = sql.apply(session, run_id, round_, now)
            notes += placed
            amount += cents
    completed = [loan_id for loan_id, _ in sql.filled_listings(session, run_id)]
    for loan_id in completed:
        events.transition_row(
            session,
            loan_id,
            LoanStatus.LISTED.value,
            LoanEvent.FUND,
            ALLOCATOR,
            details={"run_id": run_id},
            funded_at=now,
        )

        def issue_now(loan: int = loan_id) -> None:
            issue_funded_loan(database, loan)

        after_commit(session, issue_now)
    record.listings, record.rules, record.notes, record.amount_cents, record.rounds = (
        claimed,
        rules,
        notes,
        amount,
        rounds,
    )
    record.finished_at = utcnow()
    session.flush()
    return RunResult(run_id, claimed, notes, amount, completed)


# --- explaining and replaying a run --------------------------------------------------------------------------


def replay(session: Session, run_id: int, seed: int) -> dict[int, list[Placed]]:
    """Each round of the run recomputed by the pure reference from the logged inputs."""
    totals = sql.round_totals(session, run_id)
    out: dict[int, list[Placed]] = {}
    for total in totals:
        listings, investors, holdings = sql.round_inputs(session, run_id, int(total.round))
        rule_rows, purpose_rows = sql.rules_of(session, [int(i.rule_id) for i in investors])
        purposes: dict[int, set[str]] = defaultdict(set)
        for rule_id, purpose in purpose_rows:
            purposes[int(rule_id)].add(str(purpose))
        rules = {
            int(r.rule_id): RuleInput(
                rule_id=int(r.rule_id),
                grade_mask=int(r.grade_mask),
                term_mask=int(r.term_mask),
                min_pd_ppm=r.min_pd_ppm,
                max_pd_ppm=r.max_pd_ppm,
                min_rate_bps=r.min_rate_bps,
                max_rate_bps=r.max_rate_bps,
                any_purpose=bool(r.any_purpose),
                purposes=frozenset(purposes[int(r.rule_id)]),
                note_cents=int(r.note_cents),
                max_per_loan_cents=int(r.max_per_loan_cents),
            )
            for r in rule_rows
        }
        out[int(total.round)] = allocate_round(
            [
                ListingInput(
                    loan_id=int(x.loan_id),
                    grade=str(x.grade),
                    grade_bit=int(x.grade_bit),
                    term_bit=int(x.term_bit),
                    probability_of_default_ppm=int(x.probability_of_default_ppm),
                    interest_rate_bps=int(x.interest_rate_bps),
                    purpose_key=str(x.purpose_key),
                    capacity_cents=int(x.capacity_cents),
                )
                for x in listings
            ],
            [
                InvestorInput(
                    investor_id=int(i.investor_id),
                    rule_id=int(i.rule_id),
                    budget_cents=int(i.budget_cents),
                    priority_ppm=int(i.priority_ppm),
                    tiebreak=int(i.tiebreak),
                    headroom=tuple(getattr(i, f"headroom_{g.lower()}_cents") for g in GRADES),
                )
                for i in investors
            ],
            rules,
            {(int(a), int(b)): int(c) for a, b, c in holdings},
            seed,
        )
    return out


def logged(session: Session, run_id: int) -> dict[int, list[Placed]]:
    out: dict[int, list[Placed]] = defaultdict(list)
    for a in sql.allocations_of(session, run_id, loan_id=None, limit=None):
        out[int(a.round)].append(
            Placed(
                loan_id=int(a.loan_id),
                investor_id=int(a.investor_id),
                rule_id=int(a.rule_id),
                amount_cents=int(a.amount_cents),
                queue_position=int(a.queue_position),
                priority_ppm=int(a.priority_ppm),
                tiebreak=int(a.tiebreak),
                filled_after_cents=int(a.filled_after_cents),
                capacity_cents=int(a.capacity_cents),
                budget_spent_cents=int(a.budget_spent_cents),
                budget_cents=int(a.budget_cents),
            )
        )
    return dict(out)


def explain(session: Session, run_id: int, *, loan_id: int | None, limit: int) -> dict[str, Any]:
    record = session.get(AllocationRun, run_id)
    if record is None:
        raise NotFound(f"allocation run {run_id} not found")
    replayed = replay(session, run_id, int(record.seed))
    recorded = logged(session, run_id)
    same = {k: v for k, v in replayed.items() if v} == recorded
    shown = sql.allocations_of(session, run_id, loan_id=loan_id, limit=limit)
    return {
        "run": record,
        "rounds": sql.round_totals(session, run_id),
        "allocations": shown,
        "replayed_identically": same,
        "fairness_rule": FAIRNESS_RULE,
    }


def rule_view(session: Session, rule: AutoInvestRule) -> dict[str, Any]:
    grades = [g for g in GRADES if rule.grade_mask & grade_bit(g)]
    terms = [t for t in TERMS_MONTHS if rule.term_mask & term_bit(t)]
    mix_values = {g: getattr(rule, column) for g, column in zip(GRADES, _MIX, strict=True)}
    has_mix = any(v is not None for v in mix_values.values())
    return {
        "rule_id": rule.rule_id,
        "version": rule.version,
        "enabled": rule.enabled,
        "grades": None if len(grades) == len(GRADES) else grades,
        "min_probability_of_default": None if rule.min_pd_ppm is None else rule.min_pd_ppm // 100,
        "max_probability_of_default": None if rule.max_pd_ppm is None else rule.max_pd_ppm // 100,
        "min_rate": rule.min_rate_bps,
        "max_rate": rule.max_rate_bps,
        "terms": None if len(terms) == len(TERMS_MONTHS) else terms,
        "purposes": None if rule.any_purpose else purposes_of(session, rule.rule_id),
        "amount_per_note": rule.note_cents,
        "max_per_loan": rule.max_per_loan_cents,
        "target_mix": {g: v for g, v in mix_values.items() if v} if has_mix else None,
        "cash_to_keep": rule.cash_reserve_cents,
        "created_at": rule.created_at,
    }


__all__ = ["PPM", "RunResult", "current_rule", "explain", "replay", "rule_view", "run", "save_rules"]
