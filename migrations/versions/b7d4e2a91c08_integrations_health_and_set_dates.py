"""payments: integration health (refusals by reason, last notification) and set-on dates

The admin screen shows per integration when its secret and API token were set (never the
values), the last notification it accepted and its refusals counted by reason.

Revision ID: b7d4e2a91c08
Revises: 9a3c5e7f1b20
Create Date: 2026-12-05 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d4e2a91c08'
down_revision = '9a3c5e7f1b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_set_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('api_token_set_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=True)
        )
    # What we know of the secrets and tokens set before: at the latest the last change.
    op.execute("UPDATE webhook_integrations SET secret_set_at = updated_at")
    op.execute(
        "UPDATE webhook_integrations SET api_token_set_at = updated_at "
        "WHERE api_token IS NOT NULL"
    )
    op.create_table(
        'integration_refusals',
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['integration_id'], ['webhook_integrations.id'],
            name=op.f('fk_integration_refusals_integration_id_webhook_integrations'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('integration_id', 'reason', name=op.f('pk_integration_refusals')),
    )


def downgrade():
    op.drop_table('integration_refusals')
    with op.batch_alter_table('webhook_integrations', schema=None) as batch_op:
        batch_op.drop_column('last_received_at')
        batch_op.drop_column('api_token_set_at')
        batch_op.drop_column('secret_set_at')
