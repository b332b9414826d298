from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class StickerAuditForm(FlaskForm):
    photo = FileField(
        _l("Ảnh chụp tem QR của sạp"),
        validators=[FileRequired(_l("Vui lòng chụp hoặc chọn ảnh tem QR."))],
    )
