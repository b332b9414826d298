from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length


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
