"""Polls in several languages (a title, question text, option label and follow-up per
language), voice notes per question and language, the language of an open answer, the number
of help-line replies per poll, and room for six council languages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSLATED = ("poll", "question", "option", "followup")


def _translations() -> sa.Column:
    return sa.Column("translations", sa.JSON(), nullable=False, server_default="{}")


def upgrade() -> None:
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.alter_column(
            "languages",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )
    for table in TRANSLATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_translations())
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language",
                sqlmodel.sql.sqltypes.AutoString(length=2),
                nullable=False,
                server_default="nl",
            )
        )
        batch_op.add_column(
            sa.Column("help_replies", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True)
        )
    op.create_table(
        "voice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("media_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name="fk_voice_poll_id_poll", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name="fk_voice_question_id_question",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_voice"),
        sa.UniqueConstraint(
            "poll_id", "question_id", "language", name="uq_voice_poll_id_question_id_language"
        ),
    )
    op.create_index("ix_voice_poll_id", "voice", ["poll_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_voice_poll_id", table_name="voice")
    op.drop_table("voice")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_column("help_replies")
        batch_op.drop_column("language")
    for table in TRANSLATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("translations")
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.alter_column(
            "languages",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=False,
        )
