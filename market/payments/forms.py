from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from market.formfields import Form, PlainForm, choices
from market.payments import values


def amount_validator(form, field) -> None:
    """Store the amount in dong, or show the rule the input broke."""
    try:
        field.data = values.parse_amount(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def reference_validator(form, field) -> None:
    """An order reference from a shared link, in its normal form; absent is fine."""
    if not (field.data or "").strip():
        field.data = None
        return
    try:
        field.data = values.parse_reference(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class PayAmountForm(PlainForm):
    """The shopper's amount box: a GET form (works without JavaScript), so no CSRF token.
    ``ref`` is the order reference a merchant's shared link carries (kept as a hidden field)."""

    amount = StringField(_l("Số tiền (đồng)"), [amount_validator])
    ref = StringField(_l("Mã đơn"), [reference_validator])


class CollectForm(Form):
    amount = StringField(_l("Số tiền cần thu (đồng)"), [amount_validator])


class IntegrationForm(Form):
    auth_mode = RadioField(
        _l("Cách xác thực"),
        choices=choices(
            [("hmac", _l("Chữ ký HMAC (khuyến nghị)")), ("apikey", _l("API Key (chỉ SePay)"))]
        ),
        default="hmac",
    )
    secret = PasswordField(_l("Khóa bí mật mới (để trống nếu giữ nguyên)"))
    generate = BooleanField(_l("Tạo khóa bí mật mới ngẫu nhiên"))
    enabled = BooleanField(_l("Đang bật"), default=True)


class IntegrationSettingsForm(Form):
    """One named integration on the admin screen. The secret and the token are write-only:
    never filled in, blank keeps the one set. Provider and name are chosen at creation only
    (the name is in the provider's webhook URL)."""

    provider = SelectField(
        _l("Nhà cung cấp"), choices=choices([("sepay", "SePay"), ("casso", "Casso")])
    )
    name = StringField(_l("Tên (trong địa chỉ webhook; để trống cho tích hợp chính)"))
    auth_mode = RadioField(
        _l("Cách xác thực"),
        choices=choices(
            [("hmac", _l("Chữ ký HMAC (khuyến nghị)")), ("apikey", _l("API Key (chỉ SePay)"))]
        ),
        default="hmac",
    )
    secret = PasswordField(_l("Khóa bí mật mới"))
    generate = BooleanField(_l("Tạo khóa bí mật mới ngẫu nhiên"))
    api_token = PasswordField(_l("API token mới (để đối soát giao dịch)"))
    remove_api_token = BooleanField(_l("Xóa API token"))
    accounts = TextAreaField(_l("Tài khoản được theo dõi (mỗi dòng một số tài khoản)"))
    enabled = BooleanField(_l("Đang bật"), default=True)


class AssignPaymentForm(Form):
    """Credit an unmatched payment to a stall of one of the reviewer's markets."""

    market_code = SelectField(_l("Chợ"), choices=[])
    stall_code = StringField(_l("Mã sạp"))
    note = StringField(_l("Ghi chú (không bắt buộc)"))


class NotASaleForm(Form):
    reason = StringField(_l("Lý do không phải tiền bán hàng"))
