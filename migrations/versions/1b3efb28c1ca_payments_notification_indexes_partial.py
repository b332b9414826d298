"""payments: notification indexes only where they are read

A notification was six index entries; nearly every one is a payment that matched a stall
through the static QR. The index on transaction_at alone is dropped (nothing reads the
notifications by time without their stall: the adoption figures read their rollups), and
the review list's index (unmatched only, by id) and an order's payments' index (rows with an
order only) become partial, so such a payment is three entries: the primary key, the
(provider, event id) key and its stall's.

Revision ID: 1b3efb28c1ca
Revises: 741d33a155db
Create Date: 2026-11-27 12:57:05.872882

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1b3efb28c1ca'
down_revision = '741d33a155db'
branch_labels = None
depends_on = None

UNMATCHED = sa.text("match_status = 'unmatched'")
WITH_ORDER = sa.text("order_id IS NOT NULL")


def upgrade():
    op.drop_index('ix_payment_notifications_transaction_at', table_name='payment_notifications')
    op.drop_index('ix_payment_notifications_match_status', table_name='payment_notifications')
    op.drop_index('ix_payment_notifications_order_id', table_name='payment_notifications')
    op.create_index(
        'ix_payment_notifications_unmatched', 'payment_notifications', ['id'],
        postgresql_where=UNMATCHED, sqlite_where=UNMATCHED,
    )
    op.create_index(
        'ix_payment_notifications_order_id', 'payment_notifications', ['order_id'],
        postgresql_where=WITH_ORDER, sqlite_where=WITH_ORDER,
    )


def downgrade():
    op.drop_index('ix_payment_notifications_order_id', table_name='payment_notifications')
    op.drop_index('ix_payment_notifications_unmatched', table_name='payment_notifications')
    op.create_index('ix_payment_notifications_order_id', 'payment_notifications', ['order_id'])
    op.create_index(
        'ix_payment_notifications_match_status', 'payment_notifications', ['match_status']
    )
    op.create_index(
        'ix_payment_notifications_transaction_at', 'payment_notifications', ['transaction_at']
    )
