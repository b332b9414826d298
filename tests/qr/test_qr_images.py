"""PNG and SVG QR images: exact round trip through an independent decoder, crisp geometry."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from market.qr import InvalidOption, InvalidPayload, encode, render_png, render_svg
from tests.qr.qr_support import DYNAMIC, STATIC, decode, vector_payloads

SVG_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("payload", vector_payloads())
def test_png_of_every_vector_decodes_to_the_exact_payload(payload: str) -> None:
    assert decode(open_png(render_png(payload))) == [payload]


@pytest.mark.parametrize("scale", [1, 2, 3, 7, 10, 24])
def test_png_decodes_at_every_scale(scale: int) -> None:
    assert decode(open_png(render_png(DYNAMIC, scale=scale))) == [DYNAMIC]


@pytest.mark.parametrize("scale", [1, 3, 10])
def test_png_is_one_bit_with_whole_pixel_modules_and_a_white_quiet_zone(scale: int) -> None:
    symbol = encode(STATIC)
    image = open_png(render_png(STATIC, scale=scale))
    side = (symbol.size + 8) * scale
    assert image.mode == "1"
    assert image.size == (side, side)
    # Sampling one pixel per module and scaling back up gives the same picture: no blur.
    modules = image.resize((symbol.size + 8,) * 2, Image.Resampling.NEAREST)
    assert modules.resize(image.size, Image.Resampling.NEAREST).tobytes() == image.tobytes()
    for x in range(symbol.size + 8):
        for y in range(symbol.size + 8):
            inside = 4 <= x < symbol.size + 4 and 4 <= y < symbol.size + 4
            expected_dark = inside and symbol.is_dark(x - 4, y - 4)
            assert (modules.getpixel((x, y)) == 0) == expected_dark, (x, y)


def test_wider_border_keeps_at_least_the_quiet_zone() -> None:
    image = open_png(render_png(STATIC, scale=2, border=6))
    assert image.size == ((encode(STATIC).size + 12) * 2,) * 2
    assert decode(image) == [STATIC]


@pytest.mark.parametrize("error", ["M", "Q", "H"])
def test_error_level_is_the_one_asked_for(error: str) -> None:
    found = zxingcpp.read_barcodes(open_png(render_png(DYNAMIC, error=error)))
    assert [(b.text, b.ec_level) for b in found] == [(DYNAMIC, error)]


def svg_to_image(svg: bytes, scale: int) -> tuple[int, Image.Image]:
    """Draw the SVG's module runs with Pillow (our own tiny rasteriser for our own SVG)."""
    text = svg.decode("ascii")
    side = int(re.search(r'viewBox="0 0 (\d+) \1"', text).group(1))
    path = re.search(r'<path fill="#000" d="([^"]*)"', text).group(1)
    image = Image.new("1", (side * scale, side * scale), 1)
    draw = ImageDraw.Draw(image)
    consumed = 0
    for match in SVG_RUN.finditer(path):
        assert match.start() == consumed, "path has something else than module runs"
        consumed = match.end()
        x, y, length, back = map(int, match.groups())
        assert length == back
        draw.rectangle(
            [x * scale, y * scale, (x + length) * scale - 1, (y + 1) * scale - 1], fill=0
        )
    assert consumed == len(path)
    return side, image


@pytest.mark.parametrize("payload", [STATIC, DYNAMIC])
def test_svg_path_is_exactly_the_symbol_and_decodes(payload: str) -> None:
    svg = render_svg(payload, scale=5)
    symbol = encode(payload)
    side, image = svg_to_image(svg, scale=1)
    assert side == symbol.size + 8
    assert f'width="{side * 5}" height="{side * 5}"'.encode() in svg
    inner = image.crop((4, 4, 4 + symbol.size, 4 + symbol.size))
    assert inner.convert("L").tobytes() == symbol.pixels
    assert image.getbbox() is not None
    _, big = svg_to_image(svg, scale=6)
    assert decode(big) == [payload]


def test_svg_is_crisp_and_has_a_white_background() -> None:
    svg = render_svg(STATIC).decode("ascii")
    assert 'shape-rendering="crispEdges"' in svg
    assert '<rect width="41" height="41" fill="#fff"/>' in svg


def read_one(image: Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    "payload",
    [
        "0002010102115802VN62200816Chợ Đồng Quang 16304ABCD",
        "é",  # Latin-1: zint alone would store the single byte 0xE9
        "¡",  # zint's 0xA1 reads back as a Shift JIS half-width stop
        "日本",  # zint alone would switch to Kanji mode
    ],
)
def test_non_ascii_payloads_are_stored_as_utf8_bytes_without_eci(payload: str) -> None:
    barcode = read_one(open_png(render_png(payload, scale=4)))
    assert barcode.bytes == payload.encode("utf-8")
    assert barcode.symbology_identifier == "]Q1"  # no ECI


def test_vietnamese_text_reads_back_as_the_same_text() -> None:
    payload = "0002010102115802VN62200816Chợ Đồng Quang 16304ABCD"
    assert decode(open_png(render_png(payload))) == [payload]


@pytest.mark.parametrize("payload", ["\\n%41\\x41", "a\tb\x00c", " " * 3])
def test_ascii_escapes_and_controls_are_stored_verbatim(payload: str) -> None:
    assert read_one(open_png(render_png(payload, scale=4))).bytes == payload.encode()


@settings(max_examples=15, deadline=None)
@given(st.text(st.characters(codec="ascii"), min_size=1, max_size=300))
def test_any_ascii_text_round_trips_through_png(payload: str) -> None:
    assert read_one(open_png(render_png(payload, scale=3))).bytes == payload.encode()


@settings(max_examples=10, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=200))
def test_any_text_round_trips_as_utf8_bytes(payload: str) -> None:
    assert read_one(open_png(render_png(payload, scale=3))).bytes == payload.encode()


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"error": "L"}, "error"),
        ({"error": "m"}, "error"),
        ({"scale": 0}, "scale"),
        ({"scale": 2.5}, "scale"),
        ({"scale": True}, "scale"),
        ({"scale": 500}, "scale"),
        ({"border": 3}, "border"),
        ({"border": 100}, "border"),
    ],
)
@pytest.mark.parametrize("render", [render_png, render_svg])
def test_bad_options_raise_a_typed_error_naming_the_option(render, options, option) -> None:
    with pytest.raises(InvalidOption) as caught:
        render(STATIC, **options)
    assert caught.value.option == option
    assert repr(options[option]) in str(caught.value)


@pytest.mark.parametrize("payload", ["", None, b"000201", "9" * 8000, "é" * 3000])
def test_unencodable_payloads_raise_invalid_payload(payload) -> None:
    with pytest.raises(InvalidPayload):
        render_png(payload)
