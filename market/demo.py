"""The Thái Nguyên demo data set: deterministic (seeded), loaded in a few seconds.

11 live Chợ 4.0 markets with about 2,100 stalls and merchants, a few dozen markets still
planned or onboarding, real NAPAS BINs with made-up but well-formed account numbers, eight
weeks of received payments, three months of market fee bills (most paid by QR, some in
cash, some in arrears), and one login per role.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update

from market.adoption.models import AdoptionTarget
from market.adoption.services import rebuild_rollups
from market.auth.models import User
from market.extensions import db
from market.fees import services as fee_services
from market.fees.models import (
    FeeAccount,
    FeeBill,
    FeePayment,
    FeeRate,
    FeeReceipt,
    FeeType,
    MeterReading,
)
from market.fees.money.services import receipt_number
from market.fees.values import Period, month_of
from market.formatting import to_local
from market.markets.models import GOODS_CATEGORIES, Market, Stall
from market.merchants.models import Merchant, PayeeAccount
from market.payments.models import PaymentNotification
from market.places import services as places
from market.places.cli import DEFAULT_LIST as UNIT_LIST
from market.places.models import AdminUnit
from market.vietqr import transliterate

SEED = 2022
DEMO_PASSWORD = "cho40-demo"  # noqa: S105 - printed for the demo on purpose

# (code, name, district, commune, stalls) — the 11 markets that went live.
LIVE_MARKETS = (
    ("TN-CHOTHAI", "Chợ Thái", "TP. Thái Nguyên", "Phường Phan Đình Phùng", 420),
    ("TN-DONGQUANG", "Chợ Đồng Quang", "TP. Thái Nguyên", "Phường Đồng Quang", 260),
    ("TN-TUCDUYEN", "Chợ Túc Duyên", "TP. Thái Nguyên", "Phường Túc Duyên", 230),
    ("TN-MINHCAU", "Chợ Minh Cầu", "TP. Thái Nguyên", "Phường Phan Đình Phùng", 150),
    ("TN-GIASANG", "Chợ Gia Sàng", "TP. Thái Nguyên", "Phường Gia Sàng", 140),
    ("TN-QUANGVINH", "Chợ Quang Vinh", "TP. Thái Nguyên", "Phường Quang Vinh", 110),
    ("SC-TRUNGTAM", "Chợ Trung tâm Sông Công", "TP. Sông Công", "Phường Thắng Lợi", 180),
    ("PY-BAHANG", "Chợ Ba Hàng", "TP. Phổ Yên", "Phường Ba Hàng", 190),
    ("PL-CHODU", "Chợ Đu", "Huyện Phú Lương", "Thị trấn Đu", 150),
    ("DT-HUNGSON", "Chợ Hùng Sơn", "Huyện Đại Từ", "Thị trấn Hùng Sơn", 160),
    ("DH-CHOCHU", "Chợ Chu", "Huyện Định Hóa", "Thị trấn Chợ Chu", 110),
)

# Communes whose markets are planned or being onboarded, by district.
OTHER_MARKETS = {
    "TP. Thái Nguyên": [
        "Tân Long",
        "Quan Triều",
        "Phú Xá",
        "Tân Thịnh",
        "Thịnh Đán",
        "Cam Giá",
        "Tích Lương",
        "Quyết Thắng",
    ],
    "TP. Sông Công": ["Mỏ Chè", "Bách Quang", "Phố Cò"],
    "TP. Phổ Yên": ["Bắc Sơn", "Bãi Bông", "Đắc Sơn", "Hồng Tiến", "Trung Thành"],
    "Huyện Phú Lương": ["Giang Tiên", "Yên Đổ", "Động Đạt"],
    "Huyện Đại Từ": ["Quân Chu", "Khôi Kỳ", "La Bằng", "Phục Linh"],
    "Huyện Định Hóa": ["Kim Phượng", "Trung Hội", "Điềm Mặc"],
    "Huyện Đồng Hỷ": ["Trại Cau", "Sông Cầu", "Hóa Thượng", "Khe Mo"],
    "Huyện Võ Nhai": ["Đình Cả", "La Hiên", "Tràng Xá"],
    "Huyện Phú Bình": ["Úc Kỳ", "Hương Sơn", "Điềm Thụy", "Kha Sơn"],
}

# Markets of the former Bắc Kạn province (merged into Thái Nguyên on 1 July 2025), being
# onboarded or planned: (code, name, former district, former commune, status).
BAC_KAN_MARKETS = (
    ("BK-BACKAN", "Chợ Bắc Kạn", "TP. Bắc Kạn", "Phường Đức Xuân", "onboarding"),
    ("BK-SONGCAU", "Chợ Sông Cầu", "TP. Bắc Kạn", "Phường Sông Cầu", "planned"),
    ("BK-CHORA", "Chợ Chợ Rã", "Huyện Ba Bể", "Thị trấn Chợ Rã", "onboarding"),
    ("BK-PHUTHONG", "Chợ Phủ Thông", "Huyện Bạch Thông", "Thị trấn Phủ Thông", "planned"),
    ("BK-BANGLUNG", "Chợ Bằng Lũng", "Huyện Chợ Đồn", "Thị trấn Bằng Lũng", "planned"),
    ("BK-DONGTAM", "Chợ Đồng Tâm", "Huyện Chợ Mới", "Thị trấn Đồng Tâm", "planned"),
    ("BK-YENLAC", "Chợ Yến Lạc", "Huyện Na Rì", "Thị trấn Yến Lạc", "planned"),
    ("BK-NAPHAC", "Chợ Nà Phặc", "Huyện Ngân Sơn", "Thị trấn Nà Phặc", "planned"),
)

# The province's targets: the 2022 plan (for the old province) and a later one (made up for
# the demo) for the merged province.
DEMO_TARGETS = (
    (60, date(2025, 12, 31), "Kế hoạch 156/KH-UBND năm 2022", "Thái Nguyên"),
    (80, date(2026, 12, 31), "Mục tiêu 2026 của tỉnh sau hợp nhất (dữ liệu mẫu)", ""),
)

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Hà",
    "Lương",
    "Nông",
    "Ma",
    "Triệu",
    "Lý",
    "Đinh",
    "Phùng",
    "Lưu",
)
MIDDLE_F = ("Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Kim")
MIDDLE_M = ("Văn", "Văn", "Đức", "Minh", "Quang", "Xuân", "Hữu", "Mạnh")
GIVEN_F = (
    "Hoa",
    "Lan",
    "Mai",
    "Hương",
    "Hạnh",
    "Nga",
    "Thủy",
    "Yến",
    "Phương",
    "Dung",
    "Hằng",
    "Huệ",
    "Liên",
    "Nhung",
    "Oanh",
    "Thắm",
    "Trang",
    "Vân",
    "Xuân",
    "Loan",
)
GIVEN_M = (
    "Hùng",
    "Dũng",
    "Tuấn",
    "Bình",
    "Cường",
    "Hải",
    "Long",
    "Nam",
    "Sơn",
    "Thắng",
    "Tùng",
    "Hòa",
    "Khánh",
    "Lâm",
    "Phúc",
    "Quý",
    "Tâm",
    "Toàn",
    "Việt",
    "Đạt",
)
# Banks market traders use most, weighted (BIN, weight).
BANKS = (
    ("970405", 30),
    ("970436", 14),
    ("970418", 12),
    ("970415", 12),
    ("970422", 10),
    ("970407", 6),
    ("970432", 4),
    ("970416", 3),
    ("970449", 5),
    ("970403", 2),
    ("970423", 1),
    ("970443", 1),
)
MOBILE_PREFIXES = (
    "086",
    "096",
    "097",
    "098",
    "032",
    "033",
    "035",
    "039",
    "091",
    "094",
    "088",
    "081",
    "083",
    "090",
    "093",
    "070",
    "077",
    "056",
    "058",
)
ZONES = ("Khu A", "Khu B", "Khu C", "Nhà chính", "Dãy ngoài")
# Markets that meet every Chợ 4.0 criterion in the demo (QR on every stall, fees cashless,
# a product online), so the dashboard shows qualifying markets next to ones still short.
QUALIFYING = ("TN-TUCDUYEN", "DH-CHOCHU")
FEES_CASHLESS = ("TN-TUCDUYEN", "DH-CHOCHU", "TN-CHOTHAI", "PY-BAHANG")
ECOMMERCE = {
    "TN-TUCDUYEN": "Chè Tân Cương trên sàn thương mại điện tử tỉnh",
    "DH-CHOCHU": "Miến dong Định Hóa",
    "TN-DONGQUANG": "Bánh chưng Bờ Đậu",
}
PAYMENT_DAYS = 56

DEMO_USERS = (
    ("admin", "admin", "cán bộ Sở Công Thương, mọi chợ"),
    ("quanly", "manager", "quản lý Chợ Thái, Chợ Đồng Quang, Chợ Túc Duyên"),
    ("quanly2", "manager", "quản lý Chợ Trung tâm Sông Công, Chợ Ba Hàng"),
    ("hotro", "helper", "tổ công nghệ số cộng đồng, Chợ Đồng Quang"),
    ("tieuthuong", "merchant", "tiểu thương một sạp ở Chợ Đồng Quang"),
)


def has_data() -> bool:
    return bool(db.session.scalar(select(func.count(Market.id))))


def _name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"


def load() -> dict[str, int]:
    """Insert the demo data set in one transaction; returns what was inserted."""
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    markets = []
    for code, name, district, commune, _n in LIVE_MARKETS:
        launch = date(2022, 9, 1) + timedelta(days=rng.randrange(0, 900))
        markets.append(
            Market(
                code=code,
                name=name,
                district=district,
                commune=commune,
                address=f"{commune}, {district}, Thái Nguyên",
                status="live",
                launch_date=launch,
            )
        )
    for district, communes in OTHER_MARKETS.items():
        for commune in communes:
            code = "TN-" + transliterate(commune).upper().replace(" ", "")
            status = "onboarding" if rng.random() < 0.4 else "planned"
            markets.append(
                Market(
                    code=code,
                    name=f"Chợ {commune}",
                    district=district,
                    commune=commune,
                    address=f"{commune}, {district}, Thái Nguyên",
                    status=status,
                )
            )
    for code, name, district, commune, status in BAC_KAN_MARKETS:
        markets.append(
            Market(
                code=code,
                name=name,
                district=district,
                commune=commune,
                former_province="Bắc Kạn",
                address=f"{commune}, {district}, Bắc Kạn",
                status=status,
            )
        )
    # Today's map: every market in the commune or ward its former commune became.
    places.stage_units("Thái Nguyên", places.parse_unit_list(UNIT_LIST.read_text(encoding="utf-8")))
    units = list(db.session.scalars(select(AdminUnit)))
    for market in markets:
        # Cam Giá was split between two wards, neither keeping its name: its market is in
        # the part that went to Gia Sàng.
        commune = "Gia Sàng" if market.commune == "Cam Giá" else market.commune
        unit = places.unit_of_former_commune(units, market.district, commune)
        market.admin_unit_id = unit.id if unit is not None else None
    db.session.add_all(
        AdoptionTarget(markets=n, deadline=deadline, title=title, former_province=province)
        for n, deadline, title, province in DEMO_TARGETS
    )
    db.session.add_all(markets)
    db.session.flush()
    by_code = {m.code: m for m in markets}

    used_phones: set[str] = set()
    merchant_rows, stall_specs = [], []
    categories = list(GOODS_CATEGORIES)
    for code, _market_name, _d, _c, count in LIVE_MARKETS:
        market = by_code[code]
        for i in range(1, count + 1):
            zone = rng.choice(ZONES)
            stall_code = f"{'ABCDE'[ZONES.index(zone)]}-{i:03d}"
            status = "active" if rng.random() < 0.96 else rng.choice(("vacant", "closed"))
            spec = {
                "market_id": market.id,
                "code": stall_code,
                "zone": zone,
                "category": rng.choice(categories),
                "status": status,
                "created_at": now,
                "merchant_index": None,
            }
            if status == "active":
                while True:
                    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
                    if phone not in used_phones:
                        used_phones.add(phone)
                        break
                full_name = _name(rng)
                merchant_rows.append(
                    {
                        "full_name": full_name,
                        "phone": phone,
                        "tax_code": None,
                        "consent": True,
                        "consent_at": now - timedelta(days=rng.randrange(30, 700)),
                        "created_at": now,
                    }
                )
                spec["merchant_index"] = len(merchant_rows) - 1
            stall_specs.append(spec)

    merchant_ids = list(
        db.session.scalars(
            insert(Merchant).returning(Merchant.id, sort_by_parameter_order=True), merchant_rows
        )
    )
    for spec in stall_specs:
        index = spec.pop("merchant_index")
        spec["merchant_id"] = merchant_ids[index] if index is not None else None
    stall_ids = list(
        db.session.scalars(
            insert(Stall).returning(Stall.id, sort_by_parameter_order=True), stall_specs
        )
    )

    users = _users(by_code, merchant_ids[by_code_first_merchant(stall_specs, by_code)])
    db.session.add_all(users)
    db.session.flush()
    # Four-eyes in the demo too: each market's accounts were entered by its own staff (the
    # helper where it has one, else its manager; by the province's import script where it
    # has no staff) and verified by someone else: the manager when a helper entered them,
    # else the province (every demo market has a single manager).
    by_name = {u.username: u for u in users}
    entered_by, verified_by = {}, {}
    for user in users:
        for market in user.markets:
            if user.role == "helper" or market.id not in entered_by:
                entered_by[market.id] = user.id
            if user.role == "manager":
                verified_by[market.id] = user.id
    for market_id, creator_id in entered_by.items():
        if verified_by.get(market_id) == creator_id:
            verified_by[market_id] = by_name["admin"].id

    bins = [b for b, _w in BANKS]
    weights = [w for _b, w in BANKS]
    name_by_id = {
        mid: row["full_name"] for mid, row in zip(merchant_ids, merchant_rows, strict=True)
    }
    payee_rows = []
    qualifying_ids = {by_code[c].id for c in QUALIFYING}
    for stall_id, spec in zip(stall_ids, stall_specs, strict=True):
        ready = spec["market_id"] in qualifying_ids
        if spec["merchant_id"] is None or (not ready and rng.random() < 0.03):
            continue
        holder = transliterate(name_by_id[spec["merchant_id"]]).upper()
        created = now - timedelta(days=rng.randrange(20, 600))
        verified = ready or rng.random() < 0.93
        payee_rows.append(
            {
                "stall_id": stall_id,
                "bank_bin": rng.choices(bins, weights)[0],
                "account_number": str(rng.randrange(10**9, 10**13)),
                "service": "account",
                "holder_name": holder,
                "is_current": True,
                "created_at": created,
                "created_by_id": entered_by.get(spec["market_id"]),
                "verified_at": created + timedelta(days=1) if verified else None,
                "verified_by_id": (
                    verified_by.get(spec["market_id"], by_name["admin"].id) if verified else None
                ),
            }
        )
    db.session.execute(insert(PayeeAccount), payee_rows)
    # Most verified stalls have had their sticker printed since; a few still wait for it.
    printed = [
        {"id": p["stall_id"], "sticker_printed_at": p["verified_at"] + timedelta(days=2)}
        for p in payee_rows
        if p["verified_at"] is not None and rng.random() < 0.9
    ]
    db.session.execute(update(Stall), printed)
    for code in FEES_CASHLESS:
        by_code[code].fees_cashless_since = date(2024, 1, 1) + timedelta(days=rng.randrange(300))
    for code, note in ECOMMERCE.items():
        by_code[code].ecommerce_listed_since = date(2024, 3, 1) + timedelta(days=rng.randrange(300))
        by_code[code].ecommerce_note = note
    db.session.commit()
    payments = _payments(rng, payee_rows, now)
    rebuild_rollups()  # commits
    fees = seed_fee_bills(by_code, by_name, now)
    fees |= seed_fee_payments(now)
    db.session.commit()
    return {
        "markets": len(markets),
        "stalls": len(stall_ids),
        "merchants": len(merchant_ids),
        "payee_accounts": len(payee_rows),
        "payments": payments,
        "users": len(users),
        "fee_bills": fees["bills"],
        "fee_payments": fees["fee_payments"],
    }


def _payments(rng: random.Random, payee_rows: list[dict], now: datetime) -> int:
    """Eight weeks of received payments to verified stalls, growing week by week as a
    market takes up QR payments: some stalls busy every day, some now and then, many never."""
    rows = []
    for payee in payee_rows:
        if payee["verified_at"] is None:
            continue
        level = rng.choices((0, 0.15, 0.6, 1.5), weights=(35, 30, 20, 15))[0]
        if not level:
            continue
        for days_ago in range(PAYMENT_DAYS):
            growth = 1.0 - days_ago / (PAYMENT_DAYS * 1.25)
            for _ in range(_poisson(rng, level * growth)):
                at = now - timedelta(days=days_ago, seconds=rng.randrange(6 * 3600, 18 * 3600))
                at = min(at, now)
                amount = rng.choice(
                    (
                        10_000,
                        15_000,
                        20_000,
                        25_000,
                        30_000,
                        45_000,
                        50_000,
                        75_000,
                        100_000,
                        150_000,
                        200_000,
                    )
                )
                rows.append(
                    {
                        "provider": "sepay",
                        "event_id": f"demo-{len(rows) + 1}",
                        "raw_body": "{}",
                        "received_at": at,
                        "transaction_at": at,
                        "account_number": payee["account_number"],
                        "amount": amount,
                        "direction": "in",
                        "content": "chuyen tien",
                        "reference_code": "",
                        "stall_id": payee["stall_id"],
                        "match_status": "matched",
                    }
                )
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(PaymentNotification), rows[start : start + 5000])
    db.session.commit()
    return len(rows)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def by_code_first_merchant(stall_specs: list[dict], by_code: dict[str, Market]) -> int:
    """Index (into the merchants inserted) of the merchant of Chợ Đồng Quang's first stall."""
    market_id = by_code["TN-DONGQUANG"].id
    index = 0
    for spec in stall_specs:
        if spec["merchant_id"] is not None:
            if spec["market_id"] == market_id:
                return index
            index += 1
    raise LookupError("no merchant in TN-DONGQUANG")


