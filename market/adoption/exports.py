"""CSV and XLSX files of the adoption figures, each stamped with when it was computed.

The CSV is the main table (one row per market, and for a dashboard a last row of totals);
every row carries ``computed_at`` in Vietnam time with its offset, so a file that travels
alone still says when its figures were true. The XLSX has the same table, a sheet of
information (computed at, window, thresholds, target) and the series (weekly trend; for one
market also per day and month).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from market import spreadsheets
from market.adoption.periods import VIETNAM
from market.adoption.queries import MarketFigures, MarketReport, ProvinceReport, SeriesPoint


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _since(value: date | None) -> str:
    return value.isoformat() if value else ""


def _criterion(row: MarketFigures, key: str) -> str:
    criterion = next(c for c in row.criteria if c.key == key)
    if criterion.met:
        return _("đạt")
    if key == "qr_coverage":
        return _("thiếu %(n)s sạp", n=criterion.shortfall)
    return _("chưa")


def _columns() -> list[tuple[str, Callable[[MarketFigures], Any]]]:
    return [
        (_("Mã chợ"), lambda r: r.code),
        (_("Tên chợ"), lambda r: r.name),
        (_("Huyện / thành phố"), lambda r: r.district),
        (_("Trạng thái"), lambda r: r.status),
        (_("Sạp đang kinh doanh"), lambda r: r.active_stalls),
        (_("Sạp có QR"), lambda r: r.stalls_with_qr),
        (_("% sạp có QR"), lambda r: _share(r.stalls_with_qr, r.active_stalls)),
        (_("Sạp có tem đúng tài khoản"), lambda r: r.stalls_with_current_sticker),
        (_("Sạp nhận tiền trong 30 ngày"), lambda r: r.paying_stalls),
        (_("% sạp nhận tiền"), lambda r: _share(r.paying_stalls, r.active_stalls)),
        (_("Sạp dùng thường xuyên"), lambda r: r.active_cashless_stalls),
        (_("Giao dịch 30 ngày"), lambda r: r.payments),
        (_("Số tiền 30 ngày (đồng)"), lambda r: r.amount),
        (_("Tem đã kiểm tra"), lambda r: r.audited_stalls),
        (_("Tem kiểm tra lỗi"), lambda r: r.failed_audits),
        (_("Tiểu thương có QR"), lambda r: r.merchants_onboarded),
        (_("Thu phí không dùng tiền mặt từ"), lambda r: _since(r.fees_cashless_since)),
        (_("Sản phẩm trên sàn TMĐT từ"), lambda r: _since(r.ecommerce_listed_since)),
        (_("Ghi chú TMĐT"), lambda r: r.ecommerce_note or ""),
        (_("Tiêu chí QR"), lambda r: _criterion(r, "qr_coverage")),
        (_("Tiêu chí thu phí"), lambda r: _criterion(r, "fees_cashless")),
        (_("Tiêu chí thu phí: đo hay khai báo"), _fees_source),
        (_("Tiêu chí TMĐT"), lambda r: _criterion(r, "ecommerce_listed")),
        (_("Đạt Chợ 4.0"), lambda r: _("có") if r.qualifies else _("không")),
    ]


def _fees_source(row: MarketFigures) -> str:
    """Whether the fee criterion was measured from the fees the market collected here."""
    fees = next((c for c in row.criteria if c.key == "fees_cashless"), None)
    if fees is not None and fees.measured:
        return _("đo từ tiền phí đã thu")
    return _("khai báo")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).isoformat(timespec="seconds")


def market_table(rows: Iterable[MarketFigures], computed_at: datetime) -> list[list[Any]]:
    columns = _columns()
    stamp = _stamp(computed_at)
    table = [[label for label, _get in columns] + [_("Tính lúc")]]
    table += [[get(row) for _label, get in columns] + [stamp] for row in rows]
    return table


def province_table(report: ProvinceReport) -> list[list[Any]]:
    table = market_table(report.markets, report.computed_at)
    t = report.totals
    total = {
        0: _("TỔNG"),
        1: _("%(q)s / %(n)s chợ đạt Chợ 4.0", q=t.qualifying, n=t.markets),
        4: t.active_stalls,
        5: t.stalls_with_qr,
        6: _share(t.stalls_with_qr, t.active_stalls),
        7: t.stalls_with_current_sticker,
        8: t.paying_stalls,
        9: _share(t.paying_stalls, t.active_stalls),
        10: t.active_cashless_stalls,
        11: t.payments,
        12: t.amount,
        13: t.audited_stalls,
        14: t.failed_audits,
        15: t.merchants_onboarded,
    }
    width = len(table[0])
    table.append([total.get(i, "") for i in range(width - 1)] + [_stamp(report.computed_at)])
    return table


def to_csv(table: list[list[Any]]) -> bytes:
    return spreadsheets.to_csv(table)


def province_csv(report: ProvinceReport) -> bytes:
    return to_csv(province_table(report))


def market_csv(report: MarketReport) -> bytes:
    return to_csv(market_table([report.market], report.computed_at))


# --- XLSX ------------------------------------------------------------------------------------


def _info_rows(report: ProvinceReport | MarketReport) -> list[list[Any]]:
    s = report.settings
    local = report.computed_at.astimezone(VIETNAM).replace(tzinfo=None)
    rows = [
        [_("Tính lúc (giờ Việt Nam)"), local],
        [_("Hôm nay"), report.today],
        [_("30 ngày: từ"), report.window.start],
        [_("30 ngày: đến hết"), report.window.last],
        [_("Mục tiêu số chợ 4.0"), s.target_markets],
        [_("Hạn"), s.deadline],
        [_("Tỷ lệ sạp có QR cần đạt"), float(s.qr_share)],
        [_("Giao dịch/30 ngày của sạp dùng thường xuyên"), s.active_min_payments],
        [_("Số tiểu thương cần đưa vào"), s.baseline_merchants],
    ]
    if isinstance(report, ProvinceReport):
        rows.insert(5, [_("Số chợ đạt"), report.totals.qualifying])
        rows.append([_("Tiểu thương có QR (mỗi người một lần)"), report.totals.merchants_onboarded])
    return rows


def _series_rows(points: Iterable[SeriesPoint]) -> list[list[Any]]:
    rows: list[list[Any]] = [[_("Từ ngày"), _("Đến ngày"), _("Giao dịch"), _("Số tiền (đồng)")]]
    rows += [[p.start, p.last, p.payments, p.amount] for p in points]
    return rows


def _week_rows(report: ProvinceReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            _("Tuần ISO"),
            _("Từ ngày"),
            _("Đến ngày"),
            _("Giao dịch"),
            _("Số tiền (đồng)"),
            _("Sạp mới có QR"),
            _("Tổng sạp đã có QR"),
        ]
    ]
    rows += [
        [
            f"{w.iso_year}-W{w.iso_week:02d}",
            w.start,
            w.last,
            w.payments,
            w.amount,
            w.stalls_onboarded,
            w.stalls_onboarded_total,
        ]
        for w in report.weekly
    ]
    return rows


def to_xlsx(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    return spreadsheets.to_xlsx(sheets)


def province_xlsx(report: ProvinceReport) -> bytes:
    return to_xlsx(
        [
            ("Cho", province_table(report)),
            ("Thong tin", _info_rows(report)),
            ("Theo tuan", _week_rows(report)),
        ]
    )


def market_xlsx(report: MarketReport) -> bytes:
    return to_xlsx(
        [
            ("Cho", market_table([report.market], report.computed_at)),
            ("Thong tin", _info_rows(report)),
            ("Theo ngay", _series_rows(report.daily)),
            ("Theo tuan", _series_rows(report.weekly)),
            ("Theo thang", _series_rows(report.monthly)),
        ]
    )
