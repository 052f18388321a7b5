"""Lending: loan requests and listings, their lifecycle events, the notes investors buy in them, the credit
pulls behind them, auto-invest rules and their allocation log, and portfolio plans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column
from api.lending.lifecycle import ALL_STATUSES

STATUS_CHECK = "status IN (" + ", ".join(f"'{s}'" for s in ALL_STATUSES) + ")"
NOTE_STATUSES = ("committed", "issued", "cancelled", "released")
NOTE_SOURCES = ("manual", "auto", "plan")


class Loan(Base):
    __tablename__ = "loans"

    loan_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    # The amount lent: the amount asked for, until a partially funded listing is issued at what it raised.
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    requested_amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_rate_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    probability_of_default_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    score_model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    score_reasons: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # Running total under the loan's row lock; equals the ledger's commitments to this loan
    # (a test checks it), kept so the funding check is a single locked-row update.
    funded_amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # funded_amount_cents * 10000 / amount_cents, kept by the same statements (a CHECK proves it), so the
    # marketplace can filter and sort on the funded share through an ordinary index.
    funded_bps: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    monthly_payment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Pricing (api/lending/pricing.py): which rate card priced it; NULL only for loans made before rate cards.
    rate_card_version: Mapped[str | None] = mapped_column(String(32))
    origination_fee_bps: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    origination_fee_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    apr_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_loss_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The listing: when it went on the market, when it ends, and whether the borrower takes a partial loan.
    listed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    listing_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    accepts_partial_funding: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    funded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disbursed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_due_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_loans_amount_positive"),
        CheckConstraint(
            "funded_amount_cents >= 0 AND funded_amount_cents <= amount_cents", name="ck_loans_funded_range"
        ),
        CheckConstraint("interest_rate_bps > 0 AND interest_rate_bps <= 3600", name="ck_loans_rate_range"),
        CheckConstraint("term_months > 0", name="ck_loans_term_positive"),
        CheckConstraint(STATUS_CHECK, name="ck_loans_status"),
        CheckConstraint("funded_bps = funded_amount_cents * 10000 / amount_cents", name="ck_loans_funded_bps"),
        CheckConstraint(
            "origination_fee_cents >= 0 AND origination_fee_cents < amount_cents", name="ck_loans_fee_range"
        ),
        Index("ix_loans_interest_rate_bps", "interest_rate_bps"),
        # Marketplace search (GET /loans/list): status first, then the filtered or sorted key, then the id
        # that breaks ties and carries the keyset cursor. docs/marketplace.md shows their plans on 1M loans.
        Index("ix_loans_status_id", "status", "loan_id"),
        Index("ix_loans_status_grade", "status", "grade", "loan_id"),
        Index("ix_loans_status_rate", "status", "interest_rate_bps", "loan_id"),
        Index("ix_loans_status_amount", "status", "amount_cents", "loan_id"),
        Index("ix_loans_status_funded", "status", "funded_bps", "loan_id"),
        Index("ix_loans_status_expiry", "status", "listing_expires_at", "loan_id"),
    )


class Investment(Base):
    """A note: an investor's fractional share of one loan."""

    __tablename__ = "investments"

    investment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    # committed (cash reserved, loan not issued) -> issued (a live note) | cancelled (by the investor before
    # issuance) | released (the listing ended unfunded: cash returned).
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="committed", server_default="committed")
    source: Mapped[str] = mapped_column(String(8), nullable=False, default="manual", server_default="manual")
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_investments_amount_positive"),
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in NOTE_STATUSES) + ")", name="ck_investments_status"),
        CheckConstraint("source IN (" + ", ".join(f"'{s}'" for s in NOTE_SOURCES) + ")", name="ck_investments_source"),
        Index("ix_investments_loan_investor", "loan_id", "investor_id"),
    )


