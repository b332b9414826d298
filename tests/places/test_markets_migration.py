"""The migration places existing markets on today's map by their former commune."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from market.app import create_app
from market.extensions import db

BEFORE = "9a3c5e7f1b20"


def test_existing_markets_land_in_the_unit_their_commune_became(db_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        downgrade(revision=BEFORE)
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM markets"))
            for code, district, commune in [
                ("M-1", "TP. Thái Nguyên", "Phường Túc Duyên"),  # -> Phan Đình Phùng
                ("M-2", "Huyện Đại Từ", "Thị trấn Hùng Sơn"),  # -> xã Đại Phúc
                ("M-3", "TP. Thái Nguyên", "Tân Long"),  # bare name -> Quan Triều
                ("M-4", "TP. Thái Nguyên", "Phường Gia Sàng"),  # split: kept its name
                ("M-5", "Huyện Phú Bình", ""),  # unknown: stays unplaced
            ]:
                conn.execute(
                    text(
                        "INSERT INTO markets (code, name, district, commune, address, status,"
                        " created_at) VALUES (:c, :c, :d, :m, '', 'planned', CURRENT_TIMESTAMP)"
                    ),
                    {"c": code, "d": district, "m": commune},
                )
        upgrade()
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT m.code, m.former_province, u.kind, u.name FROM markets m"
                    " LEFT JOIN admin_units u ON u.id = m.admin_unit_id ORDER BY m.code"
                )
            ).all()
            conn.execute(text("DELETE FROM markets"))
            conn.execute(text("DELETE FROM admin_units"))
            conn.commit()
        engine.dispose()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("M-1", "Thái Nguyên", "phuong", "Phan Đình Phùng"),
        ("M-2", "Thái Nguyên", "xa", "Đại Phúc"),
        ("M-3", "Thái Nguyên", "phuong", "Quan Triều"),
        ("M-4", "Thái Nguyên", "phuong", "Gia Sàng"),
        ("M-5", "Thái Nguyên", None, None),
    ]
