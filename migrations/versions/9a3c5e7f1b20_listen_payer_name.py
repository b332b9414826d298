"""payments: the payer's name a notifier gives (Casso's counterAccountName)

The merchant's listening screen and monthly statement show who paid when the notifier says.

Revision ID: 9a3c5e7f1b20
Revises: 7e4d2b9c1a05
Create Date: 2026-12-04 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a3c5e7f1b20'
down_revision = '7e4d2b9c1a05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('payer_name', sa.String(length=100), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.drop_column('payer_name')
