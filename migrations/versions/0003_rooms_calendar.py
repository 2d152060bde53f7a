"""rooms and the audience calendar

Revision ID: 6b36732487c9
Revises: 27847143cab7
Create Date: 2026-11-24 01:33:50.169880
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = '6b36732487c9'
down_revision: str | None = '27847143cab7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('branches',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('is_official_seat', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_branches'))
    )
    op.create_table('holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holidays'))
    )
    op.create_table('session_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('in_person', 'video', name='audiencemode', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_templates'))
    )
    op.create_table('audience_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.Enum('in_person', 'video', name='audiencemode', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('state', sa.Enum('planned', 'cancelled', name='sessionstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('cancelled_for_holiday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['session_templates.id'], name=op.f('fk_audience_sessions_template_id_session_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audience_sessions')),
    sa.UniqueConstraint('template_id', 'day', name=op.f('uq_audience_sessions_template_id_day'))
    )
    with op.batch_alter_table('audience_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audience_sessions_day'), ['day'], unique=False)

    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('audience_hall', 'women_video', 'men_video', 'official_office', name='roomkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('wheelchair_access', sa.Boolean(), nullable=False),
    sa.Column('equipment', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_code'], ['branches.code'], name=op.f('fk_rooms_branch_code_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('branch_code', 'name', name=op.f('uq_rooms_branch_code_name'))
    )
    op.create_table('room_rosters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_rosters_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_room_rosters_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_rosters')),
    sa.UniqueConstraint('room_id', 'staff_id', 'day', name=op.f('uq_room_rosters_room_id_staff_id_day'))
    )
    with op.batch_alter_table('room_rosters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_rosters_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_rosters_room_id'), ['room_id'], unique=False)

    op.create_table('session_template_rooms',
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_session_template_rooms_room_id_rooms')),
    sa.ForeignKeyConstraint(['template_id'], ['session_templates.id'], name=op.f('fk_session_template_rooms_template_id_session_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_id', 'room_id', name=op.f('pk_session_template_rooms'))
    )
    op.create_table('slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('blocked_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_slots_room_id_rooms')),
    sa.ForeignKeyConstraint(['session_id'], ['audience_sessions.id'], name=op.f('fk_slots_session_id_audience_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots'))
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slots_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_slots_starts_at', ['starts_at'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('scheduled', 'confirmed', 'released', name='appointmentstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('placed_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('released_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appointments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placed_by_id'], ['staff_users.id'], name=op.f('fk_appointments_placed_by_id_staff_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_appointments_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('uq_appointments_live_case', ['case_id'], unique=True, postgresql_where=sa.text("state IN ('scheduled', 'confirmed')"), sqlite_where=sa.text("state IN ('scheduled', 'confirmed')"))
        batch_op.create_index('uq_appointments_live_seat', ['slot_id', 'seat'], unique=True, postgresql_where=sa.text("state IN ('scheduled', 'confirmed')"), sqlite_where=sa.text("state IN ('scheduled', 'confirmed')"))
    op.create_table('unavailable_days',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_unavailable_days_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'day', name=op.f('pk_unavailable_days'))
    )
    _seed_branches()


def _seed_branches() -> None:
    # The reception centres of the source documents; Riyadh is the official's seat.
    table = sa.table(
        "branches",
        sa.column("code", sa.String), sa.column("name_ar", sa.String), sa.column("name_en", sa.String),
        sa.column("is_official_seat", sa.Boolean),
    )
    op.bulk_insert(table, [
        {"code": "riyadh", "name_ar": "الرياض", "name_en": "Riyadh", "is_official_seat": True},
        {"code": "jeddah", "name_ar": "جدة", "name_en": "Jeddah", "is_official_seat": False},
    ])


def downgrade() -> None:
    op.drop_table('unavailable_days')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('uq_appointments_live_seat', postgresql_where=sa.text("state IN ('scheduled', 'confirmed')"), sqlite_where=sa.text("state IN ('scheduled', 'confirmed')"))
        batch_op.drop_index('uq_appointments_live_case', postgresql_where=sa.text("state IN ('scheduled', 'confirmed')"), sqlite_where=sa.text("state IN ('scheduled', 'confirmed')"))
        batch_op.drop_index(batch_op.f('ix_appointments_slot_id'))
        batch_op.drop_index(batch_op.f('ix_appointments_case_id'))

    op.drop_table('appointments')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_starts_at')
        batch_op.drop_index(batch_op.f('ix_slots_session_id'))

    op.drop_table('slots')
    op.drop_table('session_template_rooms')
    with op.batch_alter_table('room_rosters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_rosters_room_id'))
        batch_op.drop_index(batch_op.f('ix_room_rosters_day'))

    op.drop_table('room_rosters')
    op.drop_table('rooms')
    with op.batch_alter_table('audience_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audience_sessions_day'))

    op.drop_table('audience_sessions')
    op.drop_table('session_templates')
    op.drop_table('holidays')
    op.drop_table('branches')
