"""core at speed: balances kept on ledger accounts, append-only ledger, update watermarks,
case-insensitive names, login throttles per (account, client)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOW = sa.text("(CURRENT_TIMESTAMP)")
MUTABLE_TABLES = ("users", "loans", "installments", "notifications")
INVESTOR_KINDS = ("investor_cash", "investor_commitments", "investor_notes", "investor_interest_income")
LOAN_KINDS = ("loan_principal", "loan_interest", "loan_collections")


def _recreate() -> str:
    """SQLite cannot ADD COLUMN with a CURRENT_TIMESTAMP default: copy the table there; alter in place elsewhere."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    for table in MUTABLE_TABLES:
        with op.batch_alter_table(table, recreate=_recreate()) as batch_op:
            batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False))
            batch_op.create_index(f"ix_{table}_updated_at", ["updated_at"], unique=False)
    op.execute("UPDATE loans SET updated_at = COALESCE(closed_at, disbursed_at, funded_at, created_at)")
    op.execute("UPDATE users SET updated_at = COALESCE(email_verified_at, created_at)")
    op.execute("UPDATE notifications SET updated_at = COALESCE(read_at, created_at)")
    with op.batch_alter_table("user_profiles") as batch_op:
        batch_op.create_index("ix_user_profiles_updated_at", ["updated_at"], unique=False)

    # Lockout moved from the account to (account, client): see api/identity/tables.py LoginThrottle.
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("failed_login_count")
        batch_op.drop_column("locked_until")
    # Outside the batch: SQLite's table copy cannot carry expression indexes. A later migration that
    # rebuilds `users` on SQLite must create these two again.
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "login_throttles",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("user_id", "client"),
    )

    _balances_on_accounts()
    _ledger_append_only()


def _balances_on_accounts() -> None:
    with op.batch_alter_table("ledger_accounts", recreate=_recreate()) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("balance_cents", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False))
    op.execute("UPDATE ledger_accounts SET owner_id = COALESCE(investor_id, loan_id, 0)")
    op.execute(
        "UPDATE ledger_accounts SET balance_cents = COALESCE("
        "(SELECT SUM(e.amount_cents) FROM ledger_entries e WHERE e.account_id = ledger_accounts.account_id), 0)"
    )
    # Every owner gets all its accounts now, so posting never has to create one.
    op.execute(
        "INSERT INTO ledger_accounts (account_type, owner_id, code, balance_cents) "
        "SELECT 'processor_cash', 0, 'processor_cash', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_type = 'processor_cash')"
    )
    for kinds, table, key in ((INVESTOR_KINDS, "investors", "investor_id"), (LOAN_KINDS, "loans", "loan_id")):
        for kind in kinds:
            op.execute(
                f"INSERT INTO ledger_accounts (account_type, owner_id, {key}, code, balance_cents) "
                f"SELECT '{kind}', o.{key}, o.{key}, '{kind}:' || o.{key}, 0 FROM {table} o "
                f"WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.account_type = '{kind}' "
                f"AND a.owner_id = o.{key})"
            )
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.alter_column("owner_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("code")
        batch_op.create_unique_constraint("uq_ledger_accounts_type_owner", ["account_type", "owner_id"])
        batch_op.create_check_constraint(
            "ck_ledger_accounts_never_overdrawn",
            "account_type NOT IN ('investor_cash', 'investor_commitments') OR balance_cents <= 0",
        )
        batch_op.create_index("ix_ledger_accounts_updated_at", ["updated_at"], unique=False)


def _ledger_append_only() -> None:
    """Postings and transactions are never edited or removed; accounts never removed or renamed, and their
    balance changes only with a posting (the application's code path, proved by the balance check)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$
            """
        )
        op.execute(
            """
            CREATE FUNCTION ledger_account_identity_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.account_id <> OLD.account_id OR NEW.account_type <> OLD.account_type
                   OR NEW.owner_id <> OLD.owner_id OR NEW.investor_id IS DISTINCT FROM OLD.investor_id
                   OR NEW.loan_id IS DISTINCT FROM OLD.loan_id OR NEW.created_at <> OLD.created_at THEN
                    RAISE EXCEPTION 'a ledger account''s identity never changes; only its balance does';
                END IF;
                RETURN NEW;
            END;
            $$
            """
        )
        for table in ("ledger_entries", "ledger_transactions"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        op.execute(
            "CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER ledger_accounts_identity_fixed BEFORE UPDATE ON ledger_accounts "
            "FOR EACH ROW EXECUTE FUNCTION ledger_account_identity_fixed()"
        )
        return
    for table in ("ledger_entries", "ledger_transactions"):
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    op.execute(
        "CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts "
        "BEGIN SELECT RAISE(ABORT, 'ledger_accounts is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER ledger_accounts_identity_fixed "
        "BEFORE UPDATE OF account_id, account_type, owner_id, investor_id, loan_id, created_at ON ledger_accounts "
        "BEGIN SELECT RAISE(ABORT, 'a ledger account''s identity never changes; only its balance does'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("ledger_entries", "ledger_transactions"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS ledger_accounts_no_delete ON ledger_accounts")
        op.execute("DROP TRIGGER IF EXISTS ledger_accounts_identity_fixed ON ledger_accounts")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS ledger_account_identity_fixed()")
    else:
        for table in ("ledger_entries", "ledger_transactions"):
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        op.execute("DROP TRIGGER IF EXISTS ledger_accounts_no_delete")
        op.execute("DROP TRIGGER IF EXISTS ledger_accounts_identity_fixed")
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.drop_index("ix_ledger_accounts_updated_at")
        batch_op.drop_constraint("ck_ledger_accounts_never_overdrawn", type_="check")
        batch_op.drop_constraint("uq_ledger_accounts_type_owner", type_="unique")
        batch_op.add_column(sa.Column("code", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE ledger_accounts SET code = CASE WHEN owner_id = 0 THEN account_type "
        "ELSE account_type || ':' || owner_id END"
    )
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("ledger_accounts_code_key", ["code"])
        batch_op.drop_column("updated_at")
        batch_op.drop_column("balance_cents")
        batch_op.drop_column("owner_id")
    op.drop_table("login_throttles")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_login_count", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("user_profiles") as batch_op:
        batch_op.drop_index("ix_user_profiles_updated_at")
    for table in MUTABLE_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_updated_at")
            batch_op.drop_column("updated_at")
