"""score input bins: each scored application's model inputs as decile bins of the scoring version's training
population, so the warehouse measures every input's drift without the values leaving the API

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:40:00

A new table only: no batch copy on SQLite. Loans scored before it have no bins; monitoring measures the inputs
over the loans that have them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "score_input_bins",
        sa.Column("bin_row_id", BigId, autoincrement=True, nullable=False),
        sa.Column("loan_id", BigId, nullable=False),
        sa.Column("input_name", sa.String(length=64), nullable=False),
        sa.Column("bin_index", sa.Integer(), nullable=False),
        sa.CheckConstraint("bin_index >= 0", name="ck_score_input_bins_index"),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"]),
        sa.PrimaryKeyConstraint("bin_row_id"),
        sa.UniqueConstraint("loan_id", "input_name", name="uq_score_input_bins_input"),
    )


def downgrade() -> None:
    op.drop_table("score_input_bins")
