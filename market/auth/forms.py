from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import AnyOf, InputRequired, Length

from market.formfields import Form, choices


class LoginForm(Form):
    username = StringField(
        _l("Tên đăng nhập"), [InputRequired(_l("Vui lòng nhập tên đăng nhập.")), Length(max=60)]
    )
    password = PasswordField(
        _l("Mật khẩu"), [InputRequired(_l("Vui lòng nhập mật khẩu.")), Length(max=200)]
    )
    next = HiddenField()


class ApiTokenForm(Form):
    name = StringField(
        _l("Tên mã (để bạn nhận ra, ví dụ: bảng tính báo cáo)"),
        [InputRequired(_l("Vui lòng đặt tên cho mã truy cập.")), Length(max=60)],
    )


class PreferencesForm(Form):
    """How pages look on this device (and for this user, when logged in)."""

    locale = RadioField(
        _l("Ngôn ngữ / Language"),
        choices=choices([("vi", "Tiếng Việt"), ("en", "English")]),
        validators=[InputRequired(_l("Vui lòng chọn ngôn ngữ."))],
    )
    text_size = RadioField(
        _l("Cỡ chữ"),
        choices=choices([("normal", _l("Chữ thường")), ("large", _l("Chữ to (dễ đọc hơn)"))]),
        validators=[InputRequired(_l("Vui lòng chọn cỡ chữ."))],
    )
    next = HiddenField()


class LargeTextForm(Form):
    """The one-tap "large text" switch in the top bar."""

    large_text = HiddenField(validators=[AnyOf(["0", "1"])])
    next = HiddenField()


class NewPasswordForm(Form):
    """A new password, typed twice (the rule itself is checked by the service)."""

    password = PasswordField(
        _l("Mật khẩu mới (ít nhất 8 ký tự)"),
        [InputRequired(_l("Vui lòng đặt mật khẩu.")), Length(max=200)],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        [InputRequired(_l("Vui lòng nhập lại mật khẩu.")), Length(max=200)],
    )


class ActivateForm(NewPasswordForm):
    code = StringField(
        _l("Mã kích hoạt (8 số, trên phiếu chào mừng)"),
        [InputRequired(_l("Vui lòng nhập mã kích hoạt.")), Length(max=20)],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Mật khẩu hiện tại"),
        [InputRequired(_l("Vui lòng nhập mật khẩu hiện tại.")), Length(max=200)],
    )


class StaffForm(Form):
    """A staff login: the province picks any role and market, a manager only helpers of
    their own markets (the choices are set by the view, the rule by the service)."""

    username = StringField(
        _l("Tên đăng nhập"), [InputRequired(_l("Vui lòng nhập tên đăng nhập.")), Length(max=60)]
    )
    full_name = StringField(
        _l("Họ tên"), [InputRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)]
    )
    role = SelectField(_l("Vai trò"), validators=[InputRequired(_l("Vui lòng chọn vai trò."))])
    markets = SelectMultipleField(_l("Chợ phụ trách"), coerce=int, validate_choice=False)


class StaffEditForm(StaffForm):
    username = None  # a login's name does not change


class ConfirmForm(Form):
    """A button that changes something: the form carries the CSRF token only."""
