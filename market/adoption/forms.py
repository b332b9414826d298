"""The manager's declaration of the two yes/no Chợ 4.0 criteria, with their dates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from market.adoption.services import ECOMMERCE_NOTE_MAX
from market.formfields import Form


class CriteriaForm(Form):
    fees_cashless_since = DateField(
        _l("Thu phí chợ (thuê sạp, điện) không dùng tiền mặt từ ngày"),
        [Optional()],
        format="%Y-%m-%d",
    )
    ecommerce_listed_since = DateField(
        _l("Sản phẩm đặc trưng của chợ có trên sàn thương mại điện tử từ ngày"),
        [Optional()],
        format="%Y-%m-%d",
    )
    ecommerce_note = StringField(
        _l("Sàn và đường dẫn sản phẩm"), [Optional(), Length(max=ECOMMERCE_NOTE_MAX)]
    )
