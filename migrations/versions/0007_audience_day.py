"""audience day: every appointment ends (arrived, in audience, held, no-show), arrivals, in-person audiences,
kiosks, special-care tasks, branch addresses; past appointments settled

Revision ID: 4b8e2f6a9c17
Revises: 7d2b9e4f1a63
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "4b8e2f6a9c17"
down_revision: str | None = "7d2b9e4f1a63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_APPOINTMENT = ("scheduled", "confirmed", "released")
NEW_APPOINTMENT = ("scheduled", "confirmed", "arrived", "in_audience", "held", "no_show", "released")
OLD_CASE = (
    "received", "needs_information", "awaiting_audience", "scheduled", "confirmed",
    "referred", "completed", "rejected", "duplicate",
)  # fmt: skip
NEW_CASE = (*OLD_CASE, "under_study", "closed_no_show")
OLD_VIDEO_OUTCOME = ("referred", "answered", "follow_up")
NEW_VIDEO_OUTCOME = (*OLD_VIDEO_OUTCOME, "rejected", "needs_study")
OLD_LIVE = "state IN ('scheduled', 'confirmed')"
NEW_LIVE = "state IN ('scheduled', 'confirmed', 'arrived', 'in_audience')"

# table, column, check constraint's name, enum length
CASE_COLUMNS = (("cases", "status", "casestatus"), ("status_changes", "from_status", "from_status"),
                ("status_changes", "to_status", "to_status"))  # fmt: skip


def _enum(values: tuple[str, ...], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _set_values(table: str, column: str, name: str, length: int, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(name, table, f"{column} IN ({listed})")
    else:
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(
                column,
                existing_type=_enum(old, name, length),
                type_=_enum(new, name, length),
                existing_nullable=column != "from_status",
            )


def _live_indexes(where: str) -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("uq_appointments_live_seat")
        batch.drop_index("uq_appointments_live_case")
    live = sa.text(where)
    op.create_index(
        "uq_appointments_live_seat", "appointments", ["slot_id", "seat"], unique=True,
        postgresql_where=live, sqlite_where=live,
    )  # fmt: skip
    op.create_index(
        "uq_appointments_live_case", "appointments", ["case_id"], unique=True, postgresql_where=live, sqlite_where=live
    )


_appointments = sa.table(
    "appointments",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("slot_id", sa.Integer()),
    sa.column("state", sa.String()),
    sa.column("released_at", majlis.db.UTCDateTime()),
    sa.column("release_reason", sa.String()),
    sa.column("ended_at", majlis.db.UTCDateTime()),
)
_slots = sa.table("slots", sa.column("id", sa.Integer()), sa.column("session_id", sa.Integer()))
_sessions = sa.table(
    "audience_sessions", sa.column("id", sa.Integer()), sa.column("ends_at", majlis.db.UTCDateTime())
)
_video = sa.table(
    "video_audiences",
    sa.column("appointment_id", sa.Integer()),
    sa.column("outcome", sa.String()),
    sa.column("outcome_at", majlis.db.UTCDateTime()),
)
_cases = sa.table("cases", sa.column("id", sa.Integer()), sa.column("status", sa.String()))
_changes = sa.table(
    "status_changes",
    sa.column("case_id", sa.Integer()),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("at", majlis.db.UTCDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("note", sa.Text()),
    sa.column("note_key", sa.String()),
    sa.column("note_params", sa.JSON()),
)


def _settle_past_appointments() -> None:
    """Ends every appointment whose session is over (as the live rule reads it): held where the official recorded an outcome, else released,
    and its request waits again (nobody could record an arrival before this version)."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    past = bind.execute(
        sa.select(_appointments.c.id, _appointments.c.case_id, _video.c.outcome, _video.c.outcome_at)
        .join(_slots, _slots.c.id == _appointments.c.slot_id)
        .join(_sessions, _sessions.c.id == _slots.c.session_id)
        .outerjoin(_video, _video.c.appointment_id == _appointments.c.id)
        .where(_appointments.c.state.in_(("scheduled", "confirmed")), _sessions.c.ends_at <= now)
    ).all()
    for appointment_id, case_id, outcome, outcome_at in past:
        if outcome is not None:
            bind.execute(
                sa.update(_appointments)
                .where(_appointments.c.id == appointment_id)
                .values(state="held", ended_at=outcome_at or now)
            )
            continue
        bind.execute(
            sa.update(_appointments)
            .where(_appointments.c.id == appointment_id)
            .values(state="released", released_at=now, release_reason="settled_at_upgrade")
        )
        status = bind.scalar(sa.select(_cases.c.status).where(_cases.c.id == case_id))
        if status in ("scheduled", "confirmed"):
            bind.execute(sa.update(_cases).where(_cases.c.id == case_id).values(status="awaiting_audience"))
            bind.execute(
                sa.insert(_changes).values(
                    case_id=case_id,
                    from_status=status,
                    to_status="awaiting_audience",
                    at=now,
                    actor_id=None,
                    note="",
                    note_key="The audience date passed before attendance could be recorded; the request waits again.",
                    note_params={},
                )
            )


