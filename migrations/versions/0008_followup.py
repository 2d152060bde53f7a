"""referral and follow-up: working calendars (the official's days off move into one), departments and their
contacts, service-level policies and escalation ladders, referrals and their events, information asked of
applicants, one-time codes, attachments, monthly report mailings; department liaison accounts

Revision ID: 9c3d5e7f2a41
Revises: 4b8e2f6a9c17
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence
from datetime import time

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "9c3d5e7f2a41"
down_revision: str | None = "4b8e2f6a9c17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = [
    "intake_desk", "call_centre", "audit_desk", "protocol", "women_section", "official", "follow_up",
    "manager", "administrator",
]  # fmt: skip
ROLES_WITH_LIAISON = [*ROLES, "department_liaison"]
URGENCY = ("critical", "urgent", "normal")
CONTACT_ROLES = ("head", "deputy", "liaison")
REFERRAL_STATES = ("sent", "acknowledged", "awaiting_applicant", "answered", "returned", "closed")
EVENT_KINDS = (
    "sent", "acknowledged", "information_asked", "information_given", "update", "answered", "returned",
    "reminded", "phone_call", "escalated", "extended", "closed",
)  # fmt: skip

# Sunday … Thursday, as Python counts weekdays (Monday 0).
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)
WORKING_DAY = 7 * 60  # minutes in the government's working day, 08:00–15:00


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _allow_role_values(values: list[str]) -> None:
    # The role column is limited by a CHECK that lists every role; a new role rewrites it.
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch_op.create_check_constraint("role", f"role IN ({listed})")


def _calendars() -> None:
    op.create_table(
        "working_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_ar", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_calendars")),
        sa.UniqueConstraint("code", name=op.f("uq_working_calendars_code")),
    )
    op.create_table(
        "working_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["working_calendars.id"], name=op.f("fk_working_hours_calendar_id_working_calendars"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_hours")),
    )
    op.create_index(op.f("ix_working_hours_calendar_id"), "working_hours", ["calendar_id"])
    op.create_table(
        "calendar_holidays",
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["working_calendars.id"],
            name=op.f("fk_calendar_holidays_calendar_id_working_calendars"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_calendar_holidays")),
    )


_working_calendars = sa.table(
    "working_calendars",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("name_ar", sa.String()),
    sa.column("name_en", sa.String()),
    sa.column("time_zone", sa.String()),
    sa.column("always_open", sa.Boolean()),
)
_working_hours = sa.table(
    "working_hours",
    sa.column("calendar_id", sa.Integer()),
    sa.column("weekday", sa.Integer()),
    sa.column("opens", sa.Time()),
    sa.column("closes", sa.Time()),
)
_calendar_holidays = sa.table(
    "calendar_holidays", sa.column("calendar_id", sa.Integer()), sa.column("day", sa.Date()), sa.column("name", sa.String())
)
_holidays = sa.table("holidays", sa.column("day", sa.Date()), sa.column("name", sa.String()))
_policies = sa.table(
    "sla_policies",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("category_code", sa.String()),
    sa.column("urgency", sa.String()),
    sa.column("first_response_minutes", sa.Integer()),
    sa.column("update_minutes", sa.Integer()),
    sa.column("solution_minutes", sa.Integer()),
    sa.column("round_the_clock", sa.Boolean()),
    sa.column("active", sa.Boolean()),
)
_levels = sa.table(
    "escalation_levels",
    sa.column("policy_id", sa.Integer()),
    sa.column("level", sa.Integer()),
    sa.column("percent_of_solution", sa.Integer()),
    sa.column("extra_minutes", sa.Integer()),
    sa.column("rank", sa.Integer()),
    sa.column("contact_role", sa.String()),
)


def _seed_calendars() -> None:
    """The official's audience calendar takes the holidays declared so far; the government's working week beside it."""
    bind = op.get_bind()
    bind.execute(
        sa.insert(_working_calendars),
        [
            {"id": 1, "code": "audiences", "name_ar": "أيام المجلس", "name_en": "Audience days",
             "time_zone": "Asia/Riyadh", "always_open": False},
            {"id": 2, "code": "government", "name_ar": "الدوام الحكومي", "name_en": "Government working hours",
             "time_zone": "Asia/Riyadh", "always_open": False},
        ],
    )  # fmt: skip
    hours = [
        {"calendar_id": calendar_id, "weekday": weekday, "opens": time(8), "closes": time(15)}
        for calendar_id in (1, 2)
        for weekday in SUNDAY_TO_THURSDAY
    ]
    bind.execute(sa.insert(_working_hours), hours)
    days = bind.execute(sa.select(_holidays.c.day, _holidays.c.name)).all()
    if days:
        bind.execute(
            sa.insert(_calendar_holidays), [{"calendar_id": 1, "day": day, "name": name} for day, name in days]
        )
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT setval('working_calendars_id_seq', 2)"))


def _seed_policies() -> None:
    """A default policy (answer in 2 working days, solve in 10) and one for critical cases (hours, round the clock)."""
    bind = op.get_bind()
    bind.execute(
        sa.insert(_policies),
        [
            {"id": 1, "name": "Default", "category_code": None, "urgency": None,
             "first_response_minutes": 2 * WORKING_DAY, "update_minutes": 5 * WORKING_DAY,
             "solution_minutes": 10 * WORKING_DAY, "round_the_clock": False, "active": True},
            {"id": 2, "name": "Critical", "category_code": None, "urgency": "critical",
             "first_response_minutes": 2 * 60, "update_minutes": 24 * 60, "solution_minutes": 24 * 60,
             "round_the_clock": True, "active": True},
        ],
    )  # fmt: skip
    bind.execute(
        sa.insert(_levels),
        [
            {"policy_id": 1, "level": 1, "percent_of_solution": 100, "extra_minutes": 0, "rank": 0, "contact_role": "head"},
            {"policy_id": 1, "level": 2, "percent_of_solution": 100, "extra_minutes": 2 * WORKING_DAY, "rank": 1, "contact_role": "deputy"},
            {"policy_id": 1, "level": 3, "percent_of_solution": 100, "extra_minutes": 5 * WORKING_DAY, "rank": 9, "contact_role": "head"},
            {"policy_id": 2, "level": 1, "percent_of_solution": 50, "extra_minutes": 0, "rank": 0, "contact_role": "head"},
            {"policy_id": 2, "level": 2, "percent_of_solution": 100, "extra_minutes": 0, "rank": 1, "contact_role": "head"},
            {"policy_id": 2, "level": 3, "percent_of_solution": 100, "extra_minutes": 4 * 60, "rank": 9, "contact_role": "head"},
        ],
    )  # fmt: skip
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT setval('sla_policies_id_seq', 2)"))


def upgrade() -> None:
    _calendars()
    _seed_calendars()
    op.drop_table("holidays")

    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["calendar_id"], ["working_calendars.id"], name=op.f("fk_departments_calendar_id_working_calendars")),
        sa.ForeignKeyConstraint(["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )  # fmt: skip
    op.create_index(op.f("ix_departments_parent_id"), "departments", ["parent_id"])
    op.create_table(
        "department_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum(CONTACT_ROLES, "contactrole", 16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_department_contacts_department_id_departments"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_contacts")),
    )
    op.create_index(op.f("ix_department_contacts_department_id"), "department_contacts", ["department_id"])
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=True),
        sa.Column("urgency", _enum(URGENCY, "urgency", 16), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("update_minutes", sa.Integer(), nullable=True),
        sa.Column("solution_minutes", sa.Integer(), nullable=False),
        sa.Column("round_the_clock", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("category_code", "urgency", name=op.f("uq_sla_policies_category_code_urgency")),
    )
    op.create_table(
        "escalation_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("percent_of_solution", sa.Integer(), nullable=False),
        sa.Column("extra_minutes", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("contact_role", _enum(CONTACT_ROLES, "contactrole", 16), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policies.id"], name=op.f("fk_escalation_levels_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_levels")),
        sa.UniqueConstraint("policy_id", "level", name=op.f("uq_escalation_levels_policy_id_level")),
    )
    op.create_index(op.f("ix_escalation_levels_policy_id"), "escalation_levels", ["policy_id"])
    _seed_policies()

    dt = majlis.db.UTCDateTime
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("source", _enum(("audit_desk", "audience"), "referralsource", 16), nullable=False),
        sa.Column("directive", sa.Text(), nullable=False),
        sa.Column("state", _enum(REFERRAL_STATES, "referralstate", 24), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", dt(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("first_response_due_at", dt(), nullable=False),
        sa.Column("next_update_due_at", dt(), nullable=True),
        sa.Column("solution_due_at", dt(), nullable=False),
        sa.Column("extended_minutes", sa.Integer(), nullable=False),
        sa.Column("paused_since", dt(), nullable=True),
        sa.Column("acknowledged_at", dt(), nullable=True),
        sa.Column("last_update_at", dt(), nullable=True),
        sa.Column("answered_at", dt(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("closed_at", dt(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", dt(), nullable=True),
        sa.Column("last_reminded_at", dt(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["staff_users.id"], name=op.f("fk_referrals_closed_by_id_staff_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"], name=op.f("fk_referrals_created_by_id_staff_users")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_referrals_department_id_departments")),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policies.id"], name=op.f("fk_referrals_policy_id_sla_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )  # fmt: skip
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"])
    op.create_index("ix_referrals_state_solution_due", "referrals", ["state", "solution_due_at"])
    op.create_index(op.f("ix_referrals_next_escalation_at"), "referrals", ["next_escalation_at"])
    op.create_index("ix_referrals_department_state", "referrals", ["department_id", "state"])
    op.create_index("ix_referrals_created_at", "referrals", ["created_at"])
    op.create_index("ix_referrals_answered_at", "referrals", ["answered_at"])
    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(EVENT_KINDS, "eventkind", 24), nullable=False),
        sa.Column("at", dt(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_users.id"], name=op.f("fk_referral_events_actor_id_staff_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_referral_events_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )  # fmt: skip
    op.create_index(op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"])
    op.create_index(op.f("ix_referral_events_case_id"), "referral_events", ["case_id"])
    op.create_table(
        "information_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", dt(), nullable=False),
        sa.Column("return_status", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", dt(), nullable=True),
        sa.ForeignKeyConstraint(["asked_by_id"], ["staff_users.id"], name=op.f("fk_information_requests_asked_by_id_staff_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_information_requests_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_information_requests_referral_id_referrals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_information_requests")),
    )  # fmt: skip
    op.create_index(op.f("ix_information_requests_case_id"), "information_requests", ["case_id"])
    op.create_table(
        "applicant_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", dt(), nullable=False),
        sa.Column("expires_at", dt(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", dt(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_applicant_codes_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applicant_codes")),
    )  # fmt: skip
    op.create_index(op.f("ix_applicant_codes_case_id"), "applicant_codes", ["case_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("information_request_id", sa.Integer(), nullable=True),
        sa.Column("added_by", _enum(("applicant", "department", "staff"), "attachmentowner", 16), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("added_at", dt(), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["staff_users.id"], name=op.f("fk_attachments_added_by_id_staff_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["information_request_id"], ["information_requests.id"],
            name=op.f("fk_attachments_information_request_id_information_requests"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_attachments_referral_id_referrals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachments_storage_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_attachments_case_id"), "attachments", ["case_id"])
    op.create_table(
        "report_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("sent_at", dt(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mailings")),
        sa.UniqueConstraint("period", "scope", name=op.f("uq_report_mailings_period_scope")),
    )

    _allow_role_values(ROLES_WITH_LIAISON)
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_staff_users_department_id_departments"), "departments", ["department_id"], ["id"]
        )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM staff_users WHERE role = 'department_liaison'"))
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_constraint(op.f("fk_staff_users_department_id_departments"), type_="foreignkey")
        batch_op.drop_column("department_id")
    _allow_role_values(ROLES)
    for table in (
        "report_mailings", "attachments", "applicant_codes", "information_requests", "referral_events",
        "referrals", "escalation_levels", "sla_policies", "department_contacts", "departments",
    ):  # fmt: skip
        op.drop_table(table)
    op.create_table(
        "holidays",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holidays")),
    )
    days = bind.execute(
        sa.select(_calendar_holidays.c.day, _calendar_holidays.c.name)
        .join(_working_calendars, _working_calendars.c.id == _calendar_holidays.c.calendar_id)
        .where(_working_calendars.c.code == "audiences")
    ).all()
    if days:
        bind.execute(sa.insert(_holidays), [{"day": day, "name": name} for day, name in days])
    op.drop_table("calendar_holidays")
    op.drop_table("working_hours")
    op.drop_table("working_calendars")