class LoanEventRow(Base):
    """One lifecycle transition (api/lending/lifecycle.py): from which status to which, by what event, when,
    and who did it. Append-only (triggers), so the warehouse can rebuild every loan's history from it."""

    __tablename__ = "loan_events"

    event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    event: Mapped[str] = mapped_column(String(24), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    # borrower | investor | admin | system; the user when a person acted, the process when the system did.
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (Index("ix_loan_events_loan", "loan_id", "event_id"), Index("ix_loan_events_at", "occurred_at"))


class CreditPull(Base):
    """The one bureau pull of a loan application, with the consent that allowed it.

    Personal data: `bureau_file` (the attributes, JSON) and `report_id` never leave this database; the
    warehouse may read only the `*_band` columns and the non-personal metadata (see docs/marketplace.md)."""

    __tablename__ = "credit_pulls"

    pull_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    bureau: Mapped[str] = mapped_column(String(32), nullable=False)
    inquiry: Mapped[str] = mapped_column(String(8), nullable=False)
    report_id: Mapped[str] = mapped_column(String(64), nullable=False)
    bureau_file: Mapped[str] = mapped_column(Text, nullable=False)
    utilization_band: Mapped[str] = mapped_column(String(16), nullable=False)
    inquiries_6m_band: Mapped[str] = mapped_column(String(16), nullable=False)
    delinquencies_2y_band: Mapped[str] = mapped_column(String(16), nullable=False)
    consent_given_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    consent_version: Mapped[str] = mapped_column(String(32), nullable=False)
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_user_agent: Mapped[str | None] = mapped_column(String(200))
    pulled_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ScoreInputBin(Base):
    """One model input of a scored application, as the decile bin of the scoring model's training population it
    fell in (``models.monitoring.input_bins``), so the warehouse measures every input's drift (PSI) without the
    values: income and the bureau's attributes stay in this database, a decile index leaves it. Written once,
    with the loan, by the version that scored it (``loans.score_model_version``)."""

    __tablename__ = "score_input_bins"

    bin_row_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    input_name: Mapped[str] = mapped_column(String(64), nullable=False)
    bin_index: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        UniqueConstraint("loan_id", "input_name", name="uq_score_input_bins_input"),
        CheckConstraint("bin_index >= 0", name="ck_score_input_bins_index"),
    )


class AutoInvestRule(Base):
    """An investor's auto-invest rule, one immutable version per PUT: the allocation log points at the exact
    version that decided each note. The investor's current rule is the one not yet superseded."""

    __tablename__ = "auto_invest_rules"

    rule_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    # Bit i set = grade models.grades.GRADES[i] wanted; bit for term t = TERMS_MONTHS.index(t).
    grade_mask: Mapped[int] = mapped_column(Integer, nullable=False)
    term_mask: Mapped[int] = mapped_column(Integer, nullable=False)
    min_pd_ppm: Mapped[int | None] = mapped_column(Integer)
    max_pd_ppm: Mapped[int | None] = mapped_column(Integer)
    min_rate_bps: Mapped[int | None] = mapped_column(Integer)
    max_rate_bps: Mapped[int | None] = mapped_column(Integer)
    any_purpose: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    note_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_per_loan_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cash_reserve_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # Target share of the portfolio per grade in basis points (NULL everywhere: no target mix).
    mix_a_bps: Mapped[int | None] = mapped_column(Integer)
    mix_b_bps: Mapped[int | None] = mapped_column(Integer)
    mix_c_bps: Mapped[int | None] = mapped_column(Integer)
    mix_d_bps: Mapped[int | None] = mapped_column(Integer)
    mix_e_bps: Mapped[int | None] = mapped_column(Integer)
    mix_f_bps: Mapped[int | None] = mapped_column(Integer)
    mix_g_bps: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("investor_id", "version", name="uq_auto_invest_rules_version"),
        Index(
            "uq_auto_invest_rules_current",
            "investor_id",
            unique=True,
            postgresql_where="superseded_at IS NULL",
            sqlite_where="superseded_at IS NULL",
        ),
        CheckConstraint("note_cents > 0 AND note_cents <= max_per_loan_cents", name="ck_auto_invest_rules_note"),
        CheckConstraint("cash_reserve_cents >= 0", name="ck_auto_invest_rules_reserve"),
    )


