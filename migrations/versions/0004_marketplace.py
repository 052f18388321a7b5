"""the marketplace: loan lifecycle with events (active -> current), pricing columns, listing windows,
marketplace indexes, credit pulls with consent, note states, auto-invest rules and the allocation log,
portfolio plans, the notification outbox, webhook subscriptions, the worker's schedule, fee revenue account

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10 09:00:00

SQLite cannot change a CHECK constraint in place, so `loans` (no triggers, no expression indexes) and
`investments` are rebuilt by batch copies; every other table only gains columns or is new. Tables with
triggers or expression indexes (users, audit_log, the ledger) are not copied.

A batch copy drops the old table, and with foreign keys enforced SQLite refuses to drop a table that other
rows reference (a populated database: every loan has ledger accounts). So on SQLite the copies run inside
SQLite's own "12-step" procedure (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off
(which only takes effect outside a transaction), the copies in one transaction, `PRAGMA foreign_key_check`
before going on. The connection is the migration's own and is disposed when the migration run ends.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
NOW = sa.text("(CURRENT_TIMESTAMP)")
NEW_STATUSES = (
    "requested",
    "listed",
    "funded",
    "current",
    "grace",
    "late_16_30",
    "late_31_120",
    "charged_off",
    "repaid",
    "expired",
    "cancelled",
)
OLD_STATUSES = ("listed", "funded", "active", "repaid", "expired", "cancelled", "late", "charged_off")
LISTING_DAYS = 14  # the default listing window; loans listed before this revision get it
MARKET_INDEXES = {
    "ix_loans_status_id": ["status", "loan_id"],
    "ix_loans_status_grade": ["status", "grade", "loan_id"],
    "ix_loans_status_rate": ["status", "interest_rate_bps", "loan_id"],
    "ix_loans_status_amount": ["status", "amount_cents", "loan_id"],
    "ix_loans_status_funded": ["status", "funded_bps", "loan_id"],
    "ix_loans_status_expiry": ["status", "listing_expires_at", "loan_id"],
}


def _in(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


@contextmanager
def _table_copies() -> Iterator[None]:
    if not _sqlite():
        yield
        return
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")  # ends the migration transaction: earlier revisions in this run are complete
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")  # committed by Alembic with the rest of this revision
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the table copies left dangling foreign keys: {broken[:5]}")


def upgrade() -> None:
    with _table_copies():
        _loans()
        _investments()
    _loan_events()
    _credit_pulls()
    _auto_invest()
    _plans()
    _notifications()
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, balance_cents) "
        "SELECT 'platform_fee_income', 0, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_type = 'platform_fee_income')"
    )


def _loans() -> None:
    new_columns = [
        sa.Column("requested_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("funded_bps", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rate_card_version", sa.String(length=32), nullable=True),
        sa.Column("origination_fee_bps", sa.Integer(), server_default="0", nullable=False),
        sa.Column("origination_fee_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("apr_bps", sa.Integer(), nullable=True),
        sa.Column("expected_loss_cents", sa.BigInteger(), nullable=True),
        sa.Column("listed_at", TS, nullable=True),
        sa.Column("listing_expires_at", TS, nullable=True),
        sa.Column("accepts_partial_funding", sa.Boolean(), server_default=sa.false(), nullable=False),
    ]
    with op.batch_alter_table("loans", recreate="auto") as batch_op:
        batch_op.drop_constraint("ck_loans_status", type_="check")
        for column in new_columns:
            batch_op.add_column(column)
    op.execute("UPDATE loans SET status = 'current' WHERE status = 'active'")
    # No code ever set the old catch-all `late`; should a row carry it, the first late bucket is the closest.
    op.execute("UPDATE loans SET status = 'late_16_30' WHERE status = 'late'")
    expires = (
        f"datetime(created_at, '+{LISTING_DAYS} days')" if _sqlite() else f"created_at + interval '{LISTING_DAYS} days'"
    )
    # Loans before the rate card paid no fee, so their APR is their note rate; expected loss = amount x PD x 90 %.
    op.execute(
        "UPDATE loans SET requested_amount_cents = amount_cents, "
        "funded_bps = funded_amount_cents * 10000 / amount_cents, "
        "apr_bps = interest_rate_bps, "
        "expected_loss_cents = (amount_cents * probability_of_default_ppm * 9 + 5000000) / 10000000, "
        f"listed_at = created_at, listing_expires_at = {expires}"
    )
    with op.batch_alter_table("loans", recreate="auto") as batch_op:
        batch_op.alter_column("requested_amount_cents", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("apr_bps", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("expected_loss_cents", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_check_constraint("ck_loans_status", _in(NEW_STATUSES))
        batch_op.create_check_constraint(
            "ck_loans_funded_bps", "funded_bps = funded_amount_cents * 10000 / amount_cents"
        )
        batch_op.create_check_constraint(
            "ck_loans_fee_range", "origination_fee_cents >= 0 AND origination_fee_cents < amount_cents"
        )
        batch_op.drop_index("ix_loans_status")
        for name, columns in MARKET_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def _investments() -> None:
    with op.batch_alter_table("investments", recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="committed", nullable=False))
        batch_op.add_column(sa.Column("source", sa.String(length=8), server_default="manual", nullable=False))
        batch_op.add_column(sa.Column("ended_at", TS, nullable=True))
    op.execute(
        "UPDATE investments SET status = 'issued' WHERE loan_id IN (SELECT loan_id FROM loans WHERE "
        + _in(("current", "grace", "late_16_30", "late_31_120", "charged_off", "repaid"))
        + ")"
    )
    op.execute(
        "UPDATE investments SET status = 'released', "
        "ended_at = (SELECT closed_at FROM loans WHERE loans.loan_id = investments.loan_id) "
        "WHERE loan_id IN (SELECT loan_id FROM loans WHERE " + _in(("expired", "cancelled")) + ")"
    )
    with op.batch_alter_table("investments", recreate="auto") as batch_op:
        batch_op.create_check_constraint(
            "ck_investments_status", "status IN ('committed', 'issued', 'cancelled', 'released')"
        )
        batch_op.create_check_constraint("ck_investments_source", "source IN ('manual', 'auto', 'plan')")
        batch_op.create_index("ix_investments_loan_investor", ["loan_id", "investor_id"], unique=False)


def _loan_events() -> None:
    op.create_table(
        "loan_events",
        sa.Column("event_id", BigId, autoincrement=True, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", BigId, nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_loan_events_loan", "loan_events", ["loan_id", "event_id"], unique=False)
    op.create_index("ix_loan_events_at", "loan_events", ["occurred_at"], unique=False)
    # The history of loans made before this revision, rebuilt from their timestamps (who approved a listing
    # or closed a loan was not recorded: those rows name the backfill as the actor).
    insert = (
        "INSERT INTO loan_events (loan_id, event, from_status, to_status, actor_type, actor_user_id, actor_name, "
        "details, occurred_at) "
    )
    backfill = '\'{"backfilled_by": "0004"}\''
    op.execute(
        insert + f"SELECT loan_id, 'request', NULL, 'requested', 'borrower', borrower_id, 'backfill', {backfill}, "
        "created_at FROM loans"
    )
    op.execute(
        insert + f"SELECT loan_id, 'list', 'requested', 'listed', 'system', NULL, 'backfill', {backfill}, created_at "
        "FROM loans"
    )
    op.execute(
        insert + f"SELECT loan_id, 'fund', 'listed', 'funded', 'system', NULL, 'backfill', {backfill}, funded_at "
        "FROM loans WHERE funded_at IS NOT NULL"
    )
    op.execute(
        insert + f"SELECT loan_id, 'issue', 'funded', 'current', 'system', NULL, 'backfill', {backfill}, "
        "disbursed_at FROM loans WHERE disbursed_at IS NOT NULL"
    )
    for event, source, target in (
        ("repay", "current", "repaid"),
        ("charge_off", "current", "charged_off"),
        ("expire", "listed", "expired"),
        ("cancel", "listed", "cancelled"),
    ):
        op.execute(
            insert + f"SELECT loan_id, '{event}', '{source}', '{target}', 'system', NULL, 'backfill', {backfill}, "
            f"COALESCE(closed_at, updated_at) FROM loans WHERE status = '{target}'"
        )
    op.execute(
        insert + f"SELECT loan_id, 'become_delinquent', 'current', status, 'system', NULL, 'backfill', {backfill}, "
        "updated_at FROM loans WHERE " + _in(("grace", "late_16_30", "late_31_120"))
    )
    _append_only("loan_events")


def _append_only(table: str) -> None:
    if _sqlite():
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        # ledger_refuse_change() (revision 0003) raises '<table> is append-only'.
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )


def _credit_pulls() -> None:
    op.create_table(
        "credit_pulls",
        sa.Column("pull_id", BigId, autoincrement=True, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("bureau", sa.String(length=32), nullable=False),
        sa.Column("inquiry", sa.String(length=8), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("bureau_file", sa.Text(), nullable=False),
        sa.Column("utilization_band", sa.String(length=16), nullable=False),
        sa.Column("inquiries_6m_band", sa.String(length=16), nullable=False),
        sa.Column("delinquencies_2y_band", sa.String(length=16), nullable=False),
        sa.Column("consent_given_at", TS, nullable=False),
        sa.Column("consent_version", sa.String(length=32), nullable=False),
        sa.Column("consent_ip", sa.String(length=45), nullable=True),
        sa.Column("consent_user_agent", sa.String(length=200), nullable=True),
        sa.Column("pulled_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("pull_id"),
        sa.UniqueConstraint("loan_id"),
    )
    op.create_index("ix_credit_pulls_user_id", "credit_pulls", ["user_id"], unique=False)


def _auto_invest() -> None:
    mix = [sa.Column(f"mix_{g}_bps", sa.Integer(), nullable=True) for g in "abcdefg"]
    op.create_table(
        "auto_invest_rules",
        sa.Column("rule_id", BigId, autoincrement=True, nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("grade_mask", sa.Integer(), nullable=False),
        sa.Column("term_mask", sa.Integer(), nullable=False),
        sa.Column("min_pd_ppm", sa.Integer(), nullable=True),
        sa.Column("max_pd_ppm", sa.Integer(), nullable=True),
        sa.Column("min_rate_bps", sa.Integer(), nullable=True),
        sa.Column("max_rate_bps", sa.Integer(), nullable=True),
        sa.Column("any_purpose", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("note_cents", sa.BigInteger(), nullable=False),
        sa.Column("max_per_loan_cents", sa.BigInteger(), nullable=False),
        sa.Column("cash_reserve_cents", sa.BigInteger(), server_default="0", nullable=False),
        *mix,
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("superseded_at", TS, nullable=True),
        sa.CheckConstraint("note_cents > 0 AND note_cents <= max_per_loan_cents", name="ck_auto_invest_rules_note"),
        sa.CheckConstraint("cash_reserve_cents >= 0", name="ck_auto_invest_rules_reserve"),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.PrimaryKeyConstraint("rule_id"),
        sa.UniqueConstraint("investor_id", "version", name="uq_auto_invest_rules_version"),
    )
    op.create_index(
        "uq_auto_invest_rules_current",
        "auto_invest_rules",
        ["investor_id"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )
    op.create_table(
        "auto_invest_rule_purposes",
        sa.Column("rule_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["auto_invest_rules.rule_id"]),
        sa.PrimaryKeyConstraint("rule_id", "purpose"),
    )
    op.create_table(
        "allocation_runs",
        sa.Column("run_id", BigId, autoincrement=True, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", BigId, nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "allocation_claims",
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.run_id"]),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    op.create_index("ix_allocation_claims_run_id", "allocation_claims", ["run_id"], unique=False)
    op.create_table(
        "allocation_listings",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("grade_bit", sa.Integer(), nullable=False),
        sa.Column("term_bit", sa.Integer(), nullable=False),
        sa.Column("probability_of_default_ppm", sa.Integer(), nullable=False),
        sa.Column("interest_rate_bps", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=200), nullable=False),
        sa.Column("capacity_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "round", "loan_id"),
    )
    headroom = [sa.Column(f"headroom_{g}_cents", sa.BigInteger(), nullable=True) for g in "abcdefg"]
    op.create_table(
        "allocation_investors",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("rule_id", BigId, nullable=False),
        sa.Column("available_cents", sa.BigInteger(), nullable=False),
        sa.Column("invested_cents", sa.BigInteger(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("priority_ppm", sa.Integer(), nullable=False),
        sa.Column("tiebreak", sa.BigInteger(), nullable=False),
        *headroom,
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.ForeignKeyConstraint(["rule_id"], ["auto_invest_rules.rule_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "round", "investor_id"),
    )
    op.create_table(
        "allocation_holdings",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("held_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "round", "loan_id", "investor_id"),
    )
    op.create_table(
        "allocations",
        sa.Column("allocation_id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("rule_id", BigId, nullable=False),
        sa.Column("investment_id", BigId, nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("queue_position", sa.Integer(), nullable=False),
        sa.Column("priority_ppm", sa.Integer(), nullable=False),
        sa.Column("tiebreak", sa.BigInteger(), nullable=False),
        sa.Column("filled_after_cents", sa.BigInteger(), nullable=False),
        sa.Column("capacity_cents", sa.BigInteger(), nullable=False),
        sa.Column("budget_spent_cents", sa.BigInteger(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["investment_id"], ["investments.investment_id"]),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["rule_id"], ["auto_invest_rules.rule_id"]),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.run_id"]),
        sa.PrimaryKeyConstraint("allocation_id"),
        sa.UniqueConstraint("run_id", "round", "loan_id", "investor_id", name="uq_allocations_pair"),
    )
    op.create_index("ix_allocations_run", "allocations", ["run_id", "loan_id"], unique=False)


def _plans() -> None:
    op.create_table(
        "portfolio_plans",
        sa.Column("plan_id", BigId, autoincrement=True, nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("risk_preference", sa.String(length=16), nullable=False),
        sa.Column("min_loans", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected_return_bps", sa.Integer(), nullable=False),
        sa.Column("expected_loss_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("placed_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'placed')", name="ck_portfolio_plans_status"),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    op.create_index("ix_portfolio_plans_investor_id", "portfolio_plans", ["investor_id"], unique=False)
    op.create_table(
        "portfolio_plan_notes",
        sa.Column("plan_id", BigId, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("interest_rate_bps", sa.Integer(), nullable=False),
        sa.Column("probability_of_default_ppm", sa.Integer(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("investment_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["investment_id"], ["investments.investment_id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["portfolio_plans.plan_id"]),
        sa.PrimaryKeyConstraint("plan_id", "loan_id"),
    )


def _notifications() -> None:
    op.add_column("notifications", sa.Column("dedupe_key", sa.String(length=120), nullable=True))
    op.create_index("uq_notifications_dedupe_key", "notifications", ["dedupe_key"], unique=True)
    op.create_table(
        "webhook_subscriptions",
        sa.Column("subscription_id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("events", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("subscription_id"),
    )
    op.create_index("ix_webhook_subscriptions_user_id", "webhook_subscriptions", ["user_id"], unique=False)
    op.create_table(
        "outbox_messages",
        sa.Column("message_id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("loan_id", BigId, nullable=True),
        sa.Column("subscription_id", BigId, nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name="ck_outbox_messages_channel"),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead')", name="ck_outbox_messages_state"),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.subscription_id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("message_id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_run_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("last_started_at", TS, nullable=True),
        sa.Column("last_finished_at", TS, nullable=True),
        sa.Column("last_outcome", sa.String(length=300), nullable=True),
        sa.Column("runs", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    with _table_copies():
        _downgrade()


def _downgrade() -> None:
    for table in (
        "scheduled_jobs",
        "outbox_messages",
        "webhook_subscriptions",
        "portfolio_plan_notes",
        "portfolio_plans",
        "allocations",
        "allocation_holdings",
        "allocation_investors",
        "allocation_listings",
        "allocation_claims",
        "allocation_runs",
        "auto_invest_rule_purposes",
        "auto_invest_rules",
        "credit_pulls",
    ):
        op.drop_table(table)
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS loan_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS loan_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS loan_events_append_only ON loan_events")
    op.drop_table("loan_events")
    op.drop_index("uq_notifications_dedupe_key", table_name="notifications")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("dedupe_key")
    with op.batch_alter_table("investments", recreate="auto") as batch_op:
        batch_op.drop_index("ix_investments_loan_investor")
        batch_op.drop_constraint("ck_investments_source", type_="check")
        batch_op.drop_constraint("ck_investments_status", type_="check")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("source")
        batch_op.drop_column("status")
    with op.batch_alter_table("loans", recreate="auto") as batch_op:
        for name in MARKET_INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index("ix_loans_status", ["status"], unique=False)
        batch_op.drop_constraint("ck_loans_fee_range", type_="check")
        batch_op.drop_constraint("ck_loans_funded_bps", type_="check")
        batch_op.drop_constraint("ck_loans_status", type_="check")
    op.execute("UPDATE loans SET status = 'active' WHERE status IN ('current', 'grace')")
    op.execute("UPDATE loans SET status = 'late' WHERE status IN ('late_16_30', 'late_31_120')")
    op.execute("UPDATE loans SET status = 'cancelled' WHERE status = 'requested'")
    with op.batch_alter_table("loans", recreate="auto") as batch_op:
        for column in (
            "accepts_partial_funding",
            "listing_expires_at",
            "listed_at",
            "expected_loss_cents",
            "apr_bps",
            "origination_fee_cents",
            "origination_fee_bps",
            "rate_card_version",
            "funded_bps",
            "requested_amount_cents",
        ):
            batch_op.drop_column(column)
        batch_op.create_check_constraint("ck_loans_status", _in(OLD_STATUSES))
    # The platform_fee_income account stays: ledger accounts are append-only (revision 0003's triggers).
