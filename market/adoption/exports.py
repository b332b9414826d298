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
from market.formatting import number


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _since(value: date | None) -> str:
    return value.isoformat() if value else ""


def _criterion(row: MarketFigures, key: str) -> str:
    criterion = next(c for c in row.criteria if c.key == key)
    if criterion.met:
        return _("đạt")
    if key == "qr_coverage":
        # A market with no active stall has not started: it is not "1 stall short".
        if not row.started:
            return _("chưa bắt đầu")
        return _("thiếu %(n)s sạp", n=number(criterion.shortfall))
    return _("chưa")


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    """(market statuses, Chợ 4.0 stages), translated once per file."""
    from market.adoption.views import stage_labels
    from market.markets.forms import MARKET_STATUS_LABELS

    return {k: str(v) for k, v in MARKET_STATUS_LABELS.items()}, stage_labels()


def _columns() -> list[tuple[str, Callable[[MarketFigures], Any]]]:
    statuses, stages = _labels()
    return [
        (_("Mã chợ"), lambda r: r.code),
        (_("Tên chợ"), lambda r: r.name),
        (_("Xã / phường"), lambda r: r.unit),
        (_("Huyện cũ"), lambda r: r.district),
        (_("Tỉnh cũ"), lambda r: r.former_province),
        (_("Trạng thái"), lambda r: statuses.get(r.status, r.status)),
        (_("Tình trạng Chợ 4.0"), lambda r: stages[r.stage]),
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
        (_("Sạp không có tích hợp theo dõi"), lambda r: r.unwatched_stalls),
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
    # The totals row, by column (the same getters as the markets' rows, on the totals).
    totals = {
        _("Mã chợ"): _("TỔNG"),
        _("Tên chợ"): _(
            "%(q)s / %(n)s chợ đạt Chợ 4.0", q=number(t.qualifying), n=number(t.markets)
        ),
        _("Tình trạng Chợ 4.0"): _("%(n)s chợ chưa bắt đầu", n=number(t.not_started)),
        _("Sạp đang kinh doanh"): t.active_stalls,
        _("Sạp có QR"): t.stalls_with_qr,
        _("% sạp có QR"): _share(t.stalls_with_qr, t.active_stalls),
        _("Sạp có tem đúng tài khoản"): t.stalls_with_current_sticker,
        _("Sạp nhận tiền trong 30 ngày"): t.paying_stalls,
        _("% sạp nhận tiền"): _share(t.paying_stalls, t.active_stalls),
        _("Sạp dùng thường xuyên"): t.active_cashless_stalls,
        _("Giao dịch 30 ngày"): t.payments,
        _("Số tiền 30 ngày (đồng)"): t.amount,
        _("Tem đã kiểm tra"): t.audited_stalls,
        _("Tem kiểm tra lỗi"): t.failed_audits,
        _("Tiểu thương có QR"): t.merchants_onboarded,
        _("Sạp không có tích hợp theo dõi"): t.unwatched_stalls,
    }
    header = table[0]
    table.append([totals.get(label, "") for label in header[:-1]] + [_stamp(report.computed_at)])
    return table


def group_table(report: ProvinceReport, group: str) -> list[list[Any]]:
    """The markets per commune/ward (``unit``) or per former district (``district``)."""
    groups = report.units if group == "unit" else report.districts
    first = _("Xã / phường") if group == "unit" else _("Huyện cũ")
    rows: list[list[Any]] = [
        [
            first,
            _("Số chợ"),
            _("Chợ đạt Chợ 4.0"),
            _("Chợ chưa bắt đầu"),
            _("Sạp đang kinh doanh"),
            _("Sạp có QR"),
            _("Sạp nhận tiền trong 30 ngày"),
        ]
    ]
    rows += [
        [
            g.district or _("Chưa gán xã / phường"),
            g.markets,
            g.qualifying,
            g.not_started,
            g.active_stalls,
            g.stalls_with_qr,
            g.paying_stalls,
        ]
        for g in groups
    ]
    return rows


def target_rows(report: ProvinceReport) -> list[list[Any]]:
    states = {
        "reached": _("đã đạt"),
        "missed": _("chưa đạt, đã quá hạn"),
        "open": _("chưa đạt, còn hạn"),
    }
    rows: list[list[Any]] = [
        [
            _("Mục tiêu"),
            _("Số chợ"),
            _("Hạn"),
            _("Tỉnh cũ"),
            _("Chợ đạt hiện nay"),
            _("Tình trạng"),
            _("Đạt ngày"),
        ]
    ]
    rows += [
        [
            t.title,
            t.markets,
            t.deadline,
            t.former_province or _("cả tỉnh"),
            t.count,
            states[t.state],
            t.reached_on or "",
        ]
        for t in report.targets
    ]
    return rows


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
            ("Muc tieu", target_rows(report)),
            ("Theo xa phuong", group_table(report, "unit")),
            ("Theo huyen cu", group_table(report, "district")),
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
