"""fees: the board's accounts, fee types and dated rates, readings, bills, payments

Tables of the fees domain (market/fees/models.py): collection accounts of the market board
(four-eyes verified like a stall's payee), fee types with rates dated by period, stall areas,
meter readings, one-off charges, bills and their lines, credit notes, and the payments and
receipts the money side of the issue records against bills.

Revision ID: c4f19e2a7d30
Revises: 9a3c5e7f1b20
Create Date: 2026-12-04 23:24:45.524325

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f19e2a7d30'
down_revision = '9a3c5e7f1b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fee_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.String(length=8), nullable=False),
    sa.Column('unit', sa.String(length=10), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("cycle = 'monthly' OR kind IN ('fixed', 'rent_category', 'rent_area')", name=op.f('ck_fee_types_daily_kinds')),
    sa.CheckConstraint("cycle IN ('monthly', 'daily')", name=op.f('ck_fee_types_cycle')),
    sa.CheckConstraint("kind IN ('rent_area', 'rent_category', 'fixed', 'metered', 'one_off')", name=op.f('ck_fee_types_kind')),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_types_market_id_markets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_types')),
    sa.UniqueConstraint('market_id', 'code', name=op.f('uq_fee_types_market_id_code'))
    )
    op.create_table('fee_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('bank_bin', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=19), nullable=False),
    sa.Column('holder_name', sa.String(length=80), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fee_accounts_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_accounts_market_id_markets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_fee_accounts_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_accounts'))
    )
    with op.batch_alter_table('fee_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_fee_accounts_account_number', ['account_number'], unique=False)
        batch_op.create_index('uq_fee_accounts_current_market', ['market_id'], unique=True, sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))

    op.create_table('fee_bills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('merchant_name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('cycle', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("cycle IN ('monthly', 'daily')", name=op.f('ck_fee_bills_cycle')),
    sa.CheckConstraint("status IN ('open', 'partial', 'paid', 'void')", name=op.f('ck_fee_bills_status')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_fee_bills_total_not_negative')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_fee_bills_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_bills_market_id_markets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_fee_bills_merchant_id_merchants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_fee_bills_stall_id_stalls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_bills')),
    sa.UniqueConstraint('market_id', 'number', name=op.f('uq_fee_bills_market_id_number')),
    sa.UniqueConstraint('reference', name=op.f('uq_fee_bills_reference')),
    sa.UniqueConstraint('stall_id', 'period', name=op.f('uq_fee_bills_stall_id_period'))
    )
    with op.batch_alter_table('fee_bills', schema=None) as batch_op:
        batch_op.create_index('ix_fee_bills_market_period', ['market_id', 'period'], unique=False)
        batch_op.create_index('ix_fee_bills_market_status_due', ['market_id', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_fee_bills_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('fee_meter_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('fee_type_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('start_reading', sa.BigInteger(), nullable=False),
    sa.Column('end_reading', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('end_reading >= start_reading', name=op.f('ck_fee_meter_readings_end_after_start')),
    sa.CheckConstraint('start_reading >= 0', name=op.f('ck_fee_meter_readings_start_not_negative')),
    sa.ForeignKeyConstraint(['fee_type_id'], ['fee_types.id'], name=op.f('fk_fee_meter_readings_fee_type_id_fee_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_fee_meter_readings_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_fee_meter_readings_stall_id_stalls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_meter_readings')),
    sa.UniqueConstraint('stall_id', 'fee_type_id', 'period', name=op.f('uq_fee_meter_readings_stall_id_fee_type_id_period'))
    )
    op.create_table('fee_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fee_type_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), server_default='', nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_fee_rates_amount_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fee_rates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fee_type_id'], ['fee_types.id'], name=op.f('fk_fee_rates_fee_type_id_fee_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rates')),
    sa.UniqueConstraint('fee_type_id', 'category', 'valid_from', name=op.f('uq_fee_rates_fee_type_id_category_valid_from'))
    )
    op.create_table('fee_stall_areas',
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('area_dm2', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('area_dm2 > 0', name=op.f('ck_fee_stall_areas_area_positive')),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_fee_stall_areas_stall_id_stalls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_fee_stall_areas_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('stall_id', name=op.f('pk_fee_stall_areas'))
    )
    op.create_table('fee_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('stall_id', sa.Integer(), nullable=False),
    sa.Column('fee_type_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_fee_charges_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['fee_bills.id'], name=op.f('fk_fee_charges_bill_id_fee_bills'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fee_charges_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fee_type_id'], ['fee_types.id'], name=op.f('fk_fee_charges_fee_type_id_fee_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_charges_market_id_markets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stall_id'], ['stalls.id'], name=op.f('fk_fee_charges_stall_id_stalls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_charges'))
    )
    with op.batch_alter_table('fee_charges', schema=None) as batch_op:
        batch_op.create_index('ix_fee_charges_stall_unbilled', ['stall_id', 'bill_id'], unique=False)

    op.create_table('fee_credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_fee_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['fee_bills.id'], name=op.f('fk_fee_credit_notes_bill_id_fee_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fee_credit_notes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_credit_notes_market_id_markets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_credit_notes')),
    sa.UniqueConstraint('market_id', 'number', name=op.f('uq_fee_credit_notes_market_id_number'))
    )
    with op.batch_alter_table('fee_credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_credit_notes_bill_id'), ['bill_id'], unique=False)

    op.create_table('fee_bill_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('fee_type_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('meter_reading_id', sa.Integer(), nullable=True),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'carry' AND amount <= 0) OR (kind <> 'carry' AND amount >= 0)", name=op.f('ck_fee_bill_lines_amount_sign')),
    sa.CheckConstraint("kind IN ('fee', 'meter', 'charge', 'carry')", name=op.f('ck_fee_bill_lines_kind')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_fee_bill_lines_quantity_not_negative')),
    sa.ForeignKeyConstraint(['bill_id'], ['fee_bills.id'], name=op.f('fk_fee_bill_lines_bill_id_fee_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['charge_id'], ['fee_charges.id'], name=op.f('fk_fee_bill_lines_charge_id_fee_charges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fee_type_id'], ['fee_types.id'], name=op.f('fk_fee_bill_lines_fee_type_id_fee_types'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meter_reading_id'], ['fee_meter_readings.id'], name=op.f('fk_fee_bill_lines_meter_reading_id_fee_meter_readings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_bill_lines'))
    )
    with op.batch_alter_table('fee_bill_lines', schema=None) as batch_op:
        batch_op.create_index('ix_fee_bill_lines_bill_position', ['bill_id', 'position'], unique=False)
        batch_op.create_index('ix_fee_bill_lines_carry', ['bill_id'], unique=False, sqlite_where=sa.text("kind = 'carry'"), postgresql_where=sa.text("kind = 'carry'"))

    op.create_table('fee_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('statement_key', sa.String(length=120), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('transfer', 'cash', 'statement')", name=op.f('ck_fee_payments_method')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_fee_payments_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['fee_bills.id'], name=op.f('fk_fee_payments_bill_id_fee_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_payments_market_id_markets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notification_id'], ['payment_notifications.id'], name=op.f('fk_fee_payments_notification_id_payment_notifications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_fee_payments_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_payments')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_fee_payments_notification_id')),
    sa.UniqueConstraint('statement_key', name=op.f('uq_fee_payments_statement_key'))
    )
    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_payments_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index('ix_fee_payments_market_paid_at', ['market_id', 'paid_at'], unique=False)

    op.create_table('fee_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seq > 0', name=op.f('ck_fee_receipts_seq_positive')),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_fee_receipts_market_id_markets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['fee_payments.id'], name=op.f('fk_fee_receipts_payment_id_fee_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_receipts')),
    sa.UniqueConstraint('market_id', 'year', 'seq', name=op.f('uq_fee_receipts_market_id_year_seq')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_fee_receipts_payment_id'))
    )


def downgrade():
    op.drop_table('fee_receipts')
    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_payments_market_paid_at')
        batch_op.drop_index(batch_op.f('ix_fee_payments_bill_id'))

    op.drop_table('fee_payments')
    with op.batch_alter_table('fee_bill_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_bill_lines_carry', sqlite_where=sa.text("kind = 'carry'"), postgresql_where=sa.text("kind = 'carry'"))
        batch_op.drop_index('ix_fee_bill_lines_bill_position')

    op.drop_table('fee_bill_lines')
    with op.batch_alter_table('fee_credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_credit_notes_bill_id'))

    op.drop_table('fee_credit_notes')
    with op.batch_alter_table('fee_charges', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_charges_stall_unbilled')

    op.drop_table('fee_charges')
    op.drop_table('fee_stall_areas')
    op.drop_table('fee_rates')
    op.drop_table('fee_meter_readings')
    with op.batch_alter_table('fee_bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_bills_merchant_id'))
        batch_op.drop_index('ix_fee_bills_market_status_due')
        batch_op.drop_index('ix_fee_bills_market_period')

    op.drop_table('fee_bills')
    with op.batch_alter_table('fee_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_fee_accounts_current_market', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_index('ix_fee_accounts_account_number')

    op.drop_table('fee_accounts')
    op.drop_table('fee_types')
