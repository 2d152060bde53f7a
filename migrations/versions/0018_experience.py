"""experience: a request's name as search compares it (cases.name_key), rooms' English names, and the one-time codes
that show an applicant every request of their phone

Revision ID: 5c2e8a4f7b13
Revises: 3d7f1b9c2e64
Create Date: 2026-12-07 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db
from cases.names import search_key

revision: str = "5c2e8a4f7b13"
down_revision: str | None = "3d7f1b9c2e64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=False, server_default=""))
        batch.create_index("ix_cases_name_key", ["name_key"])
    # The keys of the requests already made, folded by the same function the model uses from now on.
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("applicant_name", sa.String), sa.column("name_key"))
    connection = op.get_bind()
    rows = connection.execute(sa.select(cases.c.id, cases.c.applicant_name)).all()
    for case_id, name in rows:
        connection.execute(sa.update(cases).where(cases.c.id == case_id).values(name_key=search_key(name or "")))

    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("name_en", sa.String(length=120), nullable=False, server_default=""))

    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", majlis.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_codes")),
    )
    op.create_index(op.f("ix_phone_codes_phone"), "phone_codes", ["phone"])


def downgrade() -> None:
    op.drop_index(op.f("ix_phone_codes_phone"), table_name="phone_codes")
    op.drop_table("phone_codes")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("name_en")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_name_key")
        batch.drop_column("name_key")
