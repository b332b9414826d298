"""The Thái Nguyên demo data set: deterministic (seeded), loaded in a few seconds.

11 live Chợ 4.0 markets with about 2,100 stalls and merchants, a few dozen markets still
planned or onboarding, real NAPAS BINs with made-up but well-formed account numbers, eight
weeks of received payments, three months of market fee bills, and one login per role.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update

from market.adoption.services import rebuild_rollups
from market.auth.models import User
from market.extensions import db
from market.fees import services as fee_services
from market.fees.models import FeeAccount, FeeRate, FeeType, MeterReading
from market.fees.values import Period, month_of
from market.markets.models import GOODS_CATEGORIES, Market, Stall
from market.merchants.models import Merchant, PayeeAccount
from market.payments.models import PaymentNotification
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
    "Huyện Định Hóa": ["Quán Vuông", "Trung Hội", "Điềm Mặc"],
    "Huyện Đồng Hỷ": ["Trại Cau", "Sông Cầu", "Hóa Thượng", "Khe Mo"],
    "Huyện Võ Nhai": ["Đình Cả", "La Hiên", "Tràng Xá"],
    "Huyện Phú Bình": ["Úc Sơn", "Hương Sơn", "Điềm Thụy", "Kha Sơn"],
}

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
    db.session.commit()
    return {
        "markets": len(markets),
        "stalls": len(stall_ids),
        "merchants": len(merchant_ids),
        "payee_accounts": len(payee_rows),
        "payments": payments,
        "users": len(users),
        "fee_bills": fees["bills"],
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
