"""Close the loop and find members: per poll whether families get a summary of the results
at closing (and the council's own line for it) and whether it ends with an invitation to join
the council; rounds without a poll (an invitation sent on its own, for a council); a council's
own text for those who want to know more; candidates (a family that asked to hear about
joining: how to reach them, never linked to an answer)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("share_results", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("results_note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("recruit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recruit_text", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=True)
        )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.alter_column("poll_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("council_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_round_council_id_council", "council", ["council_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("invited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council.id"],
            name="fk_candidate_council_id_council",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_candidate_person_id_person", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_candidate"),
    )
    op.create_index("ix_candidate_council_id", "candidate", ["council_id"], unique=False)
    op.create_index("ix_candidate_person_id", "candidate", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_candidate_person_id", table_name="candidate")
    op.drop_index("ix_candidate_council_id", table_name="candidate")
    op.drop_table("candidate")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_constraint("fk_round_council_id_council", type_="foreignkey")
        batch_op.drop_column("council_id")
        batch_op.alter_column("poll_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.drop_column("recruit_text")
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_column("recruit")
        batch_op.drop_column("results_note")
        batch_op.drop_column("share_results")