class AutoInvestRulePurpose(Base):
    __tablename__ = "auto_invest_rule_purposes"

    rule_id: Mapped[int] = mapped_column(ForeignKey("auto_invest_rules.rule_id"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)

    __table_args__ = (PrimaryKeyConstraint("rule_id", "purpose"),)


class AllocationRun(Base):
    """One auto-invest run: which listings it claimed, its seed (the tie-break draw) and what it placed."""

    __tablename__ = "allocation_runs"

    run_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rounds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    listings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rules: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    settings: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AllocationClaim(Base):
    """A listing is allocated by exactly one run: the primary key on the loan is the claim."""

    __tablename__ = "allocation_claims"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.run_id"), nullable=False, index=True)


class AllocationListing(Base):
    """Input of one round: a listing as the round saw it (its capacity for automated investors)."""

    __tablename__ = "allocation_listings"

    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.run_id"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    grade_bit: Mapped[int] = mapped_column(Integer, nullable=False)
    term_bit: Mapped[int] = mapped_column(Integer, nullable=False)
    probability_of_default_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    interest_rate_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose_key: Mapped[str] = mapped_column(String(200), nullable=False)
    capacity_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (PrimaryKeyConstraint("run_id", "round", "loan_id"),)


class AllocationInvestor(Base):
    """Input of one round: an investor with an enabled rule, their budget and the priority that orders them."""

    __tablename__ = "allocation_investors"

    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.run_id"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False)
    rule_id: Mapped[int] = mapped_column(ForeignKey("auto_invest_rules.rule_id"), nullable=False)
    available_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    invested_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    budget_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    priority_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    tiebreak: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # What the investor may still add per grade under their target mix (NULL: no limit for that grade).
    headroom_a_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_b_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_c_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_d_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_e_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_f_cents: Mapped[int | None] = mapped_column(BigInteger)
    headroom_g_cents: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (PrimaryKeyConstraint("run_id", "round", "investor_id"),)


class AllocationHolding(Base):
    """Input of one round: what each investor of the round already holds in each listing of the round."""

    __tablename__ = "allocation_holdings"

    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.run_id"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False)
    held_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (PrimaryKeyConstraint("run_id", "round", "loan_id", "investor_id"),)


class Allocation(Base):
    """Output: one note an auto-invest round placed, with the inputs that decided it (its place in the
    listing's queue, the priority and tie-break that put it there, what the listing and the investor's
    budget held when it was reached)."""

    __tablename__ = "allocations"

    allocation_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.run_id"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False)
    rule_id: Mapped[int] = mapped_column(ForeignKey("auto_invest_rules.rule_id"), nullable=False)
    investment_id: Mapped[int | None] = mapped_column(ForeignKey("investments.investment_id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    queue_position: Mapped[int] = mapped_column(Integer, nullable=False)
    priority_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    tiebreak: Mapped[int] = mapped_column(BigInteger, nullable=False)
    filled_after_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    capacity_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    budget_spent_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    budget_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        UniqueConstraint("run_id", "round", "loan_id", "investor_id", name="uq_allocations_pair"),
        Index("ix_allocations_run", "run_id", "loan_id"),
    )


class PortfolioPlan(Base):
    """A proposed diversified portfolio: notes across grades for an amount, placed later in one request."""

    __tablename__ = "portfolio_plans"

    plan_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    risk_preference: Mapped[str] = mapped_column(String(16), nullable=False)
    min_loans: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # proposed | placed
    expected_return_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_loss_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("status IN ('proposed', 'placed')", name="ck_portfolio_plans_status"),)


class PortfolioPlanNote(Base):
    __tablename__ = "portfolio_plan_notes"

    plan_id: Mapped[int] = mapped_column(ForeignKey("portfolio_plans.plan_id"), nullable=False)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    interest_rate_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    probability_of_default_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    investment_id: Mapped[int | None] = mapped_column(ForeignKey("investments.investment_id"))

    __table_args__ = (PrimaryKeyConstraint("plan_id", "loan_id"),)
