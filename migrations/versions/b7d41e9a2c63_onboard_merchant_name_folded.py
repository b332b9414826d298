"""merchants: full name folded for search (no diacritics, lower case)

"nguyen thi" finds Nguyễn Thị Hoa. A stored column: folding in SQL at every search cost
25-45x a plain LIKE on PostgreSQL (bench/bench_search.py). Existing names are folded here
with the same rule as market.textsearch.fold_text (copied, so that this revision keeps
doing what it did whatever the app's code becomes).

Revision ID: b7d41e9a2c63
Revises: b7d4e2a91c08
Create Date: 2026-12-05 00:05:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41e9a2c63'
down_revision = 'b7d4e2a91c08'
branch_labels = None
depends_on = None

_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D"})


def _fold(text):
    text = unicodedata.normalize("NFC", text or "")
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
        bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        text = unicodedata.normalize("NFC", bare)
    return text.lower()


def upgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('name_folded', sa.String(length=120), server_default='', nullable=False)
        )
    merchants = sa.table(
        'merchants', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
        sa.column('name_folded', sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(merchants.c.id, merchants.c.full_name)).all()
    changes = [{"merchant_id": row.id, "folded": _fold(row.full_name)} for row in rows]
    statement = (
        merchants.update()
        .where(merchants.c.id == sa.bindparam("merchant_id"))
        .values(name_folded=sa.bindparam("folded"))
    )
    for start in range(0, len(changes), 1000):
        connection.execute(statement, changes[start:start + 1000])


def downgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('name_folded')
