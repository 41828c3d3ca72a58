"""Rounds written in chunks (the fill still under way) and a closed poll's counts per group
kept at closing

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_fill",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name="fk_round_fill_round_id_round", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_round_fill")),
    )
    op.create_table(
        "kept_groups",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name="fk_kept_groups_poll_id_poll", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "kind", name=op.f("pk_kept_groups")),
    )


def downgrade() -> None:
    op.drop_table("kept_groups")
    op.drop_table("round_fill")
