"""Forms of fee payments: cash on a bill, a bank statement's upload, an unmatched transfer
credited to a bill."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import Optional

from market.formfields import Form
from market.payments.forms import amount_validator


class CashForm(Form):
    amount = StringField(_l("Số tiền mặt đã thu (đồng)"), [amount_validator])
    receipt_number = StringField(_l("Số biên lai giấy (nếu có)"))
    paid_at = DateTimeLocalField(
        _l("Thời điểm thu (để trống: bây giờ)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class StatementForm(Form):
    account = SelectField(_l("Tài khoản thu phí"), coerce=int, choices=[])
    file = FileField(_l("Tệp sao kê (.xlsx hoặc .csv tải từ ngân hàng)"))


class StatementApplyForm(Form):
    """The previewed file, sent back to be applied (checked again from scratch)."""

    account = HiddenField()
    filename = HiddenField()
    content = HiddenField()


class AssignToBillForm(Form):
    bill = StringField(_l("Số hóa đơn hoặc mã thanh toán"))
