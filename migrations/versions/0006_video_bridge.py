"""video bridge and pre-call check: room checks, recording consent, bridge and quality events

Revision ID: 7d2b9e4f1a63
Revises: 3e7a5c1d9b42
Create Date: 2026-11-24 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "7d2b9e4f1a63"
down_revision: str | None = "3e7a5c1d9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("checked_in", "started", "connected", "reconnecting", "reconnected", "ended", "outcome")
NEW_KINDS = (*OLD_KINDS, "bridged", "quality", "consent", "recording")


def _kinds(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="videoeventkind", native_enum=False, create_constraint=True, length=16)


def _set_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_video_events_videoeventkind"), "video_events", type_="check")
        listed = ", ".join(f"'{k}'" for k in new)
        op.create_check_constraint("videoeventkind", "video_events", f"kind IN ({listed})")
    else:
        with op.batch_alter_table("video_events", recreate="always") as batch:
            batch.alter_column("kind", existing_type=_kinds(old), type_=_kinds(new), existing_nullable=False)


def upgrade() -> None:
    op.create_table(
        "room_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_room_checks_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_checks_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_checks")),
    )
    op.create_index(op.f("ix_room_checks_day"), "room_checks", ["day"], unique=False)
    op.create_index(op.f("ix_room_checks_room_id"), "room_checks", ["room_id"], unique=False)
    with op.batch_alter_table("video_audiences", recreate="auto") as batch:
        batch.add_column(sa.Column("recording_consent_at", majlis.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recording_consent_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recording_path", sa.String(length=255), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_video_audiences_recording_consent_by_id_staff_users"),
            "staff_users",
            ["recording_consent_by_id"],
            ["id"],
        )
    _set_kinds(OLD_KINDS, NEW_KINDS)


def downgrade() -> None:
    added = NEW_KINDS[len(OLD_KINDS) :]
    gone = sa.text("DELETE FROM video_events WHERE kind IN :kinds").bindparams(
        sa.bindparam("kinds", added, expanding=True)
    )
    op.execute(gone)
    _set_kinds(NEW_KINDS, OLD_KINDS)
    with op.batch_alter_table("video_audiences", recreate="auto") as batch:
        batch.drop_constraint(batch.f("fk_video_audiences_recording_consent_by_id_staff_users"), type_="foreignkey")
        batch.drop_column("recording_path")
        batch.drop_column("recording_consent_by_id")
        batch.drop_column("recording_consent_at")
    op.drop_index(op.f("ix_room_checks_room_id"), table_name="room_checks")
    op.drop_index(op.f("ix_room_checks_day"), table_name="room_checks")
    op.drop_table("room_checks")
