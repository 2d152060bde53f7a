"""security: two-factor sign-in and recovery codes, revocable sessions with their own CSRF token, password
changes and deactivation, the personal-data access log, confidential categories, and anonymisation marks

Revision ID: 3e8b6d2f9a41
Revises: 7a2c4e9b1d38
Create Date: 2026-12-07 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "3e8b6d2f9a41"
down_revision: str | None = "7a2c4e9b1d38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_recovery_codes_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_user_id"), "staff_recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_personal_data_access_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_personal_data_access_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_access")),
    )
    op.create_index(op.f("ix_personal_data_access_at"), "personal_data_access", ["at"], unique=False)
    op.create_index("ix_personal_data_access_case_at", "personal_data_access", ["case_id", "at"], unique=False)
    op.create_index("ix_personal_data_access_staff_at", "personal_data_access", ["staff_id", "at"], unique=False)
    op.add_column("applicants", sa.Column("anonymised_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column("cases", sa.Column("anonymised_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column("categories", sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false()))
    # The source's "reports and security information": seen only by the audit desk and the official.
    op.execute("UPDATE categories SET confidential = true WHERE code = 'security'")
    op.create_index(
        "ix_login_attempts_username_address_at", "login_attempts", ["username", "address", "at"], unique=False
    )
    # Sessions from before carry no CSRF token of their own and no second factor: everyone signs in again.
    op.execute("DELETE FROM staff_sessions")
    op.add_column("staff_sessions", sa.Column("last_seen_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column("staff_sessions", sa.Column("csrf_token", sa.String(length=64), nullable=False, server_default=""))
    op.add_column("staff_sessions", sa.Column("verified_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column("staff_sessions", sa.Column("address", sa.String(length=64), nullable=False, server_default=""))
    op.add_column("staff_sessions", sa.Column("user_agent", sa.String(length=200), nullable=False, server_default=""))
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"], unique=False)
    op.add_column("staff_users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("staff_users", sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
    op.add_column("staff_users", sa.Column("totp_enabled_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column("staff_users", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.add_column("staff_users", sa.Column("password_changed_at", majlis.db.UTCDateTime(), nullable=True))
    op.add_column(
        "staff_users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("staff_users", sa.Column("deactivated_at", majlis.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        for column in (
            "deactivated_at",
            "must_change_password",
            "password_changed_at",
            "totp_last_step",
            "totp_enabled_at",
            "totp_pending_secret",
            "totp_secret",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    with op.batch_alter_table("staff_sessions") as batch:
        for column in ("user_agent", "address", "verified_at", "csrf_token", "last_seen_at"):
            batch.drop_column(column)
    op.drop_index("ix_login_attempts_username_address_at", table_name="login_attempts")
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("confidential")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("anonymised_at")
    with op.batch_alter_table("applicants") as batch:
        batch.drop_column("anonymised_at")
    op.drop_index("ix_personal_data_access_staff_at", table_name="personal_data_access")
    op.drop_index("ix_personal_data_access_case_at", table_name="personal_data_access")
    op.drop_index(op.f("ix_personal_data_access_at"), table_name="personal_data_access")
    op.drop_table("personal_data_access")
    op.drop_index(op.f("ix_staff_recovery_codes_user_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
