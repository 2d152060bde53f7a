"""notifications: outbox retries and delivery, replies, WhatsApp contacts, confirmations

Revision ID: 9c1f4e2a7b30
Revises: 6b36732487c9
Create Date: 2026-11-24 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import majlis.db

revision: str = '9c1f4e2a7b30'
down_revision: str | None = '6b36732487c9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUS = sa.Enum('pending', 'sending', 'sent', 'failed', name='messagestatus', native_enum=False, create_constraint=True, length=16)
NEW_STATUS = sa.Enum('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled', name='messagestatus', native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table (new CHECK on status included); PostgreSQL alters it in place.
    with op.batch_alter_table('outbox_messages', recreate='auto') as batch:
        batch.add_column(sa.Column('payload', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('next_attempt_at', majlis.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('delivery_status', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('delivery_updated_at', majlis.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('lookup_at', majlis.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('withdrawn_at', majlis.db.UTCDateTime(timezone=True), nullable=True))
        batch.drop_index('ix_outbox_messages_status_due_at')
    op.execute('UPDATE outbox_messages SET next_attempt_at = due_at')
    with op.batch_alter_table('outbox_messages', recreate='auto') as batch:
        batch.alter_column('next_attempt_at', existing_type=majlis.db.UTCDateTime(timezone=True), nullable=False)
        batch.alter_column('payload', existing_type=sa.JSON(), server_default=None)
        batch.create_index('ix_outbox_messages_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch.create_index(batch.f('ix_outbox_messages_provider_id'), ['provider_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_outbox_messages_messagestatus'), 'outbox_messages', type_='check')
        op.create_check_constraint(
            'messagestatus',
            'outbox_messages',
            "status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled')",
        )
    else:
        with op.batch_alter_table('outbox_messages', recreate='always') as batch:
            batch.alter_column('status', existing_type=OLD_STATUS, type_=NEW_STATUS, existing_nullable=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('understood_as', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_inbound_messages_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_inbound_messages_provider_id'))
    )
    op.create_index(op.f('ix_inbound_messages_sender'), 'inbound_messages', ['sender'], unique=False)
    op.create_table('whatsapp_contacts',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('last_inbound_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opted_out_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_whatsapp_contacts'))
    )
    op.create_table('confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('ask_at', majlis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('short_notice', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Enum('confirmed', 'rescheduled', 'cancelled', name='answer', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('answered_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_via', sa.String(length=16), nullable=False),
    sa.Column('call_attempts', sa.Integer(), nullable=False),
    sa.Column('last_call_at', majlis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_call_by_id', sa.Integer(), nullable=True),
    sa.Column('last_call_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_confirmations_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_confirmations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_call_by_id'], ['staff_users.id'], name=op.f('fk_confirmations_last_call_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmations')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_confirmations_appointment_id'))
    )
    op.create_index(op.f('ix_confirmations_ask_at'), 'confirmations', ['ask_at'], unique=False)
    op.create_index(op.f('ix_confirmations_case_id'), 'confirmations', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_confirmations_case_id'), table_name='confirmations')
    op.drop_index(op.f('ix_confirmations_ask_at'), table_name='confirmations')
    op.drop_table('confirmations')
    op.drop_table('whatsapp_contacts')
    op.drop_index(op.f('ix_inbound_messages_sender'), table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status IN ('uncertain', 'cancelled')")
    with op.batch_alter_table('outbox_messages', recreate='auto') as batch:
        batch.drop_index(batch.f('ix_outbox_messages_provider_id'))
        batch.drop_index('ix_outbox_messages_status_next_attempt_at')
        batch.drop_column('error_code')
        batch.drop_column('lookup_at')
        batch.drop_column('withdrawn_at')
        batch.drop_column('delivery_updated_at')
        batch.drop_column('delivery_status')
        batch.drop_column('next_attempt_at')
        batch.drop_column('payload')
        batch.create_index('ix_outbox_messages_status_due_at', ['status', 'due_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_outbox_messages_messagestatus'), 'outbox_messages', type_='check')
        op.create_check_constraint(
            'messagestatus', 'outbox_messages', "status IN ('pending', 'sending', 'sent', 'failed')"
        )
    else:
        with op.batch_alter_table('outbox_messages', recreate='always') as batch:
            batch.alter_column('status', existing_type=NEW_STATUS, type_=OLD_STATUS, existing_nullable=False)