def upgrade() -> None:
    with op.batch_alter_table("appointments", recreate="auto") as batch:
        batch.add_column(sa.Column("ended_at", majlis.db.UTCDateTime(timezone=True), nullable=True))
    _set_values("appointments", "state", "appointmentstate", 16, OLD_APPOINTMENT, NEW_APPOINTMENT)
    _live_indexes(NEW_LIVE)
    for table, column, name in CASE_COLUMNS:
        _set_values(table, column, name, 32, OLD_CASE, NEW_CASE)
    _set_values("video_audiences", "outcome", "videooutcome", 16, OLD_VIDEO_OUTCOME, NEW_VIDEO_OUTCOME)
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.add_column(sa.Column("address_ar", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("address_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.alter_column("address_ar", existing_type=sa.Text(), server_default=None)
        batch.alter_column("address_en", existing_type=sa.Text(), server_default=None)

    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", majlis.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["branch_code"], ["branches.code"], name=op.f("fk_kiosks_branch_code_branches")),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"], name=op.f("fk_kiosks_created_by_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosks_token_hash")),
    )
    op.create_table(
        "arrivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("queue_number", sa.Integer(), nullable=False),
        sa.Column("arrived_at", majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("via", _enum(("kiosk", "desk", "room"), "arrivalvia", 8), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("kiosk_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_arrivals_appointment_id_appointments"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_arrivals_by_id_staff_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_arrivals_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_arrivals_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["audience_sessions.id"], name=op.f("fk_arrivals_session_id_audience_sessions"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrivals")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_arrivals_appointment_id")),
        sa.UniqueConstraint("session_id", "queue_number", name=op.f("uq_arrivals_session_id_queue_number")),
    )
    op.create_index(op.f("ix_arrivals_case_id"), "arrivals", ["case_id"], unique=False)
    op.create_index(op.f("ix_arrivals_session_id"), "arrivals", ["session_id"], unique=False)
    op.create_table(
        "hall_audiences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("called_at", majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("called_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", majlis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", _enum(("answered", "referred", "rejected", "needs_study"), "outcome", 16), nullable=True),
        sa.Column("directive", sa.Text(), nullable=False),
        sa.Column("referred_to", sa.Text(), nullable=False),
        sa.Column("outcome_at", majlis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_hall_audiences_appointment_id_appointments"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["called_by_id"], ["staff_users.id"], name=op.f("fk_hall_audiences_called_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hall_audiences_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_by_id"], ["staff_users.id"], name=op.f("fk_hall_audiences_outcome_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["audience_sessions.id"], name=op.f("fk_hall_audiences_session_id_audience_sessions"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hall_audiences")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_hall_audiences_appointment_id")),
    )
    op.create_index(op.f("ix_hall_audiences_case_id"), "hall_audiences", ["case_id"], unique=False)
    op.create_index(op.f("ix_hall_audiences_session_id"), "hall_audiences", ["session_id"], unique=False)
    op.create_table(
        "care_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", _enum(("wheelchair", "transport", "elderly", "interpreter"), "carekind", 16), nullable=False),
        sa.Column("state", _enum(("open", "done"), "taskstate", 8), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", majlis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", majlis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_care_tasks_appointment_id_appointments"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["staff_users.id"], name=op.f("fk_care_tasks_assigned_to_id_staff_users")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_care_tasks_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["done_by_id"], ["staff_users.id"], name=op.f("fk_care_tasks_done_by_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_tasks")),
        sa.UniqueConstraint("appointment_id", "kind", name=op.f("uq_care_tasks_appointment_id_kind")),
    )
    op.create_index(op.f("ix_care_tasks_appointment_id"), "care_tasks", ["appointment_id"], unique=False)
    op.create_index(op.f("ix_care_tasks_day"), "care_tasks", ["day"], unique=False)
    _settle_past_appointments()


def downgrade() -> None:
    op.drop_table("care_tasks")
    op.drop_table("hall_audiences")
    op.drop_table("arrivals")
    op.drop_table("kiosks")
    with op.batch_alter_table("branches", recreate="auto") as batch:
        batch.drop_column("address_en")
        batch.drop_column("address_ar")
    op.execute("UPDATE video_audiences SET outcome = 'follow_up' WHERE outcome IN ('rejected', 'needs_study')")
    _set_values("video_audiences", "outcome", "videooutcome", 16, NEW_VIDEO_OUTCOME, OLD_VIDEO_OUTCOME)
    for table in ("cases",):
        op.execute(f"UPDATE {table} SET status = 'completed' WHERE status IN ('under_study', 'closed_no_show')")  # noqa: S608
    op.execute("DELETE FROM status_changes WHERE to_status IN ('under_study', 'closed_no_show')")
    op.execute("UPDATE status_changes SET from_status = 'confirmed' WHERE from_status IN ('under_study', 'closed_no_show')")
    for table, column, name in CASE_COLUMNS:
        _set_values(table, column, name, 32, NEW_CASE, OLD_CASE)
    op.execute(
        "UPDATE appointments SET state = 'released', released_at = COALESCE(released_at, ended_at), "
        "release_reason = CASE WHEN release_reason = '' THEN state ELSE release_reason END "
        "WHERE state IN ('held', 'no_show')"
    )
    op.execute("UPDATE appointments SET state = 'confirmed' WHERE state IN ('arrived', 'in_audience')")
    _live_indexes(OLD_LIVE)
    _set_values("appointments", "state", "appointmentstate", 16, NEW_APPOINTMENT, OLD_APPOINTMENT)
    with op.batch_alter_table("appointments", recreate="auto") as batch:
        batch.drop_column("ended_at")
