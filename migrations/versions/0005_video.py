"""video audiences: the record of each appointment held over video, and its events

Revision ID: 3e7a5c1d9b42
Revises: 9c1f4e2a7b30
Create Date: 2026-11-24 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = '3e7a5c1d9b42'
down_revision: str | None = '9c1f4e2a7b30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('video_audiences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('waiting', 'in_call', 'ended', name='videostate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('checked_in_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=16), nullable=True),
    sa.Column('reconnections', sa.Integer(), nullable=False),
    sa.Column('connected_seconds', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('referred', 'answered', 'follow_up', name='videooutcome', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('directive', sa.Text(), nullable=False),
    sa.Column('outcome_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_video_audiences_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_video_audiences_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['staff_users.id'], name=op.f('fk_video_audiences_outcome_by_id_staff_users')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_video_audiences_room_id_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_video_audiences')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_video_audiences_appointment_id'))
    )
    op.create_index(op.f('ix_video_audiences_case_id'), 'video_audiences', ['case_id'], unique=False)
    op.create_table('video_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audience_id', sa.Integer(), nullable=False),
    sa.Column('at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('checked_in', 'started', 'connected', 'reconnecting', 'reconnected', 'ended', 'outcome', name='videoeventkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['audience_id'], ['video_audiences.id'], name=op.f('fk_video_events_audience_id_video_audiences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_video_events'))
    )
    op.create_index(op.f('ix_video_events_audience_id'), 'video_events', ['audience_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_video_events_audience_id'), table_name='video_events')
    op.drop_table('video_events')
    op.drop_index(op.f('ix_video_audiences_case_id'), table_name='video_audiences')
    op.drop_table('video_audiences')
