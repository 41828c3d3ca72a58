"""WhatsApp: the 24-hour window per person, the channel, message ids and receipts per delivery,
templates counted towards the daily limit, and inbound message ids seen (to handle each once)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ADDRESSES = ("person", "draft", "conversation_state")
"""Tables with an address: a WhatsApp BSUID is up to 131 characters (`CC.` and 128)."""


def upgrade() -> None:
    for table in ADDRESSES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "address",
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                type_=sqlmodel.sql.sqltypes.AutoString(length=160),
                existing_nullable=False,
            )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("window_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
        batch_op.add_column(sa.Column("receipt", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("template", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "channel",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="telegram",
            )
        )
        batch_op.create_index("ix_delivery_external_id", ["external_id"], unique=False)
        batch_op.create_index(
            "ix_delivery_status_channel_id", ["status", "channel", "id"], unique=False
        )
    op.create_table(
        "inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound"),
        sa.UniqueConstraint("channel", "message_id", name="uq_inbound_channel_message_id"),
    )
    op.create_index("ix_inbound_received_at", "inbound", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbound_received_at", table_name="inbound")
    op.drop_table("inbound")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_status_channel_id")
        batch_op.drop_index("ix_delivery_external_id")
        batch_op.drop_column("channel")
        batch_op.drop_column("template")
        batch_op.drop_column("receipt")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("window_at")
    for table in ADDRESSES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "address",
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=160),
                type_=sqlmodel.sql.sqltypes.AutoString(length=64),
                existing_nullable=False,
            )
