"""map: markets on today's map (communes/wards), dated adoption targets

Since 1 July 2025 Thái Nguyên (merged with Bắc Kạn) has two tiers: a market belongs to a
commune or ward (admin_units); its former district, commune and province stay as history.
Existing markets were all in the old Thái Nguyên: their former province says so, and each is
placed in the new unit its former commune (and district) became, from the list shipped in
market/places/thai_nguyen_2025.csv (Nghị quyết 1683/NQ-UBTVQH15); a market whose former
commune is unknown or split between units stays without one until edited.

Targets become dated records (adoption_targets) the province keeps on a screen.

Revision ID: c4d8e2a61f37
Revises: b7d41e9a2c63
Create Date: 2026-12-04 23:50:00

"""
import csv
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2a61f37'
down_revision = 'b7d41e9a2c63'
branch_labels = None
depends_on = None

UNIT_LIST = Path(__file__).parents[2] / 'market' / 'places' / 'thai_nguyen_2025.csv'
OLD_KINDS = ('Thị trấn ', 'Phường ', 'Xã ')


def upgrade():
    op.create_table('admin_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=60), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('former_units', sa.Text(), nullable=False),
    sa.Column('former_districts', sa.String(length=300), nullable=False),
    sa.Column('former_provinces', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.CheckConstraint("kind IN ('xa', 'phuong', 'dac_khu')", name=op.f('ck_admin_units_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_units')),
    sa.UniqueConstraint('province', 'code', name=op.f('uq_admin_units_province_code')),
    sa.UniqueConstraint('province', 'kind', 'name', name=op.f('uq_admin_units_province_kind_name'))
    )
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_units_province'), ['province'], unique=False)

    op.create_table('adoption_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('markets', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('former_province', sa.String(length=60), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('markets > 0', name=op.f('ck_adoption_targets_markets_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_adoption_targets_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adoption_targets'))
    )

    with op.batch_alter_table('markets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('former_province', sa.String(length=60), server_default='Thái Nguyên', nullable=False)
        )
        batch_op.create_index(batch_op.f('ix_markets_admin_unit_id'), ['admin_unit_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_markets_admin_unit_id_admin_units'),
            'admin_units', ['admin_unit_id'], ['id'], ondelete='RESTRICT',
        )
    # Every existing market was in the old Thái Nguyên, and so is a new one unless told.
    _place_existing_markets()


def _bare(name):
    name = name.replace(' (một phần)', '').strip()
    for kind in OLD_KINDS:
        if name.startswith(kind):
            return name[len(kind):]
    return name


def _place_existing_markets():
    """Load the shipped Thái Nguyên list and put each existing market in the unit its former
    commune became (by the former commune's name and district; a split commune goes to the
    unit that kept its name, if one did)."""
    if not UNIT_LIST.exists():
        return
    conn = op.get_bind()
    lines = UNIT_LIST.read_text(encoding='utf-8').splitlines()
    source = next(
        (l.split(':', 1)[1].strip() for l in lines if l.startswith('# Nguồn:')), ''
    )[:300]
    rows = list(csv.DictReader(l for l in lines if l.strip() and not l.startswith('#')))
    units = sa.table(
        'admin_units',
        *(sa.column(c) for c in ('id', 'province', 'code', 'name', 'kind', 'former_units',
                                 'former_districts', 'former_provinces', 'source')),
    )
    markets = sa.table(
        'markets', sa.column('id'), sa.column('district'), sa.column('commune'),
        sa.column('admin_unit_id'),
    )
    conn.execute(
        units.insert(),
        [dict(province='Thái Nguyên', source=source, **row) for row in rows],
    )
    placed = {
        row.code: row.id
        for row in conn.execute(sa.select(units.c.code, units.c.id))
    }
    for market in conn.execute(sa.select(markets)).all():
        old = _bare(market.commune or '')
        if not old:
            continue
        found = [
            row for row in rows
            if old in {_bare(u) for u in row['former_units'].split(';')}
            and (not market.district or market.district in row['former_districts'])
        ]
        if len(found) > 1:
            found = [row for row in found if row['name'] == old]
        if len(found) == 1:
            conn.execute(
                markets.update()
                .where(markets.c.id == market.id)
                .values(admin_unit_id=placed[found[0]['code']])
            )


def downgrade():
    with op.batch_alter_table('markets', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_markets_admin_unit_id_admin_units'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_markets_admin_unit_id'))
        batch_op.drop_column('former_province')
        batch_op.drop_column('admin_unit_id')

    op.drop_table('adoption_targets')
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_units_province'))

    op.drop_table('admin_units')
