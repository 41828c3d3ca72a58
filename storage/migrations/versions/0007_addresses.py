"""a person's address is a channel and that channel's id as text, instead of a Telegram id,
so another channel (WhatsApp) can use the same tables; every existing row is Telegram's

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = sqlmodel.sql.sqltypes.AutoString(length=16)
ADDRESS = sqlmodel.sql.sqltypes.AutoString(length=64)
TABLES = ("person", "draft", "conversation_state")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("channel", CHANNEL, nullable=False, server_default="telegram")
            )
            batch_op.add_column(sa.Column("address", ADDRESS, nullable=True))
        op.execute(f"UPDATE {table} SET channel = 'telegram', address = CAST(telegram_id AS TEXT)")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("address", existing_type=ADDRESS, nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_person_telegram_id"), type_="unique")
        batch_op.drop_column("telegram_id")
        batch_op.create_unique_constraint(
            batch_op.f("uq_person_channel_address"), ["channel", "address"]
        )
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.alter_column("address", existing_type=ADDRESS, nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_draft_telegram_id_kind"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_draft_telegram_id"))
        batch_op.drop_column("telegram_id")
        batch_op.create_unique_constraint(
            batch_op.f("uq_draft_channel_address_kind"), ["channel", "address", "kind"]
        )
        batch_op.create_index(batch_op.f("ix_draft_channel_address"), ["channel", "address"])
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.alter_column("address", existing_type=ADDRESS, nullable=False)
        batch_op.drop_index(batch_op.f("ix_conversation_state_telegram_id"))
        batch_op.drop_column("telegram_id")
        batch_op.create_index(
            batch_op.f("ix_conversation_state_channel_address"), ["channel", "address"]
        )


def downgrade() -> None:
    """Back to Telegram ids: rows of other channels cannot be kept."""
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE channel <> 'telegram'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("telegram_id", sa.BigInteger(), nullable=True))
        op.execute(f"UPDATE {table} SET telegram_id = CAST(address AS BIGINT)")

    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_state_channel_address"))
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_conversation_state_telegram_id"), ["telegram_id"], unique=False
        )
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_channel_address"))
        batch_op.drop_constraint(batch_op.f("uq_draft_channel_address_kind"), type_="unique")
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_draft_telegram_id_kind"), ["telegram_id", "kind"]
        )
        batch_op.create_index(batch_op.f("ix_draft_telegram_id"), ["telegram_id"], unique=False)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_person_channel_address"), type_="unique")
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_person_telegram_id"), ["telegram_id"])
