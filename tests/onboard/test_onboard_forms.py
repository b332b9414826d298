"""Every form reads its text in Unicode NFC (the shared filter in market.formfields), and the
API's text fields do likewise: decomposed input is stored exactly like composed input."""

import importlib
import inspect
import pkgutil
import unicodedata

import flask_wtf
import wtforms

import market
from market.extensions import db
from market.formfields import Form, PlainForm, nfc
from market.markets.models import Stall


def _form_classes():
    for info in pkgutil.walk_packages(market.__path__, "market."):
        if not info.name.endswith(".forms"):
            continue
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, wtforms.Form) and cls.__module__ == module.__name__:
                yield cls


def test_every_form_of_the_app_derives_from_the_nfc_forms():
    classes = list(_form_classes())
    assert len(classes) > 10
    stray = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, Form | PlainForm)]
    assert stray == []
    assert issubclass(Form, flask_wtf.FlaskForm)  # CSRF kept


def test_the_filter_composes_text_and_leaves_other_values_alone():
    assert nfc("Nguye\u0302\u0303n") == "Nguyễn"
    assert nfc(None) is None and nfc(3) == 3 and nfc("A-01") == "A-01"


def test_a_stall_zone_typed_decomposed_is_stored_composed(world, client, auth):
    auth.login("manager")
    zone = unicodedata.normalize("NFD", "Khu Đông Hưởng")
    assert zone != "Khu Đông Hưởng"
    response = client.post(
        "/markets/TN-A/stalls/A-01/edit",
        data={"code": "A-01", "zone": zone, "category": "rau-cu", "status": "active"},
    )
    assert response.status_code == 302, response.text
    db.session.expire_all()
    assert db.session.get(Stall, world.stall_a.id).zone == "Khu Đông Hưởng"


def test_api_text_fields_are_read_in_nfc(app):
    from market.api.schemas import Text

    assert Text().deserialize(unicodedata.normalize("NFD", " Chợ  Đồng Quang ")) == "Chợ Đồng Quang"


def test_the_bank_picker_lists_the_big_banks_first_with_search_names(world, client, auth):
    auth.login("manager")
    page = client.get("/markets/TN-A/stalls/A-01/payee").text
    assert "data-bank-picker" in page and "bankpicker.js" in page
    options = page.split('name="bank_bin"', 1)[1].split("</select>", 1)[0]
    order = [chunk.split('"', 1)[0] for chunk in options.split('value="')[1:]]
    assert order[:4] == ["", "970436", "970405", "970418"]  # Vietcombank, Agribank, BIDV
    assert 'data-search="' in options and "ngoaithuong" in options


def test_the_payee_form_takes_a_bank_posted_without_javascript(world, client, auth):
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/A-01/payee",
        data={
            "bank_bin": "970405",
            "service": "account",
            "account_number": "1500205123456",
            "holder_name": unicodedata.normalize("NFD", "Nguyễn Thị Hoa"),
            "expected_current_id": str(world.payee_a.id),
            "action": "save",
        },
    )
    assert response.status_code == 302, response.text


def test_an_api_value_sent_decomposed_is_checked_composed(world, api):
    from market.markets.models import DISTRICTS

    district = next(d for d in DISTRICTS if not d.isascii() and d != world.market_a.district)
    response = api.patch(
        "/markets/TN-A",
        json={
            "district": unicodedata.normalize("NFD", district),
            "name": unicodedata.normalize("NFD", "Chợ Mới"),
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["district"] == district
    assert response.get_json()["name"] == "Chợ Mới"
    found = api.get("/markets", query_string={"q": unicodedata.normalize("NFD", "Chợ Mới")})
    assert [m["code"] for m in found.get_json()["items"]] == ["TN-A"]
