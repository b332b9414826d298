"""HTML forms of the fees domain. Money fields take whole dong, with or without dots."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from market.fees.models import CYCLES, FEE_KINDS
from market.fees.values import InvalidPeriod, parse_period
from market.formfields import choices
from market.markets.models import GOODS_CATEGORIES
from market.merchants import values
from market.merchants.forms import bank_choices, normalized


def parse_dong(raw: str | None, *, allow_zero: bool = False) -> int:
    """'1.250.000', '1250000 đ' -> 1250000; whole dong, up to 10^12."""
    text = re.sub(r"[\s.,]", "", (raw or "").strip().removesuffix("đ").removesuffix("₫"))
    if not (text.isascii() and text.isdigit() and len(text) <= 13):
        raise ValueError(_("“%(v)s” phải là số đồng nguyên, ví dụ 150.000.", v=raw or ""))
    amount = int(text)
    if amount > 10**12 or (amount == 0 and not allow_zero):
        raise ValueError(_("“%(v)s” phải là số đồng nguyên, ví dụ 150.000.", v=raw or ""))
    return amount


class DongField(StringField):
    """Whole dong typed as people write it; ``data`` is the int (None when not valid)."""

    def __init__(self, *args, allow_zero: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero
        self.amount: int | None = None

    def pre_validate(self, form) -> None:
        self.amount = None
        try:
            self.amount = parse_dong(self.data, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class PeriodField(StringField):
    """A billing period as typed: YYYY-MM (a month) or YYYY-MM-DD (a day)."""

    def pre_validate(self, form) -> None:
        try:
            self.period = parse_period(self.data or "")
        except InvalidPeriod as exc:
            raise ValidationError(
                _(
                    "Kỳ “%(v)s” phải có dạng NNNN-TT (một tháng) hoặc NNNN-TT-NN (một ngày).",
                    v=self.data or "",
                )
            ) from exc


class BoardAccountForm(FlaskForm):
    bank_bin = SelectField(
        _l("Ngân hàng"), validators=[InputRequired(_l("Vui lòng chọn ngân hàng."))]
    )
    account_number = StringField(_l("Số tài khoản"))
    holder_name = StringField(
        _l("Tên chủ tài khoản (như ngân hàng hiển thị)"),
        [normalized(values.normalize_holder_name)],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bank_bin.choices = bank_choices()

    def validate_bank_bin(self, field) -> None:
        try:
            values.resolve_bank(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_account_number(self, field) -> None:
        try:
            field.data = values.normalize_account_number(field.data, "account")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _category_choices():
    return choices(
        [("", _l("Mọi ngành hàng"))] + [(key, label) for key, label in GOODS_CATEGORIES.items()]
    )


def _month_start(field) -> date:
    try:
        period = parse_period(field.data or "")
    except InvalidPeriod as exc:
        raise ValidationError(
            _(
                "Kỳ “%(v)s” phải có dạng NNNN-TT (một tháng) hoặc NNNN-TT-NN (một ngày).",
                v=field.data or "",
            )
        ) from exc
    return period.start


class FeeTypeForm(FlaskForm):
    code = StringField(
        _l("Mã khoản phí"),
        [InputRequired(_l("Vui lòng nhập mã.")), Length(max=20)],
        description=_l("Chữ in hoa, số, gạch ngang, ví dụ VESINH"),
    )
    name = StringField(
        _l("Tên khoản phí"), [InputRequired(_l("Vui lòng nhập tên.")), Length(max=80)]
    )
    kind = SelectField(_l("Cách tính"))
    cycle = SelectField(_l("Chu kỳ"), default="monthly")
    unit = StringField(_l("Đơn vị (kWh, m³… cho công tơ)"), [Length(max=10)])
    amount = DongField(_l("Mức phí (đồng)"), allow_zero=True)
    valid_from = StringField(_l("Áp dụng từ kỳ (NNNN-TT)"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(list(FEE_KINDS.items()))
        self.cycle.choices = choices(list(CYCLES.items()))

    def validate_code(self, field) -> None:
        field.data = (field.data or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,19}", field.data):
            raise ValidationError(_("Mã chỉ gồm chữ in hoa không dấu, chữ số và gạch ngang."))

    def validate_valid_from(self, field) -> None:
        self.valid_from_date = _month_start(field)


class RateForm(FlaskForm):
    amount = DongField(_l("Mức phí mới (đồng)"), allow_zero=True)
    valid_from = StringField(_l("Áp dụng từ kỳ (NNNN-TT)"))
    category = SelectField(_l("Ngành hàng"), default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = _category_choices()

    def validate_valid_from(self, field) -> None:
        self.valid_from_date = _month_start(field)


class BillingForm(FlaskForm):
    period = PeriodField(
        _l("Kỳ lập hóa đơn"), description=_l("NNNN-TT cho phí tháng, NNNN-TT-NN cho phí ngày")
    )


class CreditNoteForm(FlaskForm):
    amount = DongField(_l("Số tiền giảm (đồng)"))
    reason = StringField(_l("Lý do"), [InputRequired(_l("Vui lòng ghi lý do.")), Length(max=300)])


class ReadingsForm(FlaskForm):
    """The meter walk: the CSRF token; the readings are ``end-<stall id>`` (and, for a new
    meter, ``start-<stall id>``) inputs, read by the view (blank ones are skipped)."""


class ChargeForm(FlaskForm):
    stall = StringField(
        _l("Sạp (mã)"), [InputRequired(_l("Vui lòng nhập mã sạp.")), Length(max=20)]
    )
    period = PeriodField(_l("Tính vào hóa đơn tháng (NNNN-TT)"))
    amount = DongField(_l("Số tiền (đồng)"))
    note = StringField(_l("Ghi chú"), [Length(max=200)])


class AreasForm(FlaskForm):
    """The CSRF token; the areas are ``area-<stall id>`` inputs in m², read by the view."""
