"""Guided flows keep their step in the person's draft (any process continues them): the
conversation states of python-telegram-bot's ConversationHandler go. A /newpoll in progress
keeps its step, which its draft held already.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_state_channel_address"))
    op.drop_table("conversation_state")


def downgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "channel",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
            server_default="telegram",
        ),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_conversation_state")),
    )
    op.create_index(
        op.f("ix_conversation_state_channel_address"),
        "conversation_state",
        ["channel", "address"],
        unique=False,
    )