def _users(by_code: dict[str, Market], merchant_id: int) -> list[User]:
    scopes = {
        "quanly": ["TN-CHOTHAI", "TN-DONGQUANG", "TN-TUCDUYEN"],
        "quanly2": ["SC-TRUNGTAM", "PY-BAHANG"],
        "hotro": ["TN-DONGQUANG"],
    }
    names = {
        "admin": "Đỗ Minh Tuấn",
        "quanly": "Nguyễn Thị Thu Hà",
        "quanly2": "Lê Văn Hải",
        "hotro": "Hoàng Thị Mai",
        "tieuthuong": "Tiểu thương demo",
    }
    users = []
    for username, role, _note in DEMO_USERS:
        user = User(
            username=username,
            full_name=names[username],
            role=role,
            markets=[by_code[c] for c in scopes.get(username, [])],
            merchant_id=merchant_id if role == "merchant" else None,
        )
        user.set_password(DEMO_PASSWORD)
        users.append(user)
    return users


# --- market fees ----------------------------------------------------------------------------

#: (code, name, kind, unit, rate by goods category ("" for every other)) of every live market.
DEMO_FEES = (
    (
        "THUE",
        "Tiền thuê sạp",
        "rent_category",
        "",
        {"": 450_000, "rau-cu": 300_000, "hoa-qua": 300_000, "thit": 600_000, "thuy-san": 600_000},
    ),
    ("VESINH", "Phí vệ sinh", "fixed", "", {"": 60_000}),
    ("BAOVE", "Phí bảo vệ", "fixed", "", {"": 30_000}),
    ("DIEN", "Tiền điện", "metered", "kWh", {"": 3_500}),
)
FEE_MONTHS = 3


