"""Goods categories and stall statuses are shown in the reader's language, and a file filled in
with the Vietnamese labels imports whatever language the importer reads."""

import io

from tests.registry.test_registry_import import HEADER


def test_goods_categories_are_shown_in_the_readers_language(world, client, auth):
    auth.login("manager")
    page = client.get("/markets/TN-A/stalls/A-01").text
    assert "Rau củ" in page
    client.get("/lang/en")
    page = client.get("/markets/TN-A/stalls/A-01").text
    assert "Vegetables" in page and "Rau củ" not in page
    form = client.get("/markets/TN-A/stalls/A-01/edit").text
    assert '<option selected value="rau-cu">Vegetables</option>' in form
    assert "Thịt" not in form and "Meat" in form


def test_bank_choice_placeholder_is_translated(world, client, auth):
    auth.login("manager")
    assert "— Chọn ngân hàng —" in client.get("/markets/TN-A/stalls/A-01/payee").text
    client.get("/lang/en")
    page = client.get("/markets/TN-A/stalls/A-01/payee").text
    assert "— Choose a bank —" in page and "Chọn ngân hàng" not in page


def test_an_english_reader_can_import_a_file_filled_in_with_vietnamese_labels(world, client, auth):
    auth.login("manager")
    client.get("/lang/en")
    # The file's own words (the template's language) work whatever the reader's language.
    content = HEADER + '\nC-07,Khu C,"Cá, thủy sản",Đang kinh doanh,,,,,,,,\n'
    response = client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(content.encode()), "vi.csv")},
        content_type="multipart/form-data",
    )
    assert "Confirm import" in response.text, response.text
