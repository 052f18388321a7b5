"""servicing: payments carry their waterfall (prepayment, recovery, excess, servicing fee) and a status;
distributions carry fees, recoveries and the servicing fee; late fees, servicing snapshots, note charge-offs,
servicing runs; the servicing-income, borrower-credit and investor fee-income ledger accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:00:00

`payments` changes a CHECK constraint, so on SQLite it is rebuilt by a batch copy inside SQLite's "12-step"
procedure (foreign keys off outside a transaction, the copy, `PRAGMA foreign_key_check`), as 0004 does.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
NOW = sa.text("(CURRENT_TIMESTAMP)")
OLD_SUM = "principal_cents + interest_cents + fees_cents = amount_cents"
NEW_SUM = "principal_cents + interest_cents + fees_cents + recovery_cents + excess_cents = amount_cents"


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


def _zero(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)


def upgrade() -> None:
    with _table_copies():
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.drop_constraint("ck_payments_parts_sum", type_="check")
            for name in ("prepayment_cents", "recovery_cents", "excess_cents", "servicing_fee_cents"):
                batch_op.add_column(_zero(name))
            batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="settled", nullable=False))
            batch_op.add_column(sa.Column("return_code", sa.String(length=8), nullable=True))
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.create_check_constraint("ck_payments_parts_sum", NEW_SUM)
            batch_op.create_check_constraint(
                "ck_payments_prepayment", "prepayment_cents >= 0 AND prepayment_cents <= principal_cents"
            )
            batch_op.create_check_constraint("ck_payments_status", "status IN ('settled', 'returned')")
    for name in ("fees_cents", "recovery_cents", "servicing_fee_cents"):
        op.add_column("payment_distributions", _zero(name))

    op.create_table(
        "loan_fees",
        sa.Column("fee_id", BigId, autoincrement=True, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("installment_number", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.PrimaryKeyConstraint("fee_id"),
        sa.UniqueConstraint("loan_id", "installment_number", name="uq_loan_fees_installment"),
    )
    op.create_table(
        "loan_servicing",
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("interest_cents", sa.BigInteger(), nullable=False),
        sa.Column("fees_cents", sa.BigInteger(), nullable=False),
        sa.Column("excess_cents", sa.BigInteger(), nullable=False),
        sa.Column("past_due_cents", sa.BigInteger(), nullable=False),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("next_due_cents", sa.BigInteger(), nullable=False),
        sa.Column("payoff_cents", sa.BigInteger(), nullable=False),
        sa.Column("charged_off_on", sa.Date(), nullable=True),
        sa.Column("charged_off_principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("recovered_cents", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    op.create_index("ix_loan_servicing_status", "loan_servicing", ["status"], unique=False)
    op.create_index("ix_loan_servicing_updated_at", "loan_servicing", ["updated_at"], unique=False)
    op.create_table(
        "note_charge_offs",
        sa.Column("investment_id", BigId, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("investor_id", BigId, nullable=False),
        sa.Column("principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("charged_off_on", sa.Date(), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["investment_id"], ["investments.investment_id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.investor_id"]),
        sa.PrimaryKeyConstraint("investment_id"),
    )
    op.create_index("ix_note_charge_offs_loan_id", "note_charge_offs", ["loan_id"], unique=False)
    op.create_index("ix_note_charge_offs_investor_id", "note_charge_offs", ["investor_id"], unique=False)
    op.create_table(
        "servicing_runs",
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("fees", sa.Integer(), nullable=False),
        sa.Column("charge_offs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_date"),
    )
    # Every loan gets its borrower-credit account, the platform its servicing-income account.
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, loan_id, balance_cents) "
        "SELECT 'loan_borrower_credit', loan_id, loan_id, 0 FROM loans WHERE NOT EXISTS (SELECT 1 FROM "
        "ledger_accounts a WHERE a.account_type = 'loan_borrower_credit' AND a.owner_id = loans.loan_id)"
    )
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, investor_id, balance_cents) "
        "SELECT 'investor_fee_income', investor_id, investor_id, 0 FROM investors WHERE NOT EXISTS (SELECT 1 FROM "
        "ledger_accounts a WHERE a.account_type = 'investor_fee_income' AND a.owner_id = investors.investor_id)"
    )
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, balance_cents) "
        "SELECT 'platform_servicing_income', 0, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_type = 'platform_servicing_income')"
    )


def downgrade() -> None:
    # Ledger accounts are append-only (revision 0003's triggers): the two new kinds stay.
    op.drop_table("servicing_runs")
    op.drop_index("ix_note_charge_offs_investor_id", table_name="note_charge_offs")
    op.drop_index("ix_note_charge_offs_loan_id", table_name="note_charge_offs")
    op.drop_table("note_charge_offs")
    op.drop_index("ix_loan_servicing_updated_at", table_name="loan_servicing")
    op.drop_index("ix_loan_servicing_status", table_name="loan_servicing")
    op.drop_table("loan_servicing")
    op.drop_table("loan_fees")
    with op.batch_alter_table("payment_distributions") as batch_op:
        for name in ("fees_cents", "recovery_cents", "servicing_fee_cents"):
            batch_op.drop_column(name)
    with _table_copies():
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.drop_constraint("ck_payments_parts_sum", type_="check")
            batch_op.drop_constraint("ck_payments_prepayment", type_="check")
            batch_op.drop_constraint("ck_payments_status", type_="check")
            for name in ("prepayment_cents", "recovery_cents", "excess_cents", "servicing_fee_cents"):
                batch_op.drop_column(name)
            batch_op.drop_column("status")
            batch_op.drop_column("return_code")
        with op.batch_alter_table("payments", recreate="auto") as batch_op:
            batch_op.create_check_constraint("ck_payments_parts_sum", OLD_SUM)
