"""A *clone* generator: a realistic loan book written straight into the API's database, fast, for the
warehouse's scale benchmark (benchmarks/warehouse.py) and tests.

    uv run python -m pipelines.clone --loans 1000000 --url sqlite:////abs/path/bench.db

Everything is vectorised in Polars and seeded, and the book keeps every invariant the API keeps, using
the API's own rules:
- schedules are `api.payments.schedule.amortize`, memoised per (amount, rate, term) because principal and
  interest depend on nothing else; due dates fall on the disbursement day of each later month (clamped to
  the month's end, as `relativedelta` does);
- every due installment is paid in full on its due date (on time: late is from the day after), oldest first;
  a loan whose last installment is paid is repaid;
- each payment is split across the loan's notes pro rata to each note's outstanding principal before it,
  largest remainder, ties to the older note (`api.payments.split.split_pro_rata`'s rule, run in Polars one
  installment number at a time so each split sees the previous ones);
- every money movement is a balanced ledger transaction with the postings of `api.ledger.postings`
  (deposit, investment, disbursement, repayment, distribution; zero postings dropped as `check_balanced`
  does), and every account's stored balance is the sum of its postings;
- every investor and loan has all its accounts; timestamps are UTC.
Outcomes: most loans pay on time; a share by grade (LendingClub's charge-off rates, LIFETIME_CHARGE_OFF,
scaled to the term) stop paying at an installment drawn early in the life, go grace -> late_16_30 ->
late_31_120 by days past due (loan_events `become_delinquent`), and are charged off past 120 days past due
(`api.servicing.postings.charge_off`: each note's outstanding principal written off, `note_charge_offs`).
So default rates rise from grade A to G. Not yet simulated (phase 2): prepayments, partial and late
payments with late fees, recoveries after charge-off, returned payments, the marketplace's auto-invest
allocations, and the servicing state table (`loan_servicing`, left empty). Every status change is a
`loan_events` row (request, list, fund, issue, then delinquency, charge-off or repay). Personal fields are
synthetic placeholders.

Rows go in through ADBC bulk ingestion (Arrow, no Python rows) into a schema the Alembic migrations made.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from api.ledger.accounts import Owner, kinds_owned_by
from api.payments.schedule import amortize, monthly_payment_cents

GRADES = ["A", "B", "C", "D", "E", "F", "G"]
GRADE_WEIGHTS = [0.18, 0.29, 0.27, 0.15, 0.07, 0.03, 0.01]  # LendingClub-like mix
GRADE_RATES_BPS = {g: [600 + 300 * i + 60 * s for s in range(5)] for i, g in enumerate(GRADES)}
GRADE_PD_PPM = {g: 20_000 + 35_000 * i for i, g in enumerate(GRADES)}
TERMS = [12, 24, 36, 48, 60]
TERM_WEIGHTS = [0.30, 0.35, 0.25, 0.05, 0.05]  # ~26 installments per loan
PURPOSES = ["debt consolidation", "credit card", "home improvement", "car", "medical", "small business"]
NOTE_STEP_CENTS = 2_500
# Every account the API opens (api.ledger.accounts.kinds_owned_by): the platform's by the migrations
# (processor cash in 0001, fee income in 0004, servicing income in 0005), the loan's at listing.
PLATFORM_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.PLATFORM))
INVESTOR_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.INVESTOR))
LOAN_ACCOUNTS = tuple(k.value for k in kinds_owned_by(Owner.LOAN))
LISTING_DAYS = 14
CHARGE_OFF_DAYS = 120  # charged off past 120 days past due (api/lending/lifecycle.py)
# Share of loans charged off over a 36-month life by grade, LendingClub 2007-2015 (its published loan data,
# rounded); the clone scales it to the term.
LIFETIME_CHARGE_OFF = {"A": 0.06, "B": 0.11, "C": 0.17, "D": 0.23, "E": 0.29, "F": 0.34, "G": 0.38}
AMOUNT_STEP_CENTS = 50_000  # $500: keeps the distinct (amount, rate, term) schedules to memoise small


@dataclass(frozen=True)
class CloneSpec:
    loans: int = 10_000
    seed: int = 20261201
    as_of: date = date(2026, 11, 30)
    history_months: int = 12
    max_notes: int = 3


@dataclass
class Book:
    tables: dict[str, pl.DataFrame]

    def rows(self) -> dict[str, int]:
        return {name: frame.height for name, frame in self.tables.items()}


def _ts(day: pl.Expr, seconds: pl.Expr | int) -> pl.Expr:
    return day.cast(pl.Datetime("us")) + pl.duration(seconds=seconds)


def _schedules(combos: pl.DataFrame) -> pl.DataFrame:
    """One row per (amount, rate, term, number): the API's amortization, computed once per combination."""
    parts: dict[str, list[int]] = {
        k: []
        for k in (
            "amount_cents",
            "interest_rate_bps",
            "term_months",
            "number",
            "payment_cents",
            "principal_cents",
            "interest_cents",
            "balance_after_cents",
        )
    }
    anchor = date(2026, 1, 1)  # principal and interest do not depend on the date
    for amount, rate, term in combos.iter_rows():
        for row in amortize(amount, rate, term, anchor):
            parts["amount_cents"].append(amount)
            parts["interest_rate_bps"].append(rate)
            parts["term_months"].append(term)
            parts["number"].append(row.number)
            parts["payment_cents"].append(row.payment_cents)
            parts["principal_cents"].append(row.principal_cents)
            parts["interest_cents"].append(row.interest_cents)
            parts["balance_after_cents"].append(row.balance_after_cents)
    return pl.DataFrame(parts, schema=dict.fromkeys(parts, pl.Int64))


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


