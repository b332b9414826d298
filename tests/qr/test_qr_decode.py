"""decode_image: the sticker audit reads phone photos of printed stickers."""

from __future__ import annotations

import io
from functools import cache

import pytest
from PIL import Image

from market.qr import StickerInfo, UnreadableImage, decode_image, render_png, render_sticker_pdf
from tests.qr.qr_support import DYNAMIC, STATIC, photo_of, rasterise


@cache
def sticker_raster() -> Image.Image:
    """A printed A6 sticker as a 150 dpi scan."""
    info = StickerInfo(
        payload=DYNAMIC,
        holder_name="NGUYỄN THỊ HỒNG",
        bank_short_name="Vietcombank",
        account_number="4052727176311",
        market_name="Chợ Đồng Quang",
        stall_code="A12",
    )
    return rasterise(render_sticker_pdf(info), dpi=150)[0]


@pytest.mark.parametrize(
    ("angle", "shrink"),
    [(7, 1.0), (90, 0.8), (-7, 0.7), (180, 1.0), (33, 0.9)],
)
def test_photo_of_a_printed_sticker_reads_back_the_payload(angle: float, shrink: float) -> None:
    photo = photo_of(sticker_raster(), angle=angle, shrink=shrink, blur=1.0, quality=40)
    assert decode_image(photo) == [DYNAMIC]


def test_dim_low_contrast_photo_is_read_by_the_fallback_pass() -> None:
    # Black ink at 115 and paper at 130 out of 255: the plain pass finds nothing here.
    faded = sticker_raster().convert("L").point(lambda v: 115 + 15 * v // 255)
    photo = photo_of(faded, angle=7, shrink=0.8, blur=1.0, quality=40)
    assert decode_image(photo) == [DYNAMIC]


def test_large_phone_photo_with_exif_rotation_is_read() -> None:
    shot = Image.new("RGB", (4032, 3024), (90, 96, 90))
    code = Image.open(io.BytesIO(render_png(STATIC, scale=24))).convert("RGB")
    shot.paste(code, (1500, 900))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held sideways
    out = io.BytesIO()
    shot.save(out, format="JPEG", quality=85, exif=exif)
    assert decode_image(out.getvalue()) == [STATIC]


def test_every_code_in_the_picture_is_returned_once_each() -> None:
    sheet = Image.new("L", (1400, 700), 255)
    for left, payload in ((40, STATIC), (740, DYNAMIC)):
        sheet.paste(Image.open(io.BytesIO(render_png(payload, scale=12))), (left, 40))
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    assert sorted(decode_image(out.getvalue())) == sorted([STATIC, DYNAMIC])


def test_transparent_png_counts_as_white_paper() -> None:
    code = Image.open(io.BytesIO(render_png(STATIC, scale=6))).convert("L")
    rgba = Image.new("RGBA", code.size, (0, 0, 0, 0))
    rgba.putalpha(code.point(lambda v: 255 - v))  # black modules opaque, the rest see-through
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    assert decode_image(out.getvalue()) == [STATIC]


def test_photo_without_a_code_gives_an_empty_list() -> None:
    out = io.BytesIO()
    Image.effect_noise((640, 480), 40).save(out, format="JPEG")
    assert decode_image(out.getvalue()) == []


def _truncated_png() -> bytes:
    return render_png(STATIC)[:200]


@pytest.mark.parametrize(
    "data",
    [b"", b"not a photo", b"%PDF-1.7\n1 0 obj", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None],
)
def test_garbage_uploads_raise_unreadable_image(data) -> None:
    with pytest.raises(UnreadableImage):
        decode_image(data)


def test_truncated_image_raises_unreadable_image_saying_so() -> None:
    with pytest.raises(UnreadableImage, match="damaged or truncated"):
        decode_image(_truncated_png())


def test_huge_png_is_refused_before_it_is_decoded() -> None:
    out = io.BytesIO()
    Image.new("1", (9000, 6000), 1).save(out, format="PNG")  # 54 M pixels, a few kB
    with pytest.raises(UnreadableImage, match="too large"):
        decode_image(out.getvalue())


def test_unreadable_image_is_a_value_error_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="not an image we can read"):
        decode_image(b"GIF89a but not really")
