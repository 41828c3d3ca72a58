"""indexes that answer the tallies alone (choices, who answered, open texts)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_TEXT = "text IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_question_option")
        batch_op.create_index(
            "ix_answer_question_skipped_option_value_slot_respondent",
            ["question_id", "skipped", "option_id", "value", "slot", "respondent_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_answer_question_skipped_respondent",
            ["question_id", "skipped", "respondent_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_answer_question_text",
            ["question_id"],
            unique=False,
            sqlite_where=sa.text(HAS_TEXT),
            postgresql_where=sa.text(HAS_TEXT),
        )


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_question_text")
        batch_op.drop_index("ix_answer_question_skipped_respondent")
        batch_op.drop_index("ix_answer_question_skipped_option_value_slot_respondent")
        batch_op.create_index(
            "ix_answer_question_option", ["question_id", "option_id"], unique=False
        )
