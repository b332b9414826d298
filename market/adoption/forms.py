"""The manager's declaration of the two yes/no Chợ 4.0 criteria, with their dates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from market.adoption.services import ECOMMERCE_NOTE_MAX
from market.formfields import Form, choices
from market.markets.models import FORMER_PROVINCES


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


class TargetForm(Form):
    """A dated target of the province: how many Chợ 4.0 markets, by when, from which plan."""

    markets = IntegerField(
        _l("Số chợ Chợ 4.0"),
        [InputRequired(_l("Vui lòng nhập số chợ.")), NumberRange(1, 100_000)],
    )
    deadline = DateField(
        _l("Hạn (đến hết ngày)"), [InputRequired(_l("Vui lòng nhập hạn."))], format="%Y-%m-%d"
    )
    title = StringField(
        _l("Theo văn bản"),
        [InputRequired(_l("Vui lòng ghi mục tiêu theo văn bản nào.")), Length(max=200)],
    )
    former_province = SelectField(
        _l("Tính các chợ của"),
        choices=choices(
            [("", _l("cả tỉnh hiện nay"))]
            + [(p, _l("tỉnh %(p)s cũ", p=p)) for p in FORMER_PROVINCES]
        ),
        default="",
    )
