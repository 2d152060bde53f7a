"""sign-in devices: login attempts remember the trusted device (OWASP device cookie) they came from, so a
trusted device's failures are counted apart from strangers'

Revision ID: 5c1f7a3e8d26
Revises: 3e8b6d2f9a41
Create Date: 2026-12-07 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1f7a3e8d26"
down_revision: str | None = "3e8b6d2f9a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("login_attempts", sa.Column("device", sa.String(length=32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("device")
