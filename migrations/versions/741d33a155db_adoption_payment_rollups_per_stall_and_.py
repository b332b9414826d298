"""adoption: payment rollups per stall and market day, market criteria

stall_day_payments and market_day_payments count the payments received (matched incoming
notifications) per Vietnam calendar day, so adoption figures never scan the notifications;
they are filled here from the notifications already stored (``flask adoption-rebuild`` does
the same at any time). Markets get the two criteria their manager declares, with dates.

Revision ID: 741d33a155db
Revises: 034ba0749dd0
Create Date: 2026-11-27 00:31:01.391920

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '741d33a155db'
down_revision = '034ba0749dd0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('market_day_payments',
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_market_day_payments_market_id_markets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('market_id', 'day', name=op.f('pk_market_day_payments'))
    )
    with op.batch_alter_table('market_day_payments', schema=None) as batch_op:
        batch_op.create_index('ix_market_day_payments_day', ['day'], unique=False)

    op.create_table('stall_day_payments',
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_stall_day_payments_stall_id_stalls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stall_id', 'day', name=op.f('pk_stall_day_payments'))
    )
    with op.batch_alter_table('stall_day_payments', schema=None) as batch_op:
        batch_op.create_index('ix_stall_day_payments_day_stall', ['day', 'stall_id', 'payments'], unique=False)

    with op.batch_alter_table('markets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fees_cashless_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ecommerce_listed_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ecommerce_note', sa.String(length=300), nullable=True))

    # The payments stored before this revision, as market.adoption.services.rebuild_rollups.
    if op.get_bind().dialect.name == "postgresql":
        day = "(timezone('Asia/Ho_Chi_Minh', transaction_at))::date"
    else:
        day = "date(transaction_at, '+7 hours')"  # Vietnam is UTC+7 all year
    op.execute(
        "INSERT INTO stall_day_payments (stall_id, day, payments, amount) "
        f"SELECT stall_id, {day}, count(*), sum(amount) FROM payment_notifications "
        "WHERE match_status = 'matched' AND direction = 'in' AND stall_id IS NOT NULL "
        f"GROUP BY stall_id, {day}"
    )
    op.execute(
        "INSERT INTO market_day_payments (market_id, day, payments, amount) "
        "SELECT s.market_id, d.day, sum(d.payments), sum(d.amount) "
        "FROM stall_day_payments d JOIN stalls s ON s.id = d.stall_id "
        "GROUP BY s.market_id, d.day"
    )


def downgrade():
    with op.batch_alter_table('markets', schema=None) as batch_op:
        batch_op.drop_column('ecommerce_note')
        batch_op.drop_column('ecommerce_listed_since')
        batch_op.drop_column('fees_cashless_since')

    with op.batch_alter_table('stall_day_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_stall_day_payments_day_stall')

    op.drop_table('stall_day_payments')
    with op.batch_alter_table('market_day_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_market_day_payments_day')

    op.drop_table('market_day_payments')
