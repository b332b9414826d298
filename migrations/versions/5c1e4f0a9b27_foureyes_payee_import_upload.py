"""merchants: record the import upload (and its uploader) on the payees it creates

The four-eyes rule refuses verification by whoever uploaded the file that created a payee
account, so the payee keeps the upload and the uploader.

Revision ID: 5c1e4f0a9b27
Revises: 1b3efb28c1ca
Create Date: 2026-12-04 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e4f0a9b27'
down_revision = '1b3efb28c1ca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payee_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('uploaded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_payee_accounts_import_batch_id_import_batches'),
            'import_batches', ['import_batch_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_payee_accounts_uploaded_by_id_users'),
            'users', ['uploaded_by_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('payee_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_payee_accounts_uploaded_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_payee_accounts_import_batch_id_import_batches'), type_='foreignkey'
        )
        batch_op.drop_column('uploaded_by_id')
        batch_op.drop_column('import_batch_id')
