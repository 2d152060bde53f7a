"""triage: categories, classification, fairness record, merges

Revision ID: 27847143cab7
Revises: 1e847bcf8dc2 (initial schema)
Create Date: 2026-11-24 01:13:18.102536
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = '27847143cab7'
down_revision: str | None = '1e847bcf8dc2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('implied_urgency', sa.Enum('critical', 'urgent', 'normal', name='urgency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_categories'))
    )
    op.create_table('case_addenda',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('source_case_id', sa.Integer(), nullable=False),
    sa.Column('source_tracking_number', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_addenda_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_case_id'], ['cases.id'], name=op.f('fk_case_addenda_source_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_addenda'))
    )
    with op.batch_alter_table('case_addenda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_addenda_case_id'), ['case_id'], unique=False)

    op.create_table('duplicate_merges',
    sa.Column('duplicate_case_id', sa.Integer(), nullable=False),
    sa.Column('original_case_id', sa.Integer(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=False),
    sa.Column('at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_case_id'], ['cases.id'], name=op.f('fk_duplicate_merges_duplicate_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_by_id'], ['staff_users.id'], name=op.f('fk_duplicate_merges_merged_by_id_staff_users')),
    sa.ForeignKeyConstraint(['original_case_id'], ['cases.id'], name=op.f('fk_duplicate_merges_original_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('duplicate_case_id', name=op.f('pk_duplicate_merges'))
    )
    with op.batch_alter_table('duplicate_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_merges_original_case_id'), ['original_case_id'], unique=False)

    op.create_table('manual_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('field', sa.Enum('category', 'urgency', 'route', 'queue_position', 'appointment', name='changedfield', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('before', sa.String(length=64), nullable=False),
    sa.Column('after', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Enum('verified_evidence', 'corrected_error', 'new_information', 'health_or_safety', 'legal_deadline', 'official_directive', name='changereason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_users.id'], name=op.f('fk_manual_changes_actor_id_staff_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_manual_changes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_changes'))
    )
    with op.batch_alter_table('manual_changes', schema=None) as batch_op:
        batch_op.create_index('ix_manual_changes_case_id_at', ['case_id', 'at'], unique=False)

    op.create_table('triage',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=True),
    sa.Column('urgency', sa.Enum('critical', 'urgent', 'normal', name='urgency', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('urgency_reason', sa.Text(), nullable=False),
    sa.Column('route', sa.Enum('audience_in_person', 'audience_video', 'written_referral', name='route', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('women_section', sa.Boolean(), nullable=False),
    sa.Column('verified_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('queue_adjustment', sa.Integer(), nullable=False),
    sa.Column('updated_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_triage_category_code_categories')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['staff_users.id'], name=op.f('fk_triage_verified_by_id_staff_users')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_triage'))
    )


    op.create_table('duplicate_flags',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('other_case_id', sa.Integer(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=False),
    sa.Column('flagged_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_duplicate_flags_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_case_id'], ['cases.id'], name=op.f('fk_duplicate_flags_other_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'other_case_id', name=op.f('pk_duplicate_flags'))
    )
    _seed_categories()
    _allow_role_values(ROLES_WITH_MANAGER)


# The managed list as first seeded; the audit desk's managers extend it later.
CATEGORIES = [
    ("qisas", "قضايا القصاص", "Retribution (qisas)", 30, "critical"),
    ("security", "قضية أمنية تمس الوطن", "Security matter of national concern", 30, "critical"),
    ("detention_legal", "التوقيف والقضايا الحقوقية", "Detention and legal", 20, "urgent"),
    ("humanitarian_medical", "حالة إنسانية أو علاجية", "Humanitarian or medical", 20, "urgent"),
    ("family_personal_status", "الأسرة والأحوال الشخصية", "Family and personal status", 10, "normal"),
    ("employment", "العمل والتوظيف", "Employment", 10, "normal"),
    ("housing", "الإسكان", "Housing", 10, "normal"),
    ("general", "عام", "General", 0, "normal"),
]
ROLES = ["intake_desk", "call_centre", "audit_desk", "protocol", "women_section", "official", "follow_up", "administrator"]
ROLES_WITH_MANAGER = [*ROLES[:-1], "manager", "administrator"]


def _seed_categories() -> None:
    table = sa.table(
        "categories",
        sa.column("code", sa.String), sa.column("name_ar", sa.String), sa.column("name_en", sa.String),
        sa.column("weight", sa.Integer), sa.column("implied_urgency", sa.String), sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(table, [
        {"code": code, "name_ar": ar, "name_en": en, "weight": weight, "implied_urgency": urgency,
         "position": position, "active": True}
        for position, (code, ar, en, weight, urgency) in enumerate(CATEGORIES, start=1)
    ])


def _allow_role_values(values: list[str]) -> None:
    # The role column is limited by a CHECK that lists every role; a new role rewrites it.
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch_op.create_check_constraint("role", f"role IN ({listed})")


def downgrade() -> None:
    _allow_role_values(ROLES)
    op.drop_table('duplicate_flags')
    op.drop_table('triage')
    with op.batch_alter_table('manual_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_manual_changes_case_id_at')

    op.drop_table('manual_changes')
    with op.batch_alter_table('duplicate_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_merges_original_case_id'))

    op.drop_table('duplicate_merges')
    with op.batch_alter_table('case_addenda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_addenda_case_id'))

    op.drop_table('case_addenda')
    op.drop_table('categories')
