"""pending TOTP secret per session: an enrolment's secret belongs to the sign-in that asked for it, not the account,
so a password thief who opens the enrolment page never learns the secret the right user will later confirm

Revision ID: 8a4d2c7e1b59
Revises: 5c1f7a3e8d26
Create Date: 2026-12-07 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a4d2c7e1b59"
down_revision: str | None = "5c1f7a3e8d26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff_sessions", sa.Column("pending_totp_secret", sa.String(length=64), nullable=True))
    # Pending secrets shown so far are dropped, not moved: any of them may have been seen by someone else.
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_pending_secret")


def downgrade() -> None:
    op.add_column("staff_users", sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("pending_totp_secret")
