"""centres as data: branches gain a time zone, the address of their official's calendar and an active flag;
a request's branch is a foreign key to branches instead of a fixed list of two

Revision ID: 5c1e8a3f7b20
Revises: 7d3b9e2a6c14
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e8a3f7b20"
down_revision: str | None = "7d3b9e2a6c14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The two values the `branch` CHECK constraint allowed before; the downgrade puts it back.
OLD_BRANCHES = ("riyadh", "jeddah")


def _old_enum() -> sa.Enum:
    return sa.Enum(*OLD_BRANCHES, name="branch", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="Asia/Riyadh"))
        batch.add_column(sa.Column("official_calendar_url", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.alter_column("time_zone", existing_type=sa.String(length=64), server_default=None)
        batch.alter_column("official_calendar_url", existing_type=sa.Text(), server_default=None)
        batch.alter_column("active", existing_type=sa.Boolean(), server_default=None)
    # Every branch a request names must be a row before the foreign key holds. The CHECK constraint allowed only
    # the two seeded centres, but a database seeded by hand may lack one: it gets a row named by its code.
    op.execute(
        "INSERT INTO branches (code, name_ar, name_en, is_official_seat, address_ar, address_en, time_zone,"
        " official_calendar_url, active)"
        " SELECT DISTINCT branch, branch, branch, false, '', '', 'Asia/Riyadh', '', true FROM cases"
        " WHERE branch NOT IN (SELECT code FROM branches)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_cases_branch"), "cases", type_="check")
        op.alter_column("cases", "branch", existing_type=sa.String(length=32), type_=sa.String(length=16))
        op.create_foreign_key(op.f("fk_cases_branch_branches"), "cases", "branches", ["branch"], ["code"])
    else:
        with op.batch_alter_table("cases", recreate="always") as batch:
            batch.alter_column("branch", existing_type=_old_enum(), type_=sa.String(length=16), existing_nullable=False)
            batch.create_foreign_key(op.f("fk_cases_branch_branches"), "branches", ["branch"], ["code"])
    op.create_index(op.f("ix_cases_branch"), "cases", ["branch"], unique=False)
    # The duplicate check on intake looks for open requests from the same phone: without this index it read the
    # whole table on every intake, slower with every request saved (measured with bench/intake.py).
    op.create_index(op.f("ix_cases_phone"), "cases", ["phone"], unique=False)


def downgrade() -> None:
    others = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM cases WHERE branch NOT IN ('riyadh', 'jeddah')"),
    )
    if others:
        raise RuntimeError(
            f"{others} requests belong to branches added after 0015; the old schema knows only Riyadh and Jeddah"
        )
    op.drop_index(op.f("ix_cases_phone"), table_name="cases")
    op.drop_index(op.f("ix_cases_branch"), table_name="cases")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_cases_branch_branches"), "cases", type_="foreignkey")
        op.alter_column("cases", "branch", existing_type=sa.String(length=16), type_=sa.String(length=32))
        op.create_check_constraint("branch", "cases", "branch IN ('riyadh', 'jeddah')")
    else:
        with op.batch_alter_table("cases", recreate="always") as batch:
            batch.drop_constraint(op.f("fk_cases_branch_branches"), type_="foreignkey")
            batch.alter_column("branch", existing_type=sa.String(length=16), type_=_old_enum(), existing_nullable=False)
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.drop_column("active")
        batch.drop_column("official_calendar_url")
        batch.drop_column("time_zone")
