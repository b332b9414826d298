from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from market.formfields import Form, choices
from market.markets.models import DISTRICTS, FORMER_PROVINCES, GOODS_CATEGORIES

MARKET_STATUS_LABELS = {
    "planned": _l("Dự kiến"),
    "onboarding": _l("Đang triển khai"),
    "live": _l("Đã hoạt động"),
}
STALL_STATUS_LABELS = {
    "active": _l("Đang kinh doanh"),
    "vacant": _l("Còn trống"),
    "closed": _l("Đã đóng"),
}
_CODE = re.compile(r"[A-Z0-9][A-Z0-9\-]{0,19}")


def normalize_code(raw: str | None) -> str:
    return re.sub(r"\s+", "", (raw or "")).upper()


def check_code(field, what: str) -> None:
    field.data = normalize_code(field.data)
    if not _CODE.fullmatch(field.data):
        raise ValidationError(
            _l(
                "%(what)s chỉ gồm chữ in hoa, chữ số và dấu gạch ngang (tối đa 20 ký tự), ví dụ A-12.",
                what=what,
            )
        )


class MarketForm(Form):
    code = StringField(_l("Mã chợ"))
    name = StringField(
        _l("Tên chợ"),
        [InputRequired(_l("Vui lòng nhập tên chợ.")), Length(max=120)],
    )
    # Where the market is today; the choices are the loaded units (set by the view).
    admin_unit_id = SelectField(
        _l("Xã / phường"),
        coerce=lambda v: int(v) if v not in (None, "", "None") else None,
        validators=[Optional()],
    )
    district = SelectField(
        _l("Huyện cũ (trước 1/7/2025)"),
        choices=choices([("", "—")] + [(d, d) for d in DISTRICTS]),
        validators=[Optional()],
    )
    commune = StringField(_l("Xã / phường cũ"), [Optional(), Length(max=80)])
    former_province = SelectField(
        _l("Tỉnh cũ"), choices=choices([(p, p) for p in FORMER_PROVINCES]), default="Thái Nguyên"
    )
    address = StringField(_l("Địa chỉ"), [Optional(), Length(max=200)])
    status = SelectField(_l("Trạng thái"), choices=choices(MARKET_STATUS_LABELS.items()))
    launch_date = DateField(
        _l("Ngày bắt đầu Chợ 4.0"),
        [Optional()],
        format="%Y-%m-%d",
    )

    def validate_code(self, field) -> None:
        check_code(field, _l("Mã chợ"))


class StallForm(Form):
    code = StringField(_l("Mã sạp"))
    zone = StringField(_l("Khu / dãy"), [Optional(), Length(max=40)])
    category = SelectField(_l("Ngành hàng"), choices=choices(GOODS_CATEGORIES.items()))
    status = SelectField(_l("Trạng thái"), choices=choices(STALL_STATUS_LABELS.items()))

    def validate_code(self, field) -> None:
        check_code(field, _l("Mã sạp"))


class ImportForm(Form):
    file = FileField(
        _l("Tệp CSV hoặc Excel (.xlsx)"),
        validators=[
            FileRequired(_l("Vui lòng chọn tệp.")),
            FileAllowed(["csv", "xlsx"], _l("Chỉ nhận tệp .csv hoặc .xlsx.")),
        ],
    )