def generate(spec: CloneSpec, log: Callable[[str], None] = lambda _: None) -> Book:
    rng = np.random.default_rng(spec.seed)
    n = spec.loans
    started = time.perf_counter()
    n_borrowers = max(2, int(n * 0.8))
    n_investors = max(5, n // 20)
    start_day = spec.as_of - timedelta(days=30 * spec.history_months)
    span_days = (spec.as_of - start_day).days

    # ---- loans: listed, funded at once by 1-3 notes, issued; the newest still listed; a few never funded
    grade = rng.choice(len(GRADES), size=n, p=GRADE_WEIGHTS)
    sub = rng.integers(0, 5, size=n)
    rate = np.array([GRADE_RATES_BPS[GRADES[g]][s] for g, s in zip(grade, sub, strict=True)], dtype=np.int64)
    term = rng.choice(TERMS, size=n, p=TERM_WEIGHTS)
    amount = (
        np.clip(np.round(rng.lognormal(np.log(12_000), 0.6, size=n) / 500), 2, 80).astype(np.int64) * AMOUNT_STEP_CENTS
    )
    listed_offset = np.sort(rng.integers(0, span_days * 86_400, size=n))  # seconds after start, in id order
    fate = rng.random(n)
    funding_seconds = rng.integers(600, 5 * 86_400, size=n)
    loans = pl.DataFrame(
        {
            "loan_id": np.arange(1, n + 1, dtype=np.int64),
            "borrower_id": rng.integers(1, n_borrowers + 1, size=n).astype(np.int64),
            "amount_cents": amount,
            "interest_rate_bps": rate,
            "term_months": term.astype(np.int64),
            "purpose": np.array(PURPOSES)[rng.integers(0, len(PURPOSES), size=n)],
            "grade": np.array(GRADES)[grade],
            "probability_of_default_ppm": np.array([GRADE_PD_PPM[GRADES[g]] for g in grade], dtype=np.int64)
            + rng.integers(-5_000, 5_000, size=n),
            "listed_s": listed_offset,
            "funding_s": funding_seconds,
            "fate": fate,
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
    combos = loans.select("amount_cents", "interest_rate_bps", "term_months").unique().sort(pl.all())
    monthly = {(a, r, t): monthly_payment_cents(a, r, t) for a, r, t in combos.iter_rows()}
    loans = loans.with_columns(
        monthly_payment_cents=pl.struct("amount_cents", "interest_rate_bps", "term_months").map_elements(
            lambda s: monthly[(s["amount_cents"], s["interest_rate_bps"], s["term_months"])], return_dtype=pl.Int64
        )
    )
    log(f"loans: {n} in {time.perf_counter() - started:.1f} s")

    # ---- notes: 1-3 distinct investors per funded or listed loan, amounts in $25 steps
    has_notes = loans.filter(pl.col("status").is_in(["current", "listed"]))
    k = rng.integers(1, spec.max_notes + 1, size=has_notes.height)
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
            investor_id=((pl.col("investor_base") + pl.col("slot") * 7_919) % n_investors) + 1,
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
        .select("investment_id", "loan_id", "investor_id", "amount_cents", "created_at")
    )
    funded = notes.group_by("loan_id").agg(pl.col("amount_cents").sum().alias("funded_amount_cents"))
    loans = loans.join(funded, on="loan_id", how="left").with_columns(pl.col("funded_amount_cents").fill_null(0))
    # an active loan is exactly funded; the rounding of notes to $25 steps is absorbed by the amount
    loans = loans.with_columns(
        amount_cents=pl.when(pl.col("status") == "current")
        .then(pl.col("funded_amount_cents"))
        .otherwise(pl.col("amount_cents"))
    )
    log(f"notes: {notes.height} in {time.perf_counter() - started:.1f} s")

    # ---- schedules: amortize once per (amount, rate, term), due on the disbursement day of later months
    active = loans.filter(pl.col("status") == "current")
    combos = active.select("amount_cents", "interest_rate_bps", "term_months").unique().sort(pl.all())
    table = _schedules(combos)
    log(f"schedules: {combos.height} distinct, memoised in {time.perf_counter() - started:.1f} s")
    monthly = {(a, r, t): monthly_payment_cents(a, r, t) for a, r, t in combos.iter_rows()}
    installments = (
        active.select(
            "loan_id",
            "amount_cents",
            "interest_rate_bps",
            "term_months",
            disbursed_date=pl.col("funded_at").dt.date(),
        )
        .join(table, on=["amount_cents", "interest_rate_bps", "term_months"], how="inner")
        .with_columns(due_date=pl.col("disbursed_date").dt.offset_by(pl.format("{}mo", pl.col("number"))))
        .sort("loan_id", "number")
        .with_columns(installment_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )
    # ---- outcomes: some loans stop paying at an installment and are charged off 121 days after it fell due
    # (the API's lifecycle: grace 1-15 days past due, late_16_30, late_31_120, then charge-off); the share
    # by grade follows LendingClub's charge-off rates, scaled to the term (the rest pay on time).
    stop_rng = np.random.default_rng(spec.seed + 1)
    lifetime = active.select(
        "loan_id",
        default_p=pl.col("grade").replace_strict(LIFETIME_CHARGE_OFF, return_dtype=pl.Float64)
        * (pl.col("term_months") / 36).clip(upper_bound=1.4),
        term="term_months",
    )
    draws = stop_rng.random(lifetime.height)
    # the first missed installment: LendingClub's defaults peak in the loan's first year or so
    position = stop_rng.beta(1.6, 3.0, size=lifetime.height)
    stops = lifetime.with_columns(
        defaults=pl.Series(draws) < pl.col("default_p"),
        stop_number=(pl.Series(position) * pl.col("term")).floor().cast(pl.Int64) + 1,
    ).filter(pl.col("defaults"))
    installments = installments.join(stops.select("loan_id", "stop_number"), on="loan_id", how="left")
    missed = (
        installments.filter(pl.col("number") == pl.col("stop_number"))
        .select("loan_id", missed_due="due_date")
        .with_columns(
            days_past_due=(pl.lit(spec.as_of) - pl.col("missed_due")).dt.total_days(),
            charged_off_on=pl.col("missed_due") + pl.duration(days=CHARGE_OFF_DAYS + 1),
        )
    )
    paid = (pl.col("due_date") <= spec.as_of) & (
        pl.col("stop_number").is_null() | (pl.col("number") < pl.col("stop_number"))
    )
    # paid on the due date, in the borrower's morning
    installments = installments.with_columns(
        is_paid=paid,
        paid_at=pl.when(paid).then(_ts(pl.col("due_date"), 8 * 3600 + (pl.col("loan_id") % 3600))),
    ).with_columns(
        paid_principal_cents=pl.when(pl.col("is_paid")).then(pl.col("principal_cents")).otherwise(0),
        paid_interest_cents=pl.when(pl.col("is_paid")).then(pl.col("interest_cents")).otherwise(0),
    )
    log(f"installments: {installments.height} in {time.perf_counter() - started:.1f} s")

    last_paid = installments.group_by("loan_id").agg(
        pl.col("is_paid").all().alias("all_paid"), pl.col("paid_at").max().alias("last_paid_at")
    )
    loans = (
        loans.join(last_paid, on="loan_id", how="left")
        .with_columns(
            status=pl.when(pl.col("all_paid").fill_null(False)).then(pl.lit("repaid")).otherwise(pl.col("status")),
            closed_at=pl.when(pl.col("all_paid").fill_null(False))
            .then(pl.col("last_paid_at"))
            .otherwise(pl.col("closed_at")),
            disbursed_at=pl.col("funded_at"),
            first_due_date=pl.col("funded_at").dt.date().dt.offset_by("1mo"),
        )
        .join(missed, on="loan_id", how="left")
        .with_columns(
            status=pl.when(pl.col("charged_off_on") <= spec.as_of)
            .then(pl.lit("charged_off"))
            .when(pl.col("days_past_due") > 30)
            .then(pl.lit("late_31_120"))
            .when(pl.col("days_past_due") > 15)
            .then(pl.lit("late_16_30"))
            .when(pl.col("days_past_due") > 0)
            .then(pl.lit("grace"))
            .otherwise(pl.col("status")),
        )
        .with_columns(
            closed_at=pl.when(pl.col("status") == "charged_off")
            .then(_ts(pl.col("charged_off_on"), 6 * 3600))
            .otherwise(pl.col("closed_at")),
        )
        .with_columns(
            monthly_payment_cents=pl.when(
                pl.col("status").is_in(["current", "repaid", "grace", "late_16_30", "late_31_120", "charged_off"])
            )
            .then(
                pl.struct("amount_cents", "interest_rate_bps", "term_months").map_elements(
                    lambda s: monthly.get((s["amount_cents"], s["interest_rate_bps"], s["term_months"]), 0),
                    return_dtype=pl.Int64,
                )
            )
            .otherwise(pl.col("monthly_payment_cents")),
        )
    )
    installments = installments.with_columns(
        updated_at=pl.when(pl.col("is_paid"))
        .then(pl.col("paid_at"))
        .otherwise(pl.col("disbursed_date").cast(pl.Datetime("us")))
    )

    # ---- payments and their distributions: one installment number at a time, each split seeing the last
    payments = (
        installments.filter(pl.col("is_paid"))
        .join(loans.select("loan_id", "borrower_id"), on="loan_id")
        .sort("paid_at", "loan_id")
        .with_columns(payment_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )
    note_state = notes.join(active.select("loan_id"), on="loan_id").select(
        "investment_id", "loan_id", "investor_id", outstanding=pl.col("amount_cents")
    )
    shares = []
    for number in range(1, max(TERMS) + 1):
        due = payments.filter(pl.col("number") == number).select(
            "payment_id", "loan_id", "principal_cents", "interest_cents"
        )
        if due.is_empty():
            continue
        step = due.join(note_state, on="loan_id")
        step = step.with_columns(
            weight=pl.when(pl.col("outstanding").sum().over("payment_id") == 0)
            .then(pl.lit(1))
            .otherwise(pl.col("outstanding"))
        )
        step = _split(step, "principal_cents", "weight", "payment_id", "investment_id", "share_principal")
        step = _split(step, "interest_cents", "weight", "payment_id", "investment_id", "share_interest")
        shares.append(
            step.select("payment_id", "investment_id", "investor_id", "loan_id", "share_principal", "share_interest")
        )
        paid_down = step.group_by("investment_id").agg(pl.col("share_principal").sum().alias("down"))
        note_state = (
            note_state.join(paid_down, on="investment_id", how="left")
            .with_columns((pl.col("outstanding") - pl.col("down").fill_null(0)).alias("outstanding"))
            .drop("down")
        )
    distributions = (
        pl.concat(shares)
        .filter((pl.col("share_principal") != 0) | (pl.col("share_interest") != 0))
        .sort("payment_id", "investment_id")
        .with_columns(distribution_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        if shares
        else pl.DataFrame(
            schema={
                "payment_id": pl.Int64,
                "investment_id": pl.Int64,
                "investor_id": pl.Int64,
                "loan_id": pl.Int64,
                "share_principal": pl.Int64,
                "share_interest": pl.Int64,
                "distribution_id": pl.Int64,
            }
        )
    )
    log(f"payments: {payments.height}, distributions: {distributions.height} in {time.perf_counter() - started:.1f} s")

    # ---- people
    investor_user = n_borrowers + pl.col("investor_id")
    invested = notes.group_by("investor_id").agg(pl.col("amount_cents").sum().alias("invested"))
    investors = (
        pl.DataFrame({"investor_id": np.arange(1, n_investors + 1, dtype=np.int64)})
        .with_columns(user_id=investor_user, created_at=pl.lit(datetime.combine(start_day, datetime.min.time())))
        .with_columns(username=pl.format("investor{}", pl.col("investor_id")))
        .join(invested, on="investor_id", how="left")
        .with_columns(pl.col("invested").fill_null(0))
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
            created_at=pl.lit(datetime.combine(start_day, datetime.min.time())),
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

    # ---- cash, ledger and balances
    deposits = investors.filter(pl.col("invested") > 0).select(
        "investor_id",
        "user_id",
        amount_cents=pl.col("invested") + 100_000,
        created_at=pl.col("created_at") + pl.duration(hours=1),
    )
    txn_frames: list[pl.DataFrame] = []
    post_frames: list[pl.DataFrame] = []

    def add(kind: str, txns: pl.DataFrame, posts: list[pl.DataFrame]) -> None:
        # txns: key (an int64 naming the transaction: kind code * 10^12 + the id it is about), created_at,
        # loan_id, payment_id, transfer_id, investment_id
        txn_frames.append(txns.with_columns(kind=pl.lit(kind)))
        for p in posts:  # key, account_type, owner_id, amount_cents, seq
            post_frames.append(p.with_columns(kind=pl.lit(kind)))

    none = pl.lit(None, dtype=pl.Int64)
    transfers = (
        pl.concat(
            [
                deposits.select(
                    "user_id", direction=pl.lit("deposit"), amount_cents="amount_cents", created_at="created_at"
                ),
                loans.filter(pl.col("disbursed_at").is_not_null()).select(
                    user_id="borrower_id",
                    direction=pl.lit("disbursement"),
                    amount_cents="amount_cents",
                    created_at="disbursed_at",
                ),
            ]
        )
        .sort("created_at")
        .with_columns(
            transfer_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            processor_reference=pl.format("clone-transfer-{}", pl.int_range(1, pl.len() + 1)),
        )
    )
    dep = deposits.join(
        transfers.filter(pl.col("direction") == "deposit").select("user_id", "transfer_id"), on="user_id"
    ).with_columns(key=pl.col("transfer_id") + 1 * 10**12)
    add(
        "deposit",
        dep.select("key", "created_at", loan_id=none, payment_id=none, transfer_id="transfer_id", investment_id=none),
        [
            dep.select(
                "key",
                account_type=pl.lit("processor_cash"),
                owner_id=pl.lit(0, pl.Int64),
                amount_cents="amount_cents",
                seq=pl.lit(0),
            ),
            dep.select(
                "key",
                account_type=pl.lit("investor_cash"),
                owner_id="investor_id",
                amount_cents=-pl.col("amount_cents"),
                seq=pl.lit(1),
            ),
        ],
    )
    inv = notes.with_columns(key=pl.col("investment_id") + 2 * 10**12)
    add(
        "investment",
        inv.select("key", "created_at", "loan_id", payment_id=none, transfer_id=none, investment_id="investment_id"),
        [
            inv.select(
                "key",
                account_type=pl.lit("investor_cash"),
                owner_id="investor_id",
                amount_cents="amount_cents",
                seq=pl.lit(0),
            ),
            inv.select(
                "key",
                account_type=pl.lit("investor_commitments"),
                owner_id="investor_id",
                amount_cents=-pl.col("amount_cents"),
                seq=pl.lit(1),
            ),
        ],
    )
    disb = loans.filter(pl.col("disbursed_at").is_not_null()).with_columns(key=pl.col("loan_id") + 3 * 10**12)
    disb_notes = inv.join(disb.select("loan_id", "key").rename({"key": "dkey"}), on="loan_id")
    add(
        "disbursement",
        disb.select(
            "key", created_at="disbursed_at", loan_id="loan_id", payment_id=none, transfer_id=none, investment_id=none
        ),
        [
            disb.select(
                "key",
                account_type=pl.lit("loan_principal"),
                owner_id="loan_id",
                amount_cents="amount_cents",
                seq=pl.lit(0),
            ),
            disb.select(
                "key",
                account_type=pl.lit("processor_cash"),
                owner_id=pl.lit(0, pl.Int64),
                amount_cents=-pl.col("amount_cents"),
                seq=pl.lit(1),
            ),
            disb_notes.select(
                key="dkey",
                account_type=pl.lit("investor_commitments"),
                owner_id="investor_id",
                amount_cents="amount_cents",
                seq=2 + 2 * pl.col("investment_id"),
            ),
            disb_notes.select(
                key="dkey",
                account_type=pl.lit("investor_notes"),
                owner_id="investor_id",
                amount_cents=-pl.col("amount_cents"),
                seq=3 + 2 * pl.col("investment_id"),
            ),
        ],
    )
    rep = payments.with_columns(
        key=pl.col("payment_id") + 4 * 10**12, amount=pl.col("principal_cents") + pl.col("interest_cents")
    )
    add(
        "repayment",
        rep.select(
            "key",
            created_at="paid_at",
            loan_id="loan_id",
            payment_id="payment_id",
            transfer_id=none,
            investment_id=none,
        ),
        [
            rep.select(
                "key",
                account_type=pl.lit("processor_cash"),
                owner_id=pl.lit(0, pl.Int64),
                amount_cents="amount",
                seq=pl.lit(0),
            ),
            rep.select(
                "key",
                account_type=pl.lit("loan_collections"),
                owner_id="loan_id",
                amount_cents=-pl.col("amount"),
                seq=pl.lit(1),
            ),
        ],
    )
    dis = rep.with_columns(key=pl.col("payment_id") + 5 * 10**12)
    dshare = distributions.join(dis.select("payment_id", "key"), on="payment_id")
    add(
        "distribution",
        dis.select(
            "key",
            created_at="paid_at",
            loan_id="loan_id",
            payment_id="payment_id",
            transfer_id=none,
            investment_id=none,
        ),
        [
            dis.select(
                "key", account_type=pl.lit("loan_collections"), owner_id="loan_id", amount_cents="amount", seq=pl.lit(0)
            ),
            dis.select(
                "key",
                account_type=pl.lit("loan_principal"),
                owner_id="loan_id",
                amount_cents=-pl.col("principal_cents"),
                seq=pl.lit(1),
            ),
            dis.select(
                "key",
                account_type=pl.lit("loan_interest"),
                owner_id="loan_id",
                amount_cents="interest_cents",
                seq=pl.lit(2),
            ),
            dshare.select(
                "key",
                account_type=pl.lit("investor_cash"),
                owner_id="investor_id",
                amount_cents=-(pl.col("share_principal") + pl.col("share_interest")),
                seq=3 + 3 * pl.col("investment_id"),
            ),
            dshare.select(
                "key",
                account_type=pl.lit("investor_notes"),
                owner_id="investor_id",
                amount_cents="share_principal",
                seq=4 + 3 * pl.col("investment_id"),
            ),
            dshare.select(
                "key",
                account_type=pl.lit("investor_interest_income"),
                owner_id="investor_id",
                amount_cents=-pl.col("share_interest"),
                seq=5 + 3 * pl.col("investment_id"),
            ),
        ],
    )
    # charge-offs (api.servicing.postings.charge_off): each note's outstanding principal is written off, the
    # loan's principal falls by the same total
    charged = loans.filter(pl.col("status") == "charged_off").select("loan_id", "closed_at", "charged_off_on")
    written_off = (
        note_state.join(charged, on="loan_id")
        .filter(pl.col("outstanding") > 0)
        .with_columns(key=pl.col("loan_id") + 6 * 10**12)
    )
    co = written_off.group_by("loan_id", "key", "closed_at").agg(pl.col("outstanding").sum().alias("total"))
    add(
        "charge_off",
        co.select(
            "key", created_at="closed_at", loan_id="loan_id", payment_id=none, transfer_id=none, investment_id=none
        ),
        [
            co.select(
                "key",
                account_type=pl.lit("loan_principal"),
                owner_id="loan_id",
                amount_cents=-pl.col("total"),
                seq=pl.lit(0),
            ),
            written_off.select(
                "key",
                account_type=pl.lit("investor_notes"),
                owner_id="investor_id",
                amount_cents="outstanding",
                seq=1 + pl.col("investment_id"),
            ),
        ],
    )
    note_charge_offs = written_off.sort("investment_id").select(
        "investment_id",
        "loan_id",
        "investor_id",
        principal_cents="outstanding",
        charged_off_on="charged_off_on",
        created_at="closed_at",
    )
    order = {"deposit": 0, "investment": 1, "disbursement": 2, "repayment": 3, "distribution": 4, "charge_off": 5}
    transactions = (
        pl.concat(txn_frames, how="vertical_relaxed")
        .with_columns(kind_order=pl.col("kind").replace_strict(order, return_dtype=pl.Int64))
        .sort("created_at", "kind_order", "key")
        .with_columns(
            transaction_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            description=pl.format("{} (clone)", pl.col("kind")),
        )
    )
    accounts = pl.concat(
        [
            # the platform's accounts, in the order the migrations open them (ids 1, 2, 3)
            pl.DataFrame(
                {"account_type": list(PLATFORM_ACCOUNTS), "owner_id": [0] * len(PLATFORM_ACCOUNTS)},
                schema={"account_type": pl.String, "owner_id": pl.Int64},
            ),
            *(investors.select(account_type=pl.lit(kind), owner_id="investor_id") for kind in INVESTOR_ACCOUNTS),
            *(loans.select(account_type=pl.lit(kind), owner_id="loan_id") for kind in LOAN_ACCOUNTS),
        ]
    ).with_columns(account_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    entries = (
        pl.concat(post_frames, how="vertical_relaxed")
        .filter(pl.col("amount_cents") != 0)  # check_balanced drops zero postings
        .join(transactions.select("key", "transaction_id", "created_at"), on="key")
        .join(accounts, on=["account_type", "owner_id"])
        .sort("transaction_id", "seq")
        .with_columns(entry_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )
    balances = entries.group_by("account_id").agg(
        pl.col("amount_cents").sum().alias("balance_cents"), pl.col("created_at").max().alias("last_posted_at")
    )
    opened = datetime.combine(start_day, datetime.min.time())
    accounts = (
        accounts.join(balances, on="account_id", how="left")
        .join(loans.select(owner_id="loan_id", loan_created="created_at"), on="owner_id", how="left")
        .with_columns(
            balance_cents=pl.col("balance_cents").fill_null(0),
            investor_id=pl.when(pl.col("account_type").str.starts_with("investor_")).then(pl.col("owner_id")),
            loan_id=pl.when(pl.col("account_type").str.starts_with("loan_")).then(pl.col("owner_id")),
            created_at=pl.when(pl.col("account_type").str.starts_with("loan_"))
            .then(pl.col("loan_created"))
            .otherwise(pl.lit(opened)),
        )
        .with_columns(updated_at=pl.coalesce("last_posted_at", "created_at"))
    )
    log(
        f"ledger: {transactions.height} transactions, {entries.height} entries in {time.perf_counter() - started:.1f} s"
    )

    loans = loans.with_columns(
        updated_at=pl.max_horizontal(
            pl.col("created_at"), pl.col("funded_at"), pl.col("closed_at"), pl.col("disbursed_at")
        ),
        score_model_version=pl.lit("clone"),
        score_reasons=pl.lit("[]"),
    )
    notifications = loans.filter(pl.col("funded_at").is_not_null()).select(
        notification_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        user_id="borrower_id",
        kind=pl.lit("loan_funded"),
        loan_id="loan_id",
        message=pl.lit("Your loan is fully funded"),
        created_at="funded_at",
        updated_at="funded_at",
        read_at=pl.lit(None, dtype=pl.Datetime("us")),
    )

    tables = {
        "users": users.select(
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
        "investors": investors.select("investor_id", "user_id", "username", "created_at"),
        "user_profiles": profiles,
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
        "investments": notes.join(loans.select("loan_id", "status"), on="loan_id").select(
            "investment_id",
            "loan_id",
            "investor_id",
            "amount_cents",
            "created_at",
            status=pl.when(pl.col("status") == "listed").then(pl.lit("committed")).otherwise(pl.lit("issued")),
            source=pl.lit("manual"),
            ended_at=pl.lit(None, dtype=pl.Datetime("us")),
        ),
        "loan_events": _loan_events(loans),
        "note_charge_offs": note_charge_offs,
        "installments": installments.select(
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
        ),
        "cash_transfers": transfers.select(
            "transfer_id", "user_id", "direction", "amount_cents", "processor_reference", "created_at"
        ),
        "payments": payments.select(
            "payment_id",
            "loan_id",
            payer_user_id="borrower_id",
            amount_cents=pl.col("principal_cents") + pl.col("interest_cents"),
            principal_cents="principal_cents",
            interest_cents="interest_cents",
            fees_cents=pl.lit(0, pl.Int64),
            processor_reference=pl.format("clone-payment-{}", pl.col("payment_id")),
            date=pl.col("due_date"),
            created_at="paid_at",
        ),
        "payment_distributions": distributions.select(
            "distribution_id",
            "payment_id",
            "investment_id",
            "investor_id",
            principal_cents="share_principal",
            interest_cents="share_interest",
        ),
        "ledger_accounts": accounts.select(
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
        "notifications": notifications,
    }
    log(f"book built in {time.perf_counter() - started:.1f} s")
    return Book(tables)


def _loan_events(loans: pl.DataFrame) -> pl.DataFrame:
    """Each loan's lifecycle (api/lending/lifecycle.py) as events: requested and listed at creation, funded,
    issued (-> current) at disbursement, then repaid, or expired / cancelled from the listing."""
    system = {"actor_type": pl.lit("system"), "actor_user_id": pl.lit(None, dtype=pl.Int64)}
    parts = [
        loans.select(
            "loan_id",
            event=pl.lit("request"),
            from_status=pl.lit(None, dtype=pl.String),
            to_status=pl.lit("requested"),
            actor_type=pl.lit("borrower"),
            actor_user_id="borrower_id",
            occurred_at="created_at",
            seq=pl.lit(1),
        ),
        loans.select(
            "loan_id",
            event=pl.lit("list"),
            from_status=pl.lit("requested"),
            to_status=pl.lit("listed"),
            **system,
            occurred_at="created_at",
            seq=pl.lit(2),
        ),
        loans.filter(pl.col("funded_at").is_not_null()).select(
            "loan_id",
            event=pl.lit("fund"),
            from_status=pl.lit("listed"),
            to_status=pl.lit("funded"),
            **system,
            occurred_at="funded_at",
            seq=pl.lit(3),
        ),
        loans.filter(pl.col("disbursed_at").is_not_null()).select(
            "loan_id",
            event=pl.lit("issue"),
            from_status=pl.lit("funded"),
            to_status=pl.lit("current"),
            **system,
            occurred_at="disbursed_at",
            seq=pl.lit(4),
        ),
        *(
            loans.filter(pl.col("missed_due").is_not_null() & (pl.col("days_past_due") >= first_day)).select(
                "loan_id",
                event=pl.lit("become_delinquent"),
                from_status=pl.lit(source),
                to_status=pl.lit(target),
                **system,
                occurred_at=_ts(pl.col("missed_due") + pl.duration(days=first_day), 5 * 3600),
                seq=pl.lit(4 + i),
            )
            for i, (first_day, source, target) in enumerate(
                [(1, "current", "grace"), (16, "grace", "late_16_30"), (31, "late_16_30", "late_31_120")], start=1
            )
        ),
        loans.filter(pl.col("status") == "charged_off").select(
            "loan_id",
            event=pl.lit("charge_off"),
            from_status=pl.lit("late_31_120"),
            to_status=pl.lit("charged_off"),
            **system,
            occurred_at="closed_at",
            seq=pl.lit(8),
        ),
        loans.filter(pl.col("status").is_in(["repaid", "expired", "cancelled"])).select(
            "loan_id",
            event=pl.col("status").replace_strict({"repaid": "repay", "expired": "expire", "cancelled": "cancel"}),
            from_status=pl.when(pl.col("status") == "repaid").then(pl.lit("current")).otherwise(pl.lit("listed")),
            to_status="status",
            **system,
            occurred_at="closed_at",
            seq=pl.lit(9),
        ),
    ]
    return (
        pl.concat(parts, how="vertical_relaxed")
        .sort("occurred_at", "loan_id", "seq")
        .select(
            event_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            loan_id="loan_id",
            event="event",
            from_status="from_status",
            to_status="to_status",
            actor_type="actor_type",
            actor_user_id="actor_user_id",
            actor_name=pl.when(pl.col("actor_type") == "system").then(pl.lit("clone")).otherwise(pl.lit("borrower")),
            details=pl.lit("{}"),
            occurred_at="occurred_at",
        )
    )


# ---- writing ----------------------------------------------------------------------------------------

# Parents before children (foreign keys), as the migrations declare them.
WRITE_ORDER = [
    "users",
    "investors",
    "user_profiles",
    "loans",
    "investments",
    "installments",
    "cash_transfers",
    "payments",
    "payment_distributions",
    "ledger_accounts",
    "ledger_transactions",
    "ledger_entries",
    "notifications",
    "loan_events",
    "note_charge_offs",
]


def _for_sqlite(frame: pl.DataFrame) -> pa.Table:
    """SQLite keeps what SQLAlchemy writes: timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', dates as ISO text."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime("%Y-%m-%d %H:%M:%S%.6f").alias(name))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%Y-%m-%d").alias(name))
        else:
            out.append(col)
    return frame.select(out).to_arrow()


def _for_postgres(frame: pl.DataFrame) -> pa.Table:
    return frame.with_columns(
        [pl.col(n).dt.replace_time_zone("UTC") for n, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    ).to_arrow()


def write(book: Book, url: str, log: Callable[[str], None] = lambda _: None) -> dict[str, float]:
    """Write the book into the (migrated, empty but for the platform accounts) API database at `url`."""
    from pipelines.lib.extract import adbc_uri

    dialect, uri = adbc_uri(url)
    seconds: dict[str, float] = {}
    if dialect == "sqlite":
        import adbc_driver_sqlite.dbapi as sqlite_driver

        conn: Any = sqlite_driver.connect(uri.removeprefix("file:").split("?", 1)[0], autocommit=True)
        with conn.cursor() as cur:  # a bulk load that a crash may lose: the benchmark rebuilds it then
            cur.execute("pragma synchronous = off")
            # index builds sort on disk, not in memory (at 1M loans, 68M postings: many GiB otherwise)
            cur.execute("pragma temp_store = file")
        conn.adbc_connection.set_options(**{"adbc.connection.autocommit": "false"})
        convert = _for_sqlite
    else:
        import adbc_driver_postgresql.dbapi as pg_driver

        conn = pg_driver.connect(uri)
        convert = _for_postgres
    try:
        # The migrations opened the platform's accounts (processor_cash id 1, fee and servicing income after
        # it; accounts are append-only): the clone's own platform accounts are those rows, updated in place.
        accounts = book.tables["ledger_accounts"]
        with conn.cursor() as cur:
            cur.execute("select account_id, account_type from ledger_accounts order by account_id")
            existing = [tuple(r) for r in cur.fetchall()]
        expected = [
            (int(r["account_id"]), r["account_type"])
            for r in accounts.filter(pl.col("owner_id") == 0).sort("account_id").iter_rows(named=True)
            if r["account_type"] in PLATFORM_ACCOUNTS
        ]
        if existing != expected[: len(existing)]:
            raise RuntimeError(f"expected only the migrations' platform accounts {expected}, found {existing}")
        migrated = {account_id for account_id, _ in existing}
        indexes: list[str] = []
        if dialect == "sqlite":
            # Maintaining secondary indexes row by row costs more than building them once at the end.
            with conn.cursor() as cur:
                cur.execute(
                    "select name, sql from sqlite_master where type = 'index' and sql is not null "
                    "and tbl_name in (" + ", ".join(f"'{t}'" for t in WRITE_ORDER) + ")"
                )
                found = cur.fetchall()
                for index_name, sql in found:
                    cur.execute(f'drop index "{index_name}"')
                    indexes.append(sql)
            conn.adbc_connection.commit()
        for name in WRITE_ORDER:
            started = time.perf_counter()
            frame = book.tables[name]
            if name == "ledger_accounts":
                # The migrations' platform rows get the clone's balances AND updated_at: they were stamped
                # with the wall clock (CURRENT_TIMESTAMP), which would put the extract's updated_at watermark
                # ahead of the book's whole timeline and hide every later change from incremental runs.
                for row in frame.filter(pl.col("account_id").is_in(list(migrated))).iter_rows(named=True):
                    with conn.cursor() as cur:
                        cur.execute(
                            f"update ledger_accounts set balance_cents = {int(row['balance_cents'])}, "
                            f"updated_at = '{row['updated_at'].strftime('%Y-%m-%d %H:%M:%S.%f')}' "
                            f"where account_id = {int(row['account_id'])}"
                        )
                frame = frame.filter(~pl.col("account_id").is_in(list(migrated)))
            with conn.cursor() as cur:
                cur.adbc_ingest(name, convert(frame), mode="append")
            # the driver's own commit: the DB-API wrapper, opened in autocommit mode for the pragma, would skip it
            conn.adbc_connection.commit()
            seconds[name] = time.perf_counter() - started
            log(f"wrote {name}: {frame.height} rows in {seconds[name]:.1f} s")
        if indexes:
            started = time.perf_counter()
            with conn.cursor() as cur:
                for sql in indexes:
                    cur.execute(sql)
            conn.adbc_connection.commit()
            seconds["indexes"] = time.perf_counter() - started
            log(f"rebuilt {len(indexes)} indexes in {seconds['indexes']:.1f} s")
        if dialect == "postgresql":
            with conn.cursor() as cur:  # the identity sequences continue after the clone's ids
                for name in WRITE_ORDER:
                    pk = book.tables[name].columns[0]
                    if name != "user_profiles":
                        cur.execute(
                            f"select setval(pg_get_serial_sequence('{name}', '{pk}'), "
                            f"(select coalesce(max({pk}), 1) from {name}))"
                        )
            conn.adbc_connection.commit()
    finally:
        conn.close()
    return seconds


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from api.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def build(url: str, spec: CloneSpec, log: Callable[[str], None] = lambda _: None) -> Book:
    """Migrate the (empty) database at `url` and write a cloned book of `spec` into it."""
    migrate(url)
    book = generate(spec, log)
    write(book, url, log)
    return book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=CloneSpec.loans)
    parser.add_argument("--seed", type=int, default=CloneSpec.seed)
    parser.add_argument("--history-months", type=int, default=CloneSpec.history_months)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an EMPTY database (SQLite file or PostgreSQL)")
    args = parser.parse_args()
    if args.url.startswith("sqlite:///") and Path(args.url.removeprefix("sqlite:///")).exists():
        parser.error("the SQLite file exists: the clone writes into an empty database")
    spec = CloneSpec(loans=args.loans, seed=args.seed, history_months=args.history_months)
    book = build(args.url, spec, log=lambda m: print(m, flush=True))
    print(book.rows())


if __name__ == "__main__":
    main()