def fee_periods(now: datetime, months: int = FEE_MONTHS) -> list[Period]:
    """The ``months`` billing months before ``now``'s month, oldest first (closed periods)."""
    periods = [month_of(now.date()).previous()]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    return periods


def seed_fee_bills(
    by_code: dict[str, Market], by_name: dict[str, User], now: datetime
) -> dict[str, int]:
    """Every live market's board account (entered by its staff, verified by someone else),
    its fees with rates from a year back (hygiene up by 10,000 from the last month: a dated
    rate), a meter reading per active stall and month, and bills for the last three closed
    months. Payments are the money side's to add (they call this, then pay most bills).
    Deterministic; stages and flushes, the caller commits."""
    rng = random.Random(SEED + 19)
    periods = fee_periods(now)
    first = periods[0].start.replace(year=periods[0].start.year - 1)
    admin = by_name["admin"]
    live = [by_code[code] for code, *_rest in LIVE_MARKETS]
    managers: dict[int, User] = {}
    for user in by_name.values():
        for market in user.markets if user.role in ("manager", "helper") else []:
            managers.setdefault(market.id, user)
    accounts, types = [], []
    for market in live:
        entered = managers.get(market.id)
        accounts.append(
            FeeAccount(
                market_id=market.id,
                bank_bin=rng.choice(("970415", "970405", "970418", "970436")),
                account_number=f"11{rng.randrange(10**9, 10**10)}",
                holder_name="BAN QUAN LY " + transliterate(market.name).upper(),
                is_current=True,
                created_at=now - timedelta(days=400),
                created_by_id=entered.id if entered else None,
                verified_at=now - timedelta(days=399),
                verified_by_id=admin.id,
            )
        )
        for position, (code, name, kind, unit, _rates) in enumerate(DEMO_FEES, start=1):
            types.append(
                FeeType(
                    market_id=market.id,
                    code=code,
                    name=name,
                    kind=kind,
                    cycle="monthly",
                    unit=unit,
                    active=True,
                    position=position,
                    created_at=now - timedelta(days=400),
                )
            )
    db.session.add_all(accounts + types)
    db.session.flush()
    rate_rows, meters = [], {}
    for fee_type in types:
        rates = dict(DEMO_FEES[fee_type.position - 1][4])
        for category, amount in rates.items():
            rate_rows.append(
                {
                    "fee_type_id": fee_type.id,
                    "category": category,
                    "valid_from": first,
                    "amount": amount,
                    "created_at": now - timedelta(days=400),
                }
            )
        if fee_type.code == "VESINH":
            rate_rows.append(
                {
                    "fee_type_id": fee_type.id,
                    "category": "",
                    "valid_from": periods[-1].start,
                    "amount": rates[""] + 10_000,
                    "created_at": now - timedelta(days=60),
                }
            )
        if fee_type.kind == "metered":
            meters[fee_type.market_id] = fee_type.id
    db.session.execute(insert(FeeRate), rate_rows)
    stalls = db.session.execute(
        select(Stall.id, Stall.market_id)
        .where(Stall.market_id.in_(list(meters)), Stall.status == "active")
        .order_by(Stall.id)
    ).all()
    readings = []
    for stall_id, market_id in stalls:
        index = rng.randrange(500, 20_000)
        for period in periods:
            used = rng.randrange(15, 160)
            readings.append(
                {
                    "stall_id": stall_id,
                    "fee_type_id": meters[market_id],
                    "period": period.key,
                    "start_reading": index,
                    "end_reading": index + used,
                    "recorded_at": datetime.combine(period.end, datetime.min.time(), UTC),
                }
            )
            index += used
    db.session.execute(insert(MeterReading), readings)
    bills = 0
    for period in periods:
        issued = datetime.combine(period.start, datetime.min.time(), UTC) + timedelta(hours=1)
        for market in live:
            bills += fee_services.stage_bills(None, market, period, now=issued).created
    db.session.flush()
    return {"bills": bills, "readings": len(readings), "fee_types": len(types)}


