"""A council's families by role and status from one index (`/participation` of a council of
40,000 families reads only it and the tags' primary key)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_membership_council_id_role_status_id",
        "membership",
        ["council_id", "role", "status", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_membership_council_id_role_status_id", table_name="membership")
