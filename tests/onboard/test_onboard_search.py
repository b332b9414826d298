"""Search ignores diacritics and case, over merchant names and stall codes, including stalls
whose merchant has no payee account yet, on SQLite and PostgreSQL alike."""

import unicodedata

import pytest
from sqlalchemy import literal, select

from market.extensions import db
from market.markets import queries as market_queries
from market.markets.models import Stall
from market.merchants import queries as merchant_queries
from market.merchants.models import Merchant
from market.textsearch import fold_text, folded

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


@pytest.fixture
def no_payee(world):
    """A stall whose merchant has no payee account yet."""
    merchant = Merchant(full_name="Đặng Thị Ánh", phone="0912000222", consent=True)
    stall = Stall(market=world.market_a, code="C-001", zone="Khu C", merchant=merchant)
    db.session.add_all([merchant, stall])
    db.session.commit()
    return stall


def test_the_database_folds_every_vietnamese_letter_like_python(app):
    for text in (VIETNAMESE, VIETNAMESE.upper()):
        assert db.session.scalar(select(folded(literal(text)))) == fold_text(text)
    assert fold_text(VIETNAMESE.upper()).isascii()


@pytest.mark.parametrize(
    "typed",
    ["nguyen thi hoa", "NGUYỄN THỊ HOA", "Nguyễn", "thi hoa", "a-01", "A-01"],
)
def test_stall_search_ignores_diacritics_and_case(world, typed):
    rows = market_queries.stall_rows(world.market_a, q=typed).items
    assert [row[0].code for row in rows] == ["A-01"]


def test_a_search_typed_decomposed_finds_the_composed_name(world):
    typed = unicodedata.normalize("NFD", "Nguyễn Thị")
    rows = market_queries.stall_rows(world.market_a, q=typed).items
    assert [row[0].code for row in rows] == ["A-01"]


@pytest.mark.parametrize("typed", ["dang thi anh", "ĐẶNG", "anh", "c-001", "C-00"])
def test_a_merchant_without_a_payee_account_is_found(world, no_payee, typed):
    rows = market_queries.stall_rows(world.market_a, q=typed).items
    assert [(row[0].code, row[2]) for row in rows] == [("C-001", None)]


@pytest.mark.parametrize("typed", ["dang thi", "DANG THI ANH", "c-001"])
def test_the_merchant_list_finds_by_folded_name_and_stall_code(world, no_payee, typed):
    page = merchant_queries.merchant_list(world.users["manager"], q=typed)
    assert [row[0].full_name for row in page.items] == ["Đặng Thị Ánh"]


def test_wildcards_typed_are_literal(world, no_payee):
    assert market_queries.stall_rows(world.market_a, q="%").items == []
    assert market_queries.stall_rows(world.market_a, q="_").items == []


def test_the_market_list_folds_too(world):
    page = market_queries.market_list(world.users["admin"], q="cho dong quang")
    assert [m.code for m, *_counts in page.items] == ["TN-A"]


def test_the_market_page_search_box_finds_without_diacritics(world, no_payee, client, auth):
    auth.login("manager")
    page = client.get("/markets/TN-A?q=dang+thi+anh").text
    assert "Đặng Thị Ánh" in page and "Nguyễn Thị Hoa" not in page


def test_the_stored_fold_follows_every_way_a_name_is_written(world):
    from market.markets import importing

    assert world.merchant_a.name_folded == "nguyen thi hoa"  # ORM insert
    world.merchant_a.full_name = "Nguyễn Thị Hòa Bình"  # ORM update
    db.session.commit()
    assert (
        db.session.scalar(select(Merchant.name_folded).where(Merchant.id == world.merchant_a.id))
        == "nguyen thi hoa binh"
    )
    content = (
        ",".join(importing.HEADER)
        + "\nE-01,,,active,"
        + unicodedata.normalize("NFD", "Đinh Thị Ếch")
        + ",0912000333,,có,,,,\n"
    ).encode()
    report = importing.run_import(
        world.users["manager"], world.market_a, "e.csv", content, dry_run=False
    )
    assert report.ok, report.errors
    # The import inserts merchants with Core: the column default folds them.
    assert (
        db.session.scalar(select(Merchant.name_folded).where(Merchant.phone == "0912000333"))
        == "dinh thi ech"
    )
    rows = market_queries.stall_rows(world.market_a, q="dinh thi ech").items
    assert [row[0].code for row in rows] == ["E-01"]
