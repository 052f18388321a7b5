"""processor: the outbox of transfers through the payment processor and the webhook events it sent; the
sandbox processor's own books; the in-transit and investor pending-cash ledger accounts; payments link their
processor debit and can be superseded (re-applied after an earlier payment's return)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:10:00

`payments` changes a CHECK constraint, so on SQLite it is rebuilt by a batch copy inside SQLite's "12-step"
procedure, as 0005 does. The never-overdrawn CHECK on `ledger_accounts` gains pending cash: on PostgreSQL the
constraint is replaced; on SQLite a batch copy would drop the ledger's append-only triggers (revision 0003), so
a trigger refuses the overdraft instead. History from before this revision settled at once and keeps no
processor transfer; reconciliation counts it from its own records.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
NOW = sa.text("(CURRENT_TIMESTAMP)")
OLD_NEVER_OVERDRAWN = "account_type NOT IN ('investor_cash', 'investor_commitments') OR balance_cents <= 0"
NEW_NEVER_OVERDRAWN = (
    "account_type NOT IN ('investor_cash', 'investor_commitments', 'investor_pending_cash') OR balance_cents <= 0"
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


@contextmanager
def _table_copies() -> Iterator[None]:
    if not _sqlite():
        yield
        return
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the table copies left dangling foreign keys: {broken[:5]}")


def upgrade() -> None:
    op.create_table(
        "processor_transfers",
        sa.Column("transfer_ref_id", BigId, autoincrement=True, nullable=False),
        sa.Column("client_reference", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("investor_id", BigId, nullable=True),
        sa.Column("loan_id", BigId, nullable=True),
        sa.Column("cash_transfer_id", BigId, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("processor_reference", sa.String(length=64), nullable=True),
        sa.Column("return_code", sa.String(length=8), nullable=True),
        sa.Column("exception", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_processor_transfers_amount_positive"),
        sa.CheckConstraint(
            "kind IN ('deposit', 'withdrawal', 'disbursement', 'repayment', 'refund')",
            name="ck_processor_transfers_kind",
        ),
        sa.CheckConstraint("direction IN ('collect', 'payout')", name="ck_processor_transfers_direction"),
        sa.CheckConstraint(
            "status IN ('queued', 'submitted', 'settled', 'returned')", name="ck_processor_transfers_status"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["cash_transfer_id"], ["cash_transfers.transfer_id"]),
        sa.PrimaryKeyConstraint("transfer_ref_id"),
        sa.UniqueConstraint("client_reference"),
        sa.UniqueConstraint("processor_reference"),
    )
    op.create_index("ix_processor_transfers_status", "processor_transfers", ["status"], unique=False)
    op.create_index("ix_processor_transfers_loan_id", "processor_transfers", ["loan_id"], unique=False)
    op.create_index("ix_processor_transfers_investor_id", "processor_transfers", ["investor_id"], unique=False)
    op.create_index("ix_processor_transfers_updated_at", "processor_transfers", ["updated_at"], unique=False)
    op.create_table(
        "processor_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("processor_reference", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("received_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "sandbox_transfers",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("settles_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("return_code", sa.String(length=8), nullable=True),
        sa.Column("returns_on", sa.Date(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("reference"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_sandbox_transfers_status", "sandbox_transfers", ["status"], unique=False)
    op.create_table(
        "sandbox_events",
        sa.Column("sequence", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("sequence"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_sandbox_events_delivered_at", "sandbox_events", ["delivered_at"], unique=False)

    with _table_copies():
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.drop_constraint("ck_payments_status", type_="check")
            batch_op.add_column(sa.Column("transfer_ref_id", BigId, nullable=True))
            batch_op.create_foreign_key(
                "fk_payments_transfer_ref_id_processor_transfers",
                "processor_transfers",
                ["transfer_ref_id"],
                ["transfer_ref_id"],
            )
            batch_op.create_index("ix_payments_transfer_ref_id", ["transfer_ref_id"], unique=False)
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.create_check_constraint("ck_payments_status", "status IN ('settled', 'returned', 'superseded')")

    if _sqlite():
        op.execute(
            "CREATE TRIGGER ledger_accounts_pending_never_overdrawn BEFORE UPDATE OF balance_cents ON ledger_accounts "
            "WHEN NEW.account_type = 'investor_pending_cash' AND NEW.balance_cents > 0 "
            "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_ledger_accounts_never_overdrawn'); END"
        )
    else:
        op.drop_constraint("ck_ledger_accounts_never_overdrawn", "ledger_accounts", type_="check")
        op.create_check_constraint("ck_ledger_accounts_never_overdrawn", "ledger_accounts", NEW_NEVER_OVERDRAWN)
    # Every investor gets pending cash, the platform its in-transit account.
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, investor_id, balance_cents) "
        "SELECT 'investor_pending_cash', investor_id, investor_id, 0 FROM investors WHERE NOT EXISTS (SELECT 1 FROM "
        "ledger_accounts a WHERE a.account_type = 'investor_pending_cash' AND a.owner_id = investors.investor_id)"
    )
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, balance_cents) "
        "SELECT 'processor_in_transit', 0, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_type = 'processor_in_transit')"
    )


def downgrade() -> None:
    # Ledger accounts are append-only (revision 0003's triggers): the two new kinds stay.
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS ledger_accounts_pending_never_overdrawn")
    else:
        op.drop_constraint("ck_ledger_accounts_never_overdrawn", "ledger_accounts", type_="check")
        op.create_check_constraint("ck_ledger_accounts_never_overdrawn", "ledger_accounts", OLD_NEVER_OVERDRAWN)
    with _table_copies():
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.drop_constraint("ck_payments_status", type_="check")
            batch_op.drop_index("ix_payments_transfer_ref_id")
            batch_op.drop_constraint("fk_payments_transfer_ref_id_processor_transfers", type_="foreignkey")
            batch_op.drop_column("transfer_ref_id")
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.create_check_constraint("ck_payments_status", "status IN ('settled', 'returned')")
    op.drop_index("ix_sandbox_events_delivered_at", table_name="sandbox_events")
    op.drop_table("sandbox_events")
    op.drop_index("ix_sandbox_transfers_status", table_name="sandbox_transfers")
    op.drop_table("sandbox_transfers")
    op.drop_table("processor_events")
    op.drop_index("ix_processor_transfers_updated_at", table_name="processor_transfers")
    op.drop_index("ix_processor_transfers_investor_id", table_name="processor_transfers")
    op.drop_index("ix_processor_transfers_loan_id", table_name="processor_transfers")
    op.drop_index("ix_processor_transfers_status", table_name="processor_transfers")
    op.drop_table("processor_transfers")
