"""fairness you can prove: the hash-chained record of every placement and change, the anchors sent out of its
head, and the read-only auditor role

Revision ID: 9e4b2c7d1a05
Revises: 5c1e8a3f7b20
Create Date: 2026-12-07 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "9e4b2c7d1a05"
down_revision: str | None = "5c1e8a3f7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "intake_desk", "call_centre", "audit_desk", "protocol", "women_section", "official", "follow_up", "manager",
    "administrator", "department_liaison", "whatsapp_desk", "emergency_agent", "mission_staff",
    "consular_supervisor",
)  # fmt: skip
NEW_ROLES = (*OLD_ROLES, "auditor")


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _roles(values: Sequence[str], old: Sequence[str]) -> None:
    # The role column is limited by a CHECK listing every role; a new role rewrites it.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_staff_users_role"), "staff_users", type_="check")
        listed = ", ".join(f"'{v}'" for v in values)
        op.create_check_constraint("role", "staff_users", f"role IN ({listed})")
    else:
        with op.batch_alter_table("staff_users", recreate="always") as batch:
            batch.alter_column(
                "role", existing_type=_enum(old, "role", 32), type_=_enum(values, "role", 32), existing_nullable=False
            )


def upgrade() -> None:
    _roles(NEW_ROLES, OLD_ROLES)
    op.create_table(
        "fairness_anchors",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_fairness_anchors")),
    )
    op.create_table(
        "fairness_chain",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            _enum(("placement", "move", "displacement", "score", "override", "merge"), "entrykind", 16),
            nullable=False,
        ),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_fairness_chain")),
        sa.UniqueConstraint("hash", name=op.f("uq_fairness_chain_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_fairness_chain_prev_hash")),
    )
    op.create_index(op.f("ix_fairness_chain_case_id"), "fairness_chain", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fairness_chain_case_id"), table_name="fairness_chain")
    op.drop_table("fairness_chain")
    op.drop_table("fairness_anchors")
    op.execute("DELETE FROM staff_users WHERE role = 'auditor'")
    _roles(OLD_ROLES, NEW_ROLES)
