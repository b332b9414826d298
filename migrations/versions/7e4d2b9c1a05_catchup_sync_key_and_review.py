"""payments: the transfer key shared by webhook and sync, API tokens, unmatched review

A transfer that reaches us by the webhook and by the transactions API (flask payments-sync)
carries different ids on each route; a unique index on (provider, account, bank reference,
direction, amount), for rows with a reference, stores it once. Integrations keep the
provider's API token; notifications record when and why a person worked them off the
unmatched list.

Revision ID: 7e4d2b9c1a05
Revises: 5e1a7c0d9b24
Create Date: 2026-12-04 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e4d2b9c1a05'
down_revision = '5e1a7c0d9b24'
branch_labels = None
depends_on = None

HAS_REFERENCE = sa.text("reference_code <> ''")


def upgrade():
    # Several integrations per provider: (provider, name) is unique instead of provider.
    with op.batch_alter_table('webhook_integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('name', sa.String(length=40), server_default='', nullable=False)
        )
        batch_op.drop_constraint('uq_webhook_integrations_provider', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_webhook_integrations_provider_name'), ['provider', 'name']
        )
    op.create_table(
        'integration_accounts',
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('account_number', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ['integration_id'], ['webhook_integrations.id'],
            name=op.f('fk_integration_accounts_integration_id_webhook_integrations'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint(
            'integration_id', 'account_number', name=op.f('pk_integration_accounts')
        ),
    )
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.String(length=300), nullable=True))
    # Outside batch mode: SQLite creates an index without copying the table.
    op.create_index(
        'uq_payment_notifications_transfer',
        'payment_notifications',
        ['provider', 'account_number', 'reference_code', 'direction', 'amount'],
        unique=True,
        postgresql_where=HAS_REFERENCE,
        sqlite_where=HAS_REFERENCE,
    )


def downgrade():
    op.drop_index('uq_payment_notifications_transfer', table_name='payment_notifications')
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.drop_column('review_note')
        batch_op.drop_column('reviewed_at')
    op.drop_table('integration_accounts')
    with op.batch_alter_table('webhook_integrations', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_webhook_integrations_provider_name'), type_='unique'
        )
        batch_op.create_unique_constraint('uq_webhook_integrations_provider', ['provider'])
        batch_op.drop_column('name')
        batch_op.drop_column('api_token')
