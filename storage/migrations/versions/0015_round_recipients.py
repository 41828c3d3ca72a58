"""Recipients a round worked out in the bot (a reminder's non-responders), in a table the
round's filler reads in chunks instead of an IN list of every id

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_recipient",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_round_recipient_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_round_recipient_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "person_id", name=op.f("pk_round_recipient")),
    )


def downgrade() -> None:
    op.drop_table("round_recipient")
