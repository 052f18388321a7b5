"""The SQL of an auto-invest run: every statement works on all listings and all rules of a round at once
(snapshots with INSERT ... SELECT, the decision with window functions, the notes and funded amounts with one
statement each). It computes exactly what api/lending/allocation.py computes; tests compare the two.
Placing the notes is set-based too: the notes, the listings' funded amounts, one ledger transaction per listing
with its postings, and the investors' balances are one statement each per round, whatever the number of notes.
Runs unchanged on PostgreSQL and SQLite (integer arithmetic, no LEAST/GREATEST, ROWS frames, UPDATE ... FROM)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from api.db.base import UtcDateTime
from api.lending import lifecycle
from api.lending.allocation import MODULUS, SPREAD_INVESTOR, SPREAD_LOAN, TIEBREAK_INVESTOR
from api.lending.lifecycle import LoanStatus
from api.lending.limits import TERMS_MONTHS
from models.grades import GRADES

LISTED = LoanStatus.LISTED.value
_NOW = bindparam("now", type_=UtcDateTime())
_GRADE_BIT = "CASE l.grade " + " ".join(f"WHEN '{g}' THEN {1 << i}" for i, g in enumerate(GRADES)) + " ELSE 0 END"
_TERM_BIT = (
    "CASE l.term_months " + " ".join(f"WHEN {t} THEN {1 << i}" for i, t in enumerate(TERMS_MONTHS)) + " ELSE 0 END"
)
_LETTERS = [g.lower() for g in GRADES]
_EXPOSED = ", ".join(
    f"'{s}'"
    for s in sorted(
        {
            *lifecycle.values(lifecycle.OPEN_FOR_INVESTMENT),
            *lifecycle.values(lifecycle.IN_REPAYMENT),
            LoanStatus.FUNDED.value,
        }
    )
)
_ANY_MIX = " OR ".join(f"r.mix_{g}_bps IS NOT NULL" for g in _LETTERS)


def _max0(expression: str) -> str:
    return f"CASE WHEN {expression} > 0 THEN {expression} ELSE 0 END"


CLAIM = text(
    f"""
    INSERT INTO allocation_claims (loan_id, run_id)
    SELECT l.loan_id, :run FROM loans l
    WHERE l.status = '{LISTED}' AND l.listing_expires_at > :now
      AND NOT EXISTS (SELECT 1 FROM allocation_claims c WHERE c.loan_id = l.loan_id)
    ORDER BY l.loan_id
    LIMIT :max_listings
    ON CONFLICT DO NOTHING
    """
).bindparams(_NOW)

LOCK_LISTINGS = text(
    "SELECT l.loan_id FROM loans l JOIN allocation_claims c ON c.loan_id = l.loan_id "
    "WHERE c.run_id = :run ORDER BY l.loan_id FOR UPDATE OF l"
)
# The accounts an investment posting touches, of every investor with an enabled rule, in the ledger's lock
# order (account type, then owner), after the listings: the order every other path takes them in.
LOCK_ACCOUNTS = text(
    """
    SELECT a.account_id FROM ledger_accounts a
    WHERE a.account_type IN ('investor_cash', 'investor_commitments')
      AND a.owner_id IN (SELECT r.investor_id FROM auto_invest_rules r WHERE r.superseded_at IS NULL AND r.enabled)
    ORDER BY a.account_type, a.owner_id
    FOR UPDATE
    """
)

SNAPSHOT_LISTINGS = text(
    f"""
    INSERT INTO allocation_listings (run_id, round, loan_id, grade, grade_bit, term_bit,
                                     probability_of_default_ppm, interest_rate_bps, purpose_key, capacity_cents)
    SELECT :run, :round, l.loan_id, l.grade, {_GRADE_BIT}, {_TERM_BIT}, l.probability_of_default_ppm,
           l.interest_rate_bps, lower(trim(l.purpose)),
           (l.amount_cents * :share_pct / 100) / :step * :step - l.funded_amount_cents
    FROM loans l JOIN allocation_claims c ON c.loan_id = l.loan_id
    WHERE c.run_id = :run AND l.status = '{LISTED}' AND l.listing_expires_at > :now
      AND (l.amount_cents * :share_pct / 100) / :step * :step - l.funded_amount_cents >= :step
    """
).bindparams(_NOW)

_EXPOSURE = ", ".join(
    f"SUM(CASE WHEN l.grade = '{g}' THEN n.amount_cents ELSE 0 END) AS exp_{g.lower()}" for g in GRADES
)
_HEADROOM_COLUMNS = ", ".join(f"headroom_{g}_cents" for g in _LETTERS)
_HEADROOM_VALUES = ", ".join(
    f"CASE WHEN s.has_mix = 1 THEN {_max0(f's.portfolio * COALESCE(s.mix_{g}, 0) / 10000 - s.exp_{g}')} END"
    for g in _LETTERS
)
SNAPSHOT_INVESTORS = text(
    f"""
    INSERT INTO allocation_investors (run_id, round, investor_id, rule_id, available_cents, invested_cents,
                                      budget_cents, priority_ppm, tiebreak, {_HEADROOM_COLUMNS})
    SELECT :run, :round, s.investor_id, s.rule_id, s.available, s.invested, s.budget,
           CASE WHEN s.budget + s.invested > 0 THEN s.budget * 1000000 / (s.budget + s.invested) ELSE 0 END,
           ((s.investor_id % {MODULUS}) * {TIEBREAK_INVESTOR} + :seed) % {MODULUS},
           {_HEADROOM_VALUES}
    FROM (
        SELECT r.investor_id, r.rule_id, r.note_cents,
               -cash.balance_cents AS available,
               -(cm.balance_cents + nt.balance_cents) AS invested,
               {_max0("-cash.balance_cents - r.cash_reserve_cents")} AS budget,
               -(cash.balance_cents + cm.balance_cents + nt.balance_cents) AS portfolio,
               CASE WHEN {_ANY_MIX} THEN 1 ELSE 0 END AS has_mix,
               {", ".join(f"r.mix_{g}_bps AS mix_{g}" for g in _LETTERS)},
               {", ".join(f"COALESCE(e.exp_{g}, 0) AS exp_{g}" for g in _LETTERS)}
        FROM auto_invest_rules r
        JOIN ledger_accounts cash ON cash.account_type = 'investor_cash' AND cash.owner_id = r.investor_id
        JOIN ledger_accounts cm ON cm.account_type = 'investor_commitments' AND cm.owner_id = r.investor_id
        JOIN ledger_accounts nt ON nt.account_type = 'investor_notes' AND nt.owner_id = r.investor_id
        LEFT JOIN (
            SELECT n.investor_id, {_EXPOSURE}
            FROM investments n JOIN loans l ON l.loan_id = n.loan_id
            WHERE n.status IN ('committed', 'issued') AND l.status IN ({_EXPOSED})
              AND n.investor_id IN (SELECT r.investor_id FROM auto_invest_rules r
                                    WHERE r.superseded_at IS NULL AND r.enabled AND ({_ANY_MIX}))
            GROUP BY n.investor_id
        ) e ON e.investor_id = r.investor_id
        WHERE r.superseded_at IS NULL AND r.enabled
    ) s
    WHERE s.budget >= s.note_cents
    """
)

SNAPSHOT_HOLDINGS = text(
    """
    INSERT INTO allocation_holdings (run_id, round, loan_id, investor_id, held_cents)
    SELECT :run, :round, n.loan_id, n.investor_id, SUM(n.amount_cents)
    FROM investments n
    JOIN allocation_listings l ON l.run_id = :run AND l.round = :round AND l.loan_id = n.loan_id
    JOIN allocation_investors i ON i.run_id = :run AND i.round = :round AND i.investor_id = n.investor_id
    WHERE n.status IN ('committed', 'issued')
    GROUP BY n.loan_id, n.investor_id
    """
)

_HEADROOM_OF_GRADE = (
    "CASE l.grade " + " ".join(f"WHEN '{g}' THEN i.headroom_{g.lower()}_cents" for g in GRADES) + " END"
)
DECIDE = text(
    f"""
    WITH candidates AS (
        SELECT l.loan_id, l.grade, l.capacity_cents, i.investor_id, i.rule_id, i.budget_cents, i.priority_ppm,
               i.tiebreak, r.note_cents, {_HEADROOM_OF_GRADE} AS headroom,
               ((l.loan_id % {MODULUS}) * {SPREAD_LOAN} + (i.investor_id % {MODULUS}) * {SPREAD_INVESTOR} + :seed)
                   % {MODULUS} AS spread
        FROM allocation_listings l
        JOIN allocation_investors i ON i.run_id = l.run_id AND i.round = l.round
        JOIN auto_invest_rules r ON r.rule_id = i.rule_id
        WHERE l.run_id = :run AND l.round = :round
          AND (r.grade_mask & l.grade_bit) <> 0
          AND (r.term_mask & l.term_bit) <> 0
          AND (r.min_pd_ppm IS NULL OR l.probability_of_default_ppm >= r.min_pd_ppm)
          AND (r.max_pd_ppm IS NULL OR l.probability_of_default_ppm <= r.max_pd_ppm)
          AND (r.min_rate_bps IS NULL OR l.interest_rate_bps >= r.min_rate_bps)
          AND (r.max_rate_bps IS NULL OR l.interest_rate_bps <= r.max_rate_bps)
          AND (r.any_purpose OR EXISTS (SELECT 1 FROM auto_invest_rule_purposes p
                                        WHERE p.rule_id = r.rule_id AND p.purpose = l.purpose_key))
          AND r.note_cents <= l.capacity_cents
          AND r.note_cents <= i.budget_cents
          AND r.note_cents + COALESCE((SELECT h.held_cents FROM allocation_holdings h
                                       WHERE h.run_id = l.run_id AND h.round = l.round
                                         AND h.loan_id = l.loan_id AND h.investor_id = i.investor_id), 0)
              <= r.max_per_loan_cents
    ),
    within_mix AS (
        SELECT c.*, SUM(c.note_cents) OVER (PARTITION BY c.investor_id, c.grade ORDER BY c.spread, c.loan_id
                                            ROWS UNBOUNDED PRECEDING) AS grade_spent
        FROM candidates c
    ),
    within_budget AS (
        SELECT m.*, SUM(m.note_cents) OVER (PARTITION BY m.investor_id ORDER BY m.spread, m.loan_id
                                            ROWS UNBOUNDED PRECEDING) AS spent
        FROM within_mix m
        WHERE m.headroom IS NULL OR m.grade_spent <= m.headroom
    ),
    queued AS (
        SELECT b.*,
               SUM(b.note_cents) OVER (PARTITION BY b.loan_id ORDER BY b.priority_ppm DESC, b.tiebreak, b.investor_id
                                       ROWS UNBOUNDED PRECEDING) AS filled,
               ROW_NUMBER() OVER (PARTITION BY b.loan_id ORDER BY b.priority_ppm DESC, b.tiebreak, b.investor_id)
                   AS position
        FROM within_budget b
        WHERE b.spent <= b.budget_cents
    )
    INSERT INTO allocations (run_id, round, loan_id, investor_id, rule_id, amount_cents, queue_position,
                             priority_ppm, tiebreak, filled_after_cents, capacity_cents, budget_spent_cents,
                             budget_cents)
    SELECT :run, :round, loan_id, investor_id, rule_id, note_cents, position, priority_ppm, tiebreak, filled,
           capacity_cents, spent, budget_cents
    FROM queued
    WHERE filled <= capacity_cents
    """
)

ADD_NOTES = text(
    """
    INSERT INTO investments (loan_id, investor_id, amount_cents, created_at, status, source)
    SELECT loan_id, investor_id, amount_cents, :now, 'committed', 'auto'
    FROM allocations WHERE run_id = :run AND round = :round
    ORDER BY loan_id, investor_id
    """
).bindparams(_NOW)
# A round places at most one note per (loan, investor) and the listings are locked, so the pair's newest
# committed auto note is the one this round just inserted.
LINK_NOTES = text(
    """
    UPDATE allocations SET investment_id = (
        SELECT MAX(n.investment_id) FROM investments n
        WHERE n.loan_id = allocations.loan_id AND n.investor_id = allocations.investor_id
          AND n.source = 'auto' AND n.status = 'committed')
    WHERE run_id = :run AND round = :round
    """
)
# CAST: PostgreSQL's SUM of BIGINT is NUMERIC, which would make `* 10000 / amount_cents` a fractional division
# (rounded on assignment) where the CHECK on funded_bps divides integers.
_ROUND_SUM = (
    "(SELECT CAST(SUM(a.amount_cents) AS BIGINT) FROM allocations a "
    "WHERE a.run_id = :run AND a.round = :round AND a.loan_id = loans.loan_id)"
)
FUND_LISTINGS = text(
    f"""
    UPDATE loans SET funded_amount_cents = funded_amount_cents + {_ROUND_SUM},
                     funded_bps = (funded_amount_cents + {_ROUND_SUM}) * 10000 / amount_cents,
                     updated_at = :now
    WHERE loan_id IN (SELECT a.loan_id FROM allocations a WHERE a.run_id = :run AND a.round = :round)
    """
).bindparams(_NOW)


ROUND_TOTAL = text(
    "SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM allocations "
    "WHERE run_id = :run AND round = :round"
)

# The ledger side of a round, set-based: the same rows `api.ledger.repository.post` writes per transaction
# (balances changed together with the postings, under row locks taken in the ledger's lock order, which `lock`
# took for every account an investor with a rule has), written for all listings of the round at once.
_INVESTOR_LEGS = "acc.account_type IN ('investor_cash', 'investor_commitments')"
_LEG_AMOUNT = "CASE WHEN acc.account_type = 'investor_cash' THEN a.amount_cents ELSE -a.amount_cents END"
POST_TRANSACTIONS = text(
    """
    INSERT INTO ledger_transactions (kind, loan_id, description, created_at)
    SELECT 'investment', a.loan_id,
           :prefix || CAST(COUNT(*) AS VARCHAR(20)) || ' notes in loan ' || CAST(a.loan_id AS VARCHAR(20)), :now
    FROM allocations a WHERE a.run_id = :run AND a.round = :round
    GROUP BY a.loan_id ORDER BY a.loan_id
    """
).bindparams(_NOW)
# Each listing's transaction is found again by its loan (indexed) and its description, which names the run and
# the round: no other transaction can carry both, and the statement needs no list of ids from the client.
POST_ENTRIES = text(
    f"""
    INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)
    SELECT t.transaction_id, acc.account_id, {_LEG_AMOUNT}
    FROM allocations a
    JOIN ledger_transactions t ON t.loan_id = a.loan_id AND t.kind = 'investment' AND t.description LIKE :pattern
    JOIN ledger_accounts acc ON acc.owner_id = a.investor_id AND {_INVESTOR_LEGS}
    WHERE a.run_id = :run AND a.round = :round
    ORDER BY t.transaction_id, acc.account_type, acc.owner_id
    """
)
# CAST: PostgreSQL's SUM of BIGINT is NUMERIC.
MOVE_BALANCES = text(
    f"""
    UPDATE ledger_accounts SET balance_cents = ledger_accounts.balance_cents + d.delta, updated_at = :now
    FROM (
        SELECT acc.account_id AS account_id, CAST(SUM({_LEG_AMOUNT}) AS BIGINT) AS delta
        FROM allocations a
        JOIN ledger_accounts acc ON acc.owner_id = a.investor_id AND {_INVESTOR_LEGS}
        WHERE a.run_id = :run AND a.round = :round
        GROUP BY acc.account_id
    ) d
    WHERE ledger_accounts.account_id = d.account_id
    """
).bindparams(_NOW)


def claim(session: Session, run_id: int, now: datetime, max_listings: int) -> int:
    result: Any = session.execute(CLAIM, {"run": run_id, "now": now, "max_listings": max_listings})
    return int(result.rowcount or 0)


def lock(session: Session, run_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_LISTINGS, {"run": run_id}).all()
        session.execute(LOCK_ACCOUNTS).all()


def snapshot(
    session: Session, run_id: int, round_: int, now: datetime, seed: int, share_pct: int, step: int
) -> tuple[int, int]:
    listings: Any = session.execute(
        SNAPSHOT_LISTINGS, {"run": run_id, "round": round_, "now": now, "share_pct": share_pct, "step": step}
    )
    if not listings.rowcount:
        return 0, 0
    investors: Any = session.execute(SNAPSHOT_INVESTORS, {"run": run_id, "round": round_, "seed": seed})
    session.execute(SNAPSHOT_HOLDINGS, {"run": run_id, "round": round_})
    return int(listings.rowcount), int(investors.rowcount or 0)


def decide(session: Session, run_id: int, round_: int, seed: int) -> int:
    result: Any = session.execute(DECIDE, {"run": run_id, "round": round_, "seed": seed})
    return int(result.rowcount or 0)


def apply(session: Session, run_id: int, round_: int, now: datetime) -> tuple[int, int]:
    """Write the round's notes, funded amounts and ledger postings, each in one set-based statement; returns
    (notes, cents). The listings' and investors' rows are locked (`lock`), so nothing changes under it."""
    params = {"run": run_id, "round": round_, "now": now}
    session.execute(ADD_NOTES, params)
    session.execute(LINK_NOTES, params)
    session.execute(FUND_LISTINGS, params)
    post_round(session, run_id, round_, now)
    row: Any = session.execute(ROUND_TOTAL, params).one()
    return int(row[0]), int(row[1])


def post_round(session: Session, run_id: int, round_: int, now: datetime) -> None:
    """The round's cash reservations as one balanced ledger transaction per listing (investor_cash debited,
    investor_commitments credited, one entry per investor leg), and every touched balance moved by the sum of
    its new entries in one UPDATE. The accounts' CHECK refuses a negative cash or commitment balance whatever
    the snapshot said, so a wrong budget fails the run instead of overdrawing anyone."""
    prefix = f"auto-invest run {run_id} round {round_}: "
    params: dict[str, Any] = {"run": run_id, "round": round_, "now": now, "prefix": prefix}
    session.execute(POST_TRANSACTIONS, params)
    session.execute(POST_ENTRIES, {**params, "pattern": prefix + "%"})
    session.execute(MOVE_BALANCES, params)


def filled_listings(session: Session, run_id: int) -> list[tuple[int, str]]:
    rows: Sequence[Any] = session.execute(
        text(
            "SELECT l.loan_id, l.status FROM loans l JOIN allocation_claims c ON c.loan_id = l.loan_id "
            "WHERE c.run_id = :run AND l.funded_amount_cents = l.amount_cents AND l.status = :listed"
        ),
        {"run": run_id, "listed": LISTED},
    ).all()
    return [(int(a), str(b)) for a, b in rows]


# --- reading a run back (explain and replay) ------------------------------------------------------------------


def round_inputs(session: Session, run_id: int, round_: int) -> tuple[list[Any], list[Any], list[Any]]:
    params = {"run": run_id, "round": round_}
    listings = session.execute(
        text("SELECT * FROM allocation_listings WHERE run_id = :run AND round = :round ORDER BY loan_id"), params
    ).all()
    investors = session.execute(
        text("SELECT * FROM allocation_investors WHERE run_id = :run AND round = :round ORDER BY investor_id"), params
    ).all()
    holdings = session.execute(
        text("SELECT loan_id, investor_id, held_cents FROM allocation_holdings WHERE run_id = :run AND round = :round"),
        params,
    ).all()
    return list(listings), list(investors), list(holdings)


def rules_of(session: Session, rule_ids: Sequence[int]) -> tuple[list[Any], list[Any]]:
    if not rule_ids:
        return [], []
    ids = ", ".join(str(int(r)) for r in sorted(set(rule_ids)))
    rules = session.execute(text(f"SELECT * FROM auto_invest_rules WHERE rule_id IN ({ids})")).all()
    purposes = session.execute(
        text(f"SELECT rule_id, purpose FROM auto_invest_rule_purposes WHERE rule_id IN ({ids})")
    ).all()
    return list(rules), list(purposes)


def allocations_of(session: Session, run_id: int, *, loan_id: int | None, limit: int | None) -> list[Any]:
    query = (
        "SELECT a.*, r.version AS rule_version FROM allocations a JOIN auto_invest_rules r ON r.rule_id = a.rule_id "
        "WHERE a.run_id = :run"
        + (" AND a.loan_id = :loan" if loan_id is not None else "")
        + " ORDER BY a.round, a.loan_id, a.queue_position"
        + (" LIMIT :limit" if limit is not None else "")
    )
    return list(session.execute(text(query), {"run": run_id, "loan": loan_id, "limit": limit}).all())


def round_totals(session: Session, run_id: int) -> list[Any]:
    return list(
        session.execute(
            text(
                """
                SELECT l.round, COUNT(DISTINCT l.loan_id) AS listings,
                       (SELECT COUNT(*) FROM allocation_investors i WHERE i.run_id = l.run_id AND i.round = l.round)
                           AS investors,
                       (SELECT COUNT(*) FROM allocations a WHERE a.run_id = l.run_id AND a.round = l.round) AS notes,
                       (SELECT COALESCE(SUM(a.amount_cents), 0) FROM allocations a
                        WHERE a.run_id = l.run_id AND a.round = l.round) AS amount
                FROM allocation_listings l WHERE l.run_id = :run GROUP BY l.run_id, l.round ORDER BY l.round
                """
            ),
            {"run": run_id},
        ).all()
    )