def seed_fee_payments(now: datetime) -> dict[str, int]:
    """Payments of the demo bills (after :func:`seed_fee_bills`): most by QR transfer (a
    reconciled bank notification each), some in cash, some partly paid, some not at all
    (arrears, more of them in the last month), each payment with its numbered receipt; and a
    few transfers into board accounts that name no bill, for the unmatched list. Markets that
    collect cashless (``FEES_CASHLESS``) take cash for a few percent of the amount, the others
    for a fifth to a third, so the dashboard shows ``fees_cashless`` measured, met and not.
    Bulk statements; deterministic; the caller commits."""
    rng = random.Random(SEED + 20)
    accounts = dict(
        db.session.execute(
            select(FeeAccount.market_id, FeeAccount.account_number).where(FeeAccount.is_current)
        ).all()
    )
    codes = dict(db.session.execute(select(Market.id, Market.code)).all())
    cash_share = {
        market_id: 0.03 if codes[market_id] in FEES_CASHLESS else 0.2 + 0.15 * rng.random()
        for market_id in accounts
    }
    bills = db.session.execute(
        select(
            FeeBill.id,
            FeeBill.market_id,
            FeeBill.total,
            FeeBill.due_date,
            FeeBill.period,
            FeeBill.reference,
            FeeBill.number,
            FeeBill.merchant_name,
        )
        .where(FeeBill.market_id.in_(list(accounts)))
        .order_by(FeeBill.id)
    ).all()
    last = max((b.period for b in bills), default="")
    # The demo merchant (tieuthuong) has paid their earlier bills by QR and has the last one
    # still to pay: their bill page shows receipts and a QR to pay.
    merchant_id = db.session.scalar(select(User.merchant_id).where(User.username == "tieuthuong"))
    own = set(db.session.scalars(select(Stall.id).where(Stall.merchant_id == merchant_id)))
    own_bills = set(
        db.session.scalars(select(FeeBill.id).where(FeeBill.stall_id.in_(list(own) or [-1])))
    )
    notifications, payments, status = [], [], {}
    for bill in bills:
        roll = rng.random()
        if bill.id in own_bills:
            roll = 1.0 if bill.period != last else 0.0
        if bill.total <= 0 or roll < (0.12 if bill.period == last else 0.03):
            continue  # in arrears
        amount = bill.total if roll > 0.08 else bill.total // 2
        status[bill.id] = "paid" if amount >= bill.total else "partial"
        late = rng.random() < 0.1
        paid_at = datetime.combine(bill.due_date, datetime.min.time(), UTC) + timedelta(
            days=rng.randrange(1, 20) if late else -rng.randrange(0, 9),
            hours=1 + rng.randrange(10),
            minutes=rng.randrange(60),
        )
        if paid_at > now:
            paid_at = now - timedelta(hours=1)
        method = "cash" if rng.random() < cash_share[bill.market_id] else "transfer"
        if bill.id in own_bills:
            method = "transfer"
        payment = {
            "market_id": bill.market_id,
            "bill_id": bill.id,
            "amount": amount,
            "method": method,
            "paid_at": paid_at,
            "receipt_number": f"Q{rng.randrange(1, 40)}/{rng.randrange(1000, 9999)}"
            if method == "cash"
            else None,
            "created_at": paid_at,
            "event_id": f"FEE-{bill.id}",
        }
        payments.append(payment)
        if method == "transfer":
            notifications.append(
                _fee_notification(
                    payment["event_id"],
                    accounts[bill.market_id],
                    amount,
                    paid_at,
                    f"{transliterate(bill.merchant_name).upper()} chuyen tien phi {bill.reference}",
                    match_status="ignored",
                    note=f"fee:{bill.number}",
                )
            )
    for market_id, account in accounts.items():
        for n in range(3):
            at = now - timedelta(days=rng.randrange(1, 20), hours=rng.randrange(12))
            notifications.append(
                _fee_notification(
                    f"FEE-UNMATCHED-{market_id}-{n}",
                    account,
                    rng.choice((90_000, 150_000, 540_000)),
                    at,
                    "chuyen tien phi cho",
                    match_status="unmatched",
                )
            )
    if notifications:
        db.session.execute(insert(PaymentNotification), notifications)
    ids = dict(
        db.session.execute(
            select(PaymentNotification.event_id, PaymentNotification.id).where(
                PaymentNotification.event_id.like("FEE-%")
            )
        ).all()
    )
    for payment in payments:
        payment["notification_id"] = ids.get(payment.pop("event_id"))
    if payments:
        db.session.execute(insert(FeePayment), payments)
    rows = db.session.execute(
        select(FeePayment.id, FeePayment.market_id, FeePayment.paid_at).order_by(
            FeePayment.paid_at, FeePayment.id
        )
    ).all()
    seqs: dict[tuple[int, int], int] = {}
    receipts = []
    for payment_id, market_id, paid_at in rows:
        year = to_local(paid_at).year
        seq = seqs[(market_id, year)] = seqs.get((market_id, year), 0) + 1
        receipts.append(
            {
                "market_id": market_id,
                "payment_id": payment_id,
                "year": year,
                "seq": seq,
                "number": receipt_number(year, seq),
                "issued_at": paid_at,
            }
        )
    if receipts:
        db.session.execute(insert(FeeReceipt), receipts)
    # One payment per bill here, so its status follows from that payment alone (the rule of
    # market.fees.services.stage_bill_status, without a query per bill).
    if status:
        db.session.execute(
            update(FeeBill), [{"id": bill_id, "status": value} for bill_id, value in status.items()]
        )
    db.session.flush()
    return {"fee_payments": len(payments), "fee_receipts": len(receipts)}


def _fee_notification(
    event_id: str,
    account: str,
    amount: int,
    at: datetime,
    content: str,
    *,
    match_status: str,
    note: str | None = None,
) -> dict:
    return {
        "provider": "sepay",
        "event_id": event_id,
        "raw_body": "{}",
        "received_at": at,
        "transaction_at": at,
        "account_number": account,
        "amount": amount,
        "direction": "in",
        "content": content,
        "reference_code": "FT" + event_id.replace("-", ""),
        "payer_name": "",
        "match_status": match_status,
        "reviewed_at": at if note else None,
        "review_note": note,
    }
