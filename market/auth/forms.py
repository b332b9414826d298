from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from market.formfields import choices


class LoginForm(FlaskForm):
    username = StringField(
        _l("Tên đăng nhập"), [InputRequired(_l("Vui lòng nhập tên đăng nhập.")), Length(max=60)]
    )
    password = PasswordField(
        _l("Mật khẩu"), [InputRequired(_l("Vui lòng nhập mật khẩu.")), Length(max=200)]
    )
    next = HiddenField()


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Tên mã (để bạn nhận ra, ví dụ: bảng tính báo cáo)"),
        [InputRequired(_l("Vui lòng đặt tên cho mã truy cập.")), Length(max=60)],
    )


class PreferencesForm(FlaskForm):
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


class LargeTextForm(FlaskForm):
    """The one-tap "large text" switch in the top bar."""

    large_text = HiddenField(validators=[AnyOf(["0", "1"])])
    next = HiddenField()
