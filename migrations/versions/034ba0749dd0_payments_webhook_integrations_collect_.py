"""payments: webhook integrations, collect orders, payment notifications

Notifications are unique per (provider, event id), so a retried webhook is stored once;
indexes serve a stall's day (stall_id, transaction_at) and province-wide figures
(transaction_at).

Revision ID: 034ba0749dd0
Revises: 336389a80533
Create Date: 2026-11-27 00:07:09.227563

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '034ba0749dd0'
down_revision = '336389a80533'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collect_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=25), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('received_amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'paid', 'short')", name=op.f('ck_collect_orders_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_collect_orders_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_collect_orders_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_collect_orders_stall_id_stalls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collect_orders')),
    sa.UniqueConstraint('reference', name=op.f('uq_collect_orders_reference'))
    )
    with op.batch_alter_table('collect_orders', schema=None) as batch_op:
        batch_op.create_index('ix_collect_orders_stall_created', ['stall_id', 'created_at'], unique=False)

    op.create_table('webhook_integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=10), nullable=False),
    sa.Column('auth_mode', sa.String(length=10), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("auth_mode IN ('hmac', 'apikey')", name=op.f('ck_webhook_integrations_auth_mode')),
    sa.CheckConstraint("provider = 'sepay' OR auth_mode = 'hmac'", name=op.f('ck_webhook_integrations_casso_hmac')),
    sa.CheckConstraint("provider IN ('sepay', 'casso')", name=op.f('ck_webhook_integrations_provider')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_webhook_integrations_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_integrations')),
    sa.UniqueConstraint('provider', name=op.f('uq_webhook_integrations_provider'))
    )
    op.create_table('payment_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=10), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('reference_code', sa.String(length=100), nullable=False),
    sa.Column('stall_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('match_status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_payment_notifications_direction')),
    sa.CheckConstraint("match_status IN ('matched', 'unmatched', 'ignored')", name=op.f('ck_payment_notifications_match_status')),
    sa.CheckConstraint("provider IN ('sepay', 'casso')", name=op.f('ck_payment_notifications_provider')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_payment_notifications_amount_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['collect_orders.id'], name=op.f('fk_payment_notifications_order_id_collect_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_payment_notifications_stall_id_stalls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_notifications')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_payment_notifications_provider_event_id'))
    )
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_payment_notifications_match_status', ['match_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_notifications_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_payment_notifications_stall_at', ['stall_id', 'transaction_at'], unique=False)
        batch_op.create_index('ix_payment_notifications_transaction_at', ['transaction_at'], unique=False)



def downgrade():
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_notifications_transaction_at')
        batch_op.drop_index('ix_payment_notifications_stall_at')
        batch_op.drop_index(batch_op.f('ix_payment_notifications_order_id'))
        batch_op.drop_index('ix_payment_notifications_match_status')

    op.drop_table('payment_notifications')
    op.drop_table('webhook_integrations')
    with op.batch_alter_table('collect_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_collect_orders_stall_created')

    op.drop_table('collect_orders')
