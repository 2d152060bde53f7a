"""service quality: the desk's rating tablets, rating invitations and ratings, their daily review with a managed list
of causes, the monthly reports' mailings, and a staff member's e-mail address

Revision ID: 3d7f1b9c2e64
Revises: 9e4b2c7d1a05
Create Date: 2026-12-07 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = "3d7f1b9c2e64"
down_revision: str | None = "9e4b2c7d1a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISITS = ("intake", "check_in", "audience", "completion")

# The causes a manager starts with; the list is managed on the review pages (added to, renamed, retired).
CAUSES = (
    ("long_wait", "طول الانتظار", "Long wait", 10),
    ("staff_conduct", "تعامل الموظف", "Staff conduct", 20),
    ("unclear_information", "معلومات غير واضحة", "Unclear information", 30),
    ("outcome_disagreement", "عدم الرضا عن النتيجة", "Disagreement with the outcome", 40),
    ("facilities", "المرافق والمكان", "Facilities and premises", 50),
    ("system_fault", "عطل في النظام", "System fault", 60),
    ("other", "أخرى", "Other", 90),
)


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "desk_tablets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("paired_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["branch_code"], ["branches.code"], name=op.f("fk_desk_tablets_branch_code_branches")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_users.id"], name=op.f("fk_desk_tablets_created_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_desk_tablets_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_tablets")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_desk_tablets_staff_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_tablets_token_hash")),
    )
    op.create_table(
        "review_causes",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_review_causes")),
    )
    op.create_table(
        "rating_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("visit", _enum(VISITS, "visit", 16), nullable=False),
        sa.Column("channel", _enum(("tablet", "sms", "whatsapp"), "invitechannel", 16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("branch_code", sa.String(length=16), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("tablet_id", sa.Integer(), nullable=True),
        sa.Column("created_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", majlis.db.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", majlis.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branches.code"], name=op.f("fk_rating_invites_branch_code_branches")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_rating_invites_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_rating_invites_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_rating_invites_staff_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["tablet_id"],
            ["desk_tablets.id"],
            name=op.f("fk_rating_invites_tablet_id_desk_tablets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_invites")),
        sa.UniqueConstraint("case_id", "visit", "appointment_id", name="uq_rating_invites_visit"),
    )
    op.create_index(op.f("ix_rating_invites_case_id"), "rating_invites", ["case_id"], unique=False)
    op.create_index(op.f("ix_rating_invites_staff_id"), "rating_invites", ["staff_id"], unique=False)
    op.create_index("ix_rating_invites_tablet_pending", "rating_invites", ["tablet_id", "used_at"], unique=False)
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("visit", _enum(VISITS, "visit", 16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("branch_code", sa.String(length=16), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", majlis.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_ratings_score_is_a_face")),
        sa.ForeignKeyConstraint(["branch_code"], ["branches.code"], name=op.f("fk_ratings_branch_code_branches")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_ratings_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_ratings_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["invite_id"], ["rating_invites.id"], name=op.f("fk_ratings_invite_id_rating_invites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_ratings_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("invite_id", name=op.f("uq_ratings_invite_id")),
    )
    op.create_index(op.f("ix_ratings_case_id"), "ratings", ["case_id"], unique=False)
    op.create_index("ix_ratings_rated_at", "ratings", ["rated_at"], unique=False)
    op.create_index("ix_ratings_staff_rated_at", "ratings", ["staff_id", "rated_at"], unique=False)
    # The statistics dashboard reads requests by submission and arrivals by arrival, over any span.
    op.create_index("ix_cases_submitted_at", "cases", ["submitted_at"], unique=False)
    op.create_index("ix_arrivals_arrived_at", "arrivals", ["arrived_at"], unique=False)
    op.create_table(
        "rating_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cause_code", sa.String(length=40), nullable=True),
        sa.Column("action", _enum(("coaching", "no_fault", "process_change"), "reviewaction", 16), nullable=True),
        sa.Column("reviewed_at", majlis.db.UTCDateTime(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cause_code"], ["review_causes.code"], name=op.f("fk_rating_reviews_cause_code_review_causes")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rating_reviews_rating_id_ratings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["staff_users.id"], name=op.f("fk_rating_reviews_reviewed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_reviews")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_rating_reviews_rating_id")),
    )
    op.create_table(
        "quality_report_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", majlis.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_quality_report_mailings_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_report_mailings")),
        sa.UniqueConstraint("period", "staff_id", name=op.f("uq_quality_report_mailings_period_staff_id")),
    )
    causes = sa.table(
        "review_causes",
        sa.column("code", sa.String),
        sa.column("name_ar", sa.String),
        sa.column("name_en", sa.String),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        causes,
        [
            {"code": code, "name_ar": name_ar, "name_en": name_en, "position": position, "active": True}
            for code, name_ar, name_en, position in CAUSES
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_arrivals_arrived_at", table_name="arrivals")
    op.drop_index("ix_cases_submitted_at", table_name="cases")
    op.drop_table("quality_report_mailings")
    op.drop_table("rating_reviews")
    op.drop_index("ix_ratings_staff_rated_at", table_name="ratings")
    op.drop_index("ix_ratings_rated_at", table_name="ratings")
    op.drop_index(op.f("ix_ratings_case_id"), table_name="ratings")
    op.drop_table("ratings")
    op.drop_index("ix_rating_invites_tablet_pending", table_name="rating_invites")
    op.drop_index(op.f("ix_rating_invites_staff_id"), table_name="rating_invites")
    op.drop_index(op.f("ix_rating_invites_case_id"), table_name="rating_invites")
    op.drop_table("rating_invites")
    op.drop_table("review_causes")
    op.drop_table("desk_tablets")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("email")
