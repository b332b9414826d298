from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from market.formfields import Form


class StickerAuditForm(Form):
    photo = FileField(
        _l("Ảnh chụp tem QR của sạp"),
        validators=[FileRequired(_l("Vui lòng chụp hoặc chọn ảnh tem QR."))],
    )
