"""The PNG card a shopper saves to their gallery: it must scan back to the same payload."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from market.qr import InvalidOption, render_pay_card
from market.qr.cards import CARD_WIDTH
from market.vietqr import build_payload, parse_payload
from tests.qr.qr_support import decode, vector_payloads

PAYLOAD = build_payload("970436", "0011001234567", amount=25000, purpose="A01QX7K")


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_card_decodes_to_the_same_payload_with_its_amount():
    png = render_pay_card(PAYLOAD, title="Sạp A-01 · Chợ Đồng Quang", lines=["25.000 ₫"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    [text] = decode(_image(png))
    assert text == PAYLOAD
    assert parse_payload(text).amount == 25000
    assert parse_payload(text).purpose == "A01QX7K"


def test_card_is_small_and_phone_sized():
    png = render_pay_card(
        PAYLOAD, title="Sạp A-01", lines=["25.000 ₫", "NGUYEN THI HOA", "Nội dung: A01QX7K"]
    )
    image = _image(png)
    assert image.width == CARD_WIDTH
    assert image.height < CARD_WIDTH * 1.5
    assert len(png) < 20_000


def test_text_under_the_code_is_drawn_in_the_space_below_it():
    plain = _image(render_pay_card(PAYLOAD, title="x"))
    with_lines = _image(render_pay_card(PAYLOAD, title="x", lines=["25.000 ₫", "y"]))
    assert with_lines.height > plain.height
    # The code itself is the same pixels on both: text never overlaps it.
    box = (0, 0, CARD_WIDTH, plain.height - 60)
    assert plain.crop(box).tobytes() == with_lines.crop(box).tobytes()
    # Something dark is drawn below the code (the amount).
    below = with_lines.crop((0, plain.height, CARD_WIDTH, with_lines.height))
    assert below.getextrema()[0] < 100


def test_a_long_stall_name_is_shrunk_or_cut_and_the_code_still_scans():
    title = "Sạp rau củ quả tươi ngon nhất chợ Đồng Quang của bà Nguyễn Thị Hoa"
    png = render_pay_card(PAYLOAD, title=title, lines=["500.000.000 ₫"])
    assert decode(_image(png)) == [PAYLOAD]


@pytest.mark.parametrize("payload", vector_payloads()[:8])
def test_reference_payloads_decode_from_a_card(payload):
    assert decode(_image(render_pay_card(payload, title="Sạp A-01"))) == [payload]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "x" * 81}, "text"),
        ({"title": "ok", "lines": ["a", "b", "c", "d"]}, "lines"),
        ({"title": "ok", "lines": [5]}, "text"),
    ],
)
def test_bad_text_is_refused(kwargs, field):
    with pytest.raises(InvalidOption) as error:
        render_pay_card(PAYLOAD, **kwargs)
    assert field in str(error.value)
