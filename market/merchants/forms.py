from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, ValidationError

from market.formfields import Form, choices
from market.merchants import values
from market.vietqr import bank_search_text, banks_by_use


def normalized(func: Callable[[str], object]):
    """A WTForms validator that stores the normal form or shows the rule's message."""

    def validate(form, field) -> None:
        try:
            field.data = func(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return validate


class MerchantForm(Form):
    full_name = StringField(_l("Họ tên tiểu thương"), [normalized(values.normalize_full_name)])
    phone = StringField(_l("Số điện thoại di động"), [normalized(values.normalize_phone)])
    tax_code = StringField(_l("Mã số thuế (nếu có)"), [normalized(values.normalize_tax_code)])
    consent = BooleanField(_l("Tiểu thương đồng ý tham gia và cho phép lưu thông tin"))


def bank_choices() -> list[SelectChoice]:
    """Every bank, the most used first; each option carries the folded names a search box
    matches typing against (static/bankpicker.js)."""
    return [
        SelectChoice("", _l("— Chọn ngân hàng —")),
        *(
            SelectChoice(
                bank.bin,
                f"{bank.short_name} — {bank.name}",
                render_kw={"data-search": bank_search_text(bank)},
            )
            for bank in banks_by_use()
        ),
    ]


class PayeeForm(Form):
    bank_bin = SelectField(
        _l("Ngân hàng"),
        validators=[InputRequired(_l("Vui lòng chọn ngân hàng."))],
        render_kw={"data-bank-picker": ""},
    )
    service = RadioField(
        _l("Loại"),
        choices=choices([("account", _l("Số tài khoản")), ("card", _l("Số thẻ"))]),
        default="account",
    )
    account_number = StringField(_l("Số tài khoản / số thẻ"))
    holder_name = StringField(
        _l("Tên chủ tài khoản (như ngân hàng hiển thị)"),
        [normalized(values.normalize_holder_name)],
    )
    expected_current_id = HiddenField()

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
            field.data = values.normalize_account_number(field.data, self.service.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def expected_id(self) -> int | None:
        raw = (self.expected_current_id.data or "").strip()
        # Only compared with the current payee's id: anything but a database id matches none.
        if raw.isascii() and raw.isdigit() and len(raw) <= 10:
            return int(raw)
        return None


class PayeeIdsField(Field):
    """The payee ids of the rows ticked on the pending-changes page (checkboxes of one name)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        for raw in valuelist:
            # Ids are 32-bit database integers: anything else names no account.
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 0 < int(raw) < 2**31:
                raise ValueError(_("“%(v)s” không phải mã tài khoản.", v=raw[:20]))
            self.data.append(int(raw))

    def _value(self) -> str:
        return ""


class BulkVerifyForm(Form):
    payee = PayeeIdsField(_l("Tài khoản cần xác minh"), default=list)

    def validate_payee(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Chọn ít nhất một tài khoản để xác minh."))
