"""The arrears as a table for a spreadsheet (CSV or XLSX through market.spreadsheets)."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from market.fees.money.queries import Arrears


def arrears_rows(report: Arrears) -> Iterator[list]:
    """One row per overdue bill, stall by stall (largest debt first), amounts as numbers."""
    yield [
        _("Mã sạp"),
        _("Tiểu thương"),
        _("Hóa đơn số"),
        _("Kỳ"),
        _("Hạn nộp"),
        _("Số ngày quá hạn"),
        _("Nhóm tuổi nợ (ngày)"),
        _("Còn nợ (đồng)"),
        _("Mã thanh toán"),
    ]
    for stall in report.stalls:
        for bill in stall.bills:
            yield [
                stall.stall_code,
                stall.merchant_name,
                bill.number,
                bill.period,
                bill.due_date,
                bill.days,
                bill.bucket,
                bill.outstanding,
                bill.reference,
            ]
