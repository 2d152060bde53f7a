"""the WhatsApp desk: conversations, their messages and media; identity flags and reviewed changes to an
applicant's record; requests cancelled as repeats; the fairness record takes decisions made by rule; the
whatsapp_desk role

Revision ID: 5d1f8a3c7e62
Revises: 9c3d5e7f2a41
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "5d1f8a3c7e62"
down_revision: str | None = "9c3d5e7f2a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "intake_desk", "call_centre", "audit_desk", "protocol", "women_section", "official", "follow_up",
    "manager", "administrator", "department_liaison",
)  # fmt: skip
NEW_ROLES = (*OLD_ROLES, "whatsapp_desk")
OLD_FIELDS = ("category", "urgency", "route", "queue_position", "appointment")
NEW_FIELDS = (*OLD_FIELDS, "duplicate")
OLD_REASONS = (
    "verified_evidence", "corrected_error", "new_information", "health_or_safety", "legal_deadline",
    "official_directive",
)  # fmt: skip
NEW_REASONS = (*OLD_REASONS, "repeated_request")
STEPS = (
    "idle", "menu", "name", "id_number", "gender", "kind", "branch", "subject", "text", "evidence", "confirm", "follow",
    "staff", "resume",
)  # fmt: skip
PURPOSES = ("request", "complaint", "follow", "staff")
HANDOVER_REASONS = ("asked", "unreadable", "media")
DIRECTIONS = ("inbound", "outbound")


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _set_values(table: str, column: str, name: str, length: int, values: Sequence[str], old: Sequence[str]) -> None:
    # A non-native enum is a CHECK listing its values; a new value rewrites it.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        listed = ", ".join(f"'{v}'" for v in values)
        op.create_check_constraint(name, table, f"{column} IN ({listed})")
    else:
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(
                column,
                existing_type=_enum(old, name, length),
                type_=_enum(values, name, length),
                existing_nullable=False,
            )


def upgrade() -> None:
    _set_values("staff_users", "role", "role", 32, NEW_ROLES, OLD_ROLES)
    _set_values("manual_changes", "field", "changedfield", 32, NEW_FIELDS, OLD_FIELDS)
    _set_values("manual_changes", "reason", "changereason", 32, NEW_REASONS, OLD_REASONS)
    with op.batch_alter_table("manual_changes") as batch:
        batch.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)

    op.create_table(
        "identity_flags",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("known_name", sa.String(length=200), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("flagged_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["applicants.id"], name=op.f("fk_identity_flags_applicant_id_applicants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_identity_flags_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["staff_users.id"], name=op.f("fk_identity_flags_reviewed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_identity_flags")),
    )  # fmt: skip
    op.create_index(op.f("ix_identity_flags_applicant_id"), "identity_flags", ["applicant_id"])

    op.create_table(
        "applicant_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("proposed_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["applicants.id"], name=op.f("fk_applicant_changes_applicant_id_applicants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_applicant_changes_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["staff_users.id"], name=op.f("fk_applicant_changes_decided_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["staff_users.id"], name=op.f("fk_applicant_changes_proposed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applicant_changes")),
    )  # fmt: skip
    op.create_index("ix_applicant_changes_open", "applicant_changes", ["applicant_id", "decided_at"])
    op.create_index(op.f("ix_applicant_changes_case_id"), "applicant_changes", ["case_id"])

    op.create_table(
        "duplicate_cancellations",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("original_case_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("undone_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_duplicate_cancellations_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["original_case_id"], ["cases.id"], name=op.f("fk_duplicate_cancellations_original_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["staff_users.id"], name=op.f("fk_duplicate_cancellations_undone_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_duplicate_cancellations")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_duplicate_cancellations_original_case_id"), "duplicate_cancellations", ["original_case_id"]
    )

    op.create_table(
        "whatsapp_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("step", _enum(STEPS, "step", 16), nullable=False),
        sa.Column("purpose", _enum(PURPOSES, "purpose", 16), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("started_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("last_inbound_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("last_outbound_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("needs_staff_since", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("handover_reason", _enum(HANDOVER_REASONS, "handoverreason", 16), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("blocked_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("blocked_by_id", sa.Integer(), nullable=True),
        sa.Column("block_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["staff_users.id"],
            name=op.f("fk_whatsapp_conversations_assigned_to_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["blocked_by_id"], ["staff_users.id"], name=op.f("fk_whatsapp_conversations_blocked_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_whatsapp_conversations_case_id_cases"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_conversations")),
        sa.UniqueConstraint("phone", name=op.f("uq_whatsapp_conversations_phone")),
    )  # fmt: skip
    op.create_index("ix_whatsapp_conversations_handover", "whatsapp_conversations", ["needs_staff_since"])

    op.create_table(
        "whatsapp_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("direction", _enum(DIRECTIONS, "direction", 8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("sent_as", sa.String(length=16), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_whatsapp_messages_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["whatsapp_conversations.id"],
            name=op.f("fk_whatsapp_messages_conversation_id_whatsapp_conversations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox_messages.id"], name=op.f("fk_whatsapp_messages_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_whatsapp_messages_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_messages")),
    )  # fmt: skip
    op.create_index("ix_whatsapp_messages_conversation_id", "whatsapp_messages", ["conversation_id", "id"])
    op.create_index("ix_whatsapp_messages_case_id", "whatsapp_messages", ["case_id"])
    op.create_index("ix_whatsapp_messages_conversation_at", "whatsapp_messages", ["conversation_id", "direction", "at"])

    op.create_table(
        "whatsapp_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachments.id"], name=op.f("fk_whatsapp_media_attachment_id_attachments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["whatsapp_conversations.id"],
            name=op.f("fk_whatsapp_media_conversation_id_whatsapp_conversations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["whatsapp_messages.id"], name=op.f("fk_whatsapp_media_message_id_whatsapp_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_media")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_whatsapp_media_storage_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_whatsapp_media_conversation_id"), "whatsapp_media", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("whatsapp_media")
    op.drop_table("whatsapp_messages")
    op.drop_table("whatsapp_conversations")
    op.drop_table("duplicate_cancellations")
    op.drop_table("applicant_changes")
    op.drop_table("identity_flags")
    op.execute("DELETE FROM manual_changes WHERE actor_id IS NULL OR field = 'duplicate'")
    with op.batch_alter_table("manual_changes") as batch:
        batch.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
    _set_values("manual_changes", "reason", "changereason", 32, OLD_REASONS, NEW_REASONS)
    _set_values("manual_changes", "field", "changedfield", 32, OLD_FIELDS, NEW_FIELDS)
    op.execute("DELETE FROM staff_users WHERE role = 'whatsapp_desk'")
    _set_values("staff_users", "role", "role", 32, OLD_ROLES, NEW_ROLES)
