"""the emergency line for citizens abroad: missions, what each covers, duty rosters and their gaps, reports
and their events, calls to the line and callbacks owed, monthly report mailings; mission staff accounts and the
emergency roles

Revision ID: 7a2c4e9b1d38
Revises: 5d1f8a3c7e62
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "7a2c4e9b1d38"
down_revision: str | None = "5d1f8a3c7e62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "intake_desk", "call_centre", "audit_desk", "protocol", "women_section", "official", "follow_up",
    "manager", "administrator", "department_liaison", "whatsapp_desk",
)  # fmt: skip
NEW_ROLES = (*OLD_ROLES, "emergency_agent", "mission_staff", "consular_supervisor")


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _roles(values: Sequence[str], old: Sequence[str]) -> None:
    # The role column is limited by a CHECK listing every role; new roles rewrite it.
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
        "missions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "embassy",
                "consulate",
                "central_desk",
                name="missionkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("head_name", sa.String(length=200), nullable=False),
        sa.Column("head_email", sa.String(length=254), nullable=False),
        sa.Column("head_phone", sa.String(length=20), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["working_calendars.id"], name=op.f("fk_missions_calendar_id_working_calendars")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missions")),
        sa.UniqueConstraint("code", name=op.f("uq_missions_code")),
    )
    op.create_table(
        "mission_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city_key", sa.String(length=120), nullable=False),
        sa.Column("city_ar", sa.String(length=120), nullable=False),
        sa.Column("city_en", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["missions.id"], name=op.f("fk_mission_coverage_mission_id_missions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_coverage")),
        sa.UniqueConstraint("country", "city_key", name=op.f("uq_mission_coverage_country_city_key")),
    )
    with op.batch_alter_table("mission_coverage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mission_coverage_mission_id"), ["mission_id"], unique=False)

    op.create_table(
        "mission_report_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", majlis.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_mission_report_mailings_mission_id_missions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_report_mailings")),
        sa.UniqueConstraint("period", "mission_id", name=op.f("uq_mission_report_mailings_period_mission_id")),
    )
    op.create_table(
        "roster_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("flagged_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["missions.id"], name=op.f("fk_roster_gaps_mission_id_missions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_gaps")),
        sa.UniqueConstraint("mission_id", "starts_at", name=op.f("uq_roster_gaps_mission_id_starts_at")),
    )
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("officer_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_users.id"], name=op.f("fk_duty_shifts_created_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["missions.id"], name=op.f("fk_duty_shifts_mission_id_missions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    with op.batch_alter_table("duty_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_duty_shifts_mission_span", ["mission_id", "starts_at", "ends_at"], unique=False)

    op.create_table(
        "emergency_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "arrest",
                "accident",
                "lost_passport",
                "death",
                "violence",
                "disaster",
                "financial",
                "other",
                name="reporttype",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum("life_threatening", "urgent", "normal", name="severity", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("agent", "callback", name="reportsource", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("covering_mission_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "acknowledged",
                "solved",
                "handed_over",
                name="reportstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledge_due_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("solve_due_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=False),
        sa.Column("solved_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("solved_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["covering_mission_id"], ["missions.id"], name=op.f("fk_emergency_reports_covering_mission_id_missions")
        ),
        sa.ForeignKeyConstraint(["mission_id"], ["missions.id"], name=op.f("fk_emergency_reports_mission_id_missions")),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["staff_users.id"], name=op.f("fk_emergency_reports_registered_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["solved_by_id"], ["staff_users.id"], name=op.f("fk_emergency_reports_solved_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_emergency_reports_number")),
    )
    with op.batch_alter_table("emergency_reports", schema=None) as batch_op:
        batch_op.create_index("ix_emergency_reports_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_emergency_reports_mission_state", ["mission_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emergency_reports_next_escalation_at"), ["next_escalation_at"], unique=False
        )
        batch_op.create_index("ix_emergency_reports_phone", ["phone"], unique=False)

    op.create_table(
        "emergency_line_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "waiting",
                "answered",
                "missed",
                "called_back",
                name="linecallstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("arrived_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["staff_users.id"], name=op.f("fk_emergency_line_calls_handled_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["emergency_reports.id"],
            name=op.f("fk_emergency_line_calls_report_id_emergency_reports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_line_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_emergency_line_calls_call_sid")),
    )
    with op.batch_alter_table("emergency_line_calls", schema=None) as batch_op:
        batch_op.create_index("ix_emergency_line_calls_state", ["state", "arrived_at"], unique=False)

    op.create_table(
        "emergency_report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "registered",
                "alerted",
                "acknowledged",
                "update",
                "escalated",
                "reassigned",
                "solved",
                "handed_over",
                "citizen_told",
                name="reporteventkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_emergency_report_events_actor_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["emergency_reports.id"],
            name=op.f("fk_emergency_report_events_report_id_emergency_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_report_events")),
    )
    with op.batch_alter_table("emergency_report_events", schema=None) as batch_op:
        batch_op.create_index("ix_emergency_report_events_report", ["report_id", "at"], unique=False)

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mission_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_staff_users_mission_id_missions"), "missions", ["mission_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_staff_users_mission_id_missions"), type_="foreignkey")
        batch_op.drop_column("mission_id")
    for table in (
        "emergency_report_events", "emergency_line_calls", "emergency_reports", "roster_gaps",
        "mission_report_mailings", "duty_shifts", "mission_coverage", "missions",
    ):  # fmt: skip
        op.drop_table(table)
    op.execute("DELETE FROM staff_users WHERE role IN ('emergency_agent', 'mission_staff', 'consular_supervisor')")
    _roles(OLD_ROLES, NEW_ROLES)
