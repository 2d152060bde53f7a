"""scale-out: the provider's send budget shared by every dispatcher, NOTIFY payloads too long for NOTIFY,
the `majlis bridge` workers and their load, and pre-call checks' running state readable from any process

Revision ID: 7d3b9e2a6c14
Revises: 8a4d2c7e1b59
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "7d3b9e2a6c14"
down_revision: str | None = "8a4d2c7e1b59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bridge_workers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("started_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", majlis.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bridge_workers")),
    )
    op.create_index(op.f("ix_bridge_workers_heartbeat_at"), "bridge_workers", ["heartbeat_at"], unique=False)
    op.create_table(
        "pubsub_payloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pubsub_payloads")),
    )
    op.create_index(op.f("ix_pubsub_payloads_created_at"), "pubsub_payloads", ["created_at"], unique=False)
    op.create_table(
        "send_budgets",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("window_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "window_index", name=op.f("pk_send_budgets")),
    )
    op.create_table(
        "room_check_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "done",
                "failed",
                name="roomcheckrunstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("runner", sa.String(length=120), nullable=False),
        sa.Column("started_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_room_check_runs_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["room_checks.id"],
            name=op.f("fk_room_check_runs_record_id_room_checks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_check_runs_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_check_runs")),
    )
    op.create_index(op.f("ix_room_check_runs_room_id"), "room_check_runs", ["room_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_room_check_runs_room_id"), table_name="room_check_runs")
    op.drop_table("room_check_runs")
    op.drop_table("send_budgets")
    op.drop_index(op.f("ix_pubsub_payloads_created_at"), table_name="pubsub_payloads")
    op.drop_table("pubsub_payloads")
    op.drop_index(op.f("ix_bridge_workers_heartbeat_at"), table_name="bridge_workers")
    op.drop_table("bridge_workers")
