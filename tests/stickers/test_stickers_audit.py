"""Sticker audit: a photo of the stall's sticker is checked against its registered payee."""

import io
import random

import pypdfium2
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select

from market.extensions import db
from market.markets.models import Stall
from market.qr import StickerInfo, render_sticker_pdf
from market.stickers.models import StickerAudit
from market.vietqr import build_payload


def _sticker_raster(payload: str, holder: str) -> Image.Image:
    pdf = pypdfium2.PdfDocument(
        render_sticker_pdf(
            StickerInfo(
                payload=payload,
                holder_name=holder,
                bank_short_name="Vietcombank",
                account_number="0011001234567",
                market_name="Chợ Đồng Quang",
                stall_code="A-01",
            )
        )
    )
    try:
        return pdf[0].render(scale=200 / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def _photo(image: Image.Image, *, angle: float, shrink: float, seed: int = 7) -> bytes:
    """What a phone gives: rotated, smaller, blurred, on a noisy background, JPEG q40."""
    rng = random.Random(seed)
    image = image.rotate(angle, expand=True, fillcolor=(200, 190, 170))
    image = image.resize((int(image.width * shrink), int(image.height * shrink)))
    background = Image.new("RGB", (image.width + 300, image.height + 300), (120, 110, 90))
    noise = Image.effect_noise(background.size, 40).convert("RGB")
    background = Image.blend(background, noise, 0.3)
    background.paste(image, (rng.randrange(50, 250), rng.randrange(50, 250)))
    background = background.filter(ImageFilter.GaussianBlur(1))
    out = io.BytesIO()
    background.save(out, "JPEG", quality=40)
    return out.getvalue()


def _upload(client, data: bytes, name: str = "photo.jpg"):
    return client.post(
        "/markets/TN-A/stalls/A-01/audit",
        data={"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(("angle", "shrink"), [(0, 0.6), (7, 0.5), (90, 0.45), (-12, 0.4)])
def test_a_photo_of_the_real_sticker_matches(world, client, auth, angle, shrink):
    auth.login("helper")
    real = _sticker_raster(build_payload("970436", "0011001234567"), "NGUYEN THI HOA")
    response = _upload(client, _photo(real, angle=angle, shrink=shrink))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "KHỚP" in page and "KHÔNG KHỚP" not in page
    audit = db.session.scalar(select(StickerAudit))
    assert audit.result == "match" and audit.auditor_id == world.users["helper"].id
    assert db.session.get(Stall, world.stall_a.id).last_audit_result == "match"


def test_a_pasted_over_sticker_says_which_account_it_would_really_pay(world, client, auth):
    auth.login("manager")
    fake = _sticker_raster(build_payload("970422", "0987654321999"), "NGUYEN THI HOA")
    response = _upload(client, _photo(fake, angle=5, shrink=0.5))
    page = response.get_data(as_text=True)
    assert "KHÔNG KHỚP" in page and "0987654321999" in page and "MB" in page
    audit = db.session.scalar(select(StickerAudit))
    assert (audit.result, audit.decoded_bank_bin, audit.decoded_account) == (
        "mismatch",
        "970422",
        "0987654321999",
    )
    listing = client.get("/markets/TN-A?audit=failing").get_data(as_text=True)
    assert "A-01" in listing


def test_a_photo_without_a_code_is_unreadable_and_garbage_is_refused(world, client, auth):
    auth.login("helper")
    blank = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 180, 180)).save(blank, "JPEG")
    response = _upload(client, blank.getvalue())
    assert "KHÔNG ĐỌC ĐƯỢC" in response.get_data(as_text=True)
    assert db.session.scalar(select(StickerAudit.result)) == "unreadable"
    before = db.session.scalar(select(db.func.count(StickerAudit.id)))
    garbage = _upload(client, b"this is not an image", "x.jpg")
    assert garbage.status_code == 422
    assert "Tệp không phải ảnh" in garbage.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(StickerAudit.id))) == before


def test_never_audited_stalls_are_listed(world, client, auth):
    auth.login("manager")
    assert "A-01" in client.get("/markets/TN-A?audit=never").get_data(as_text=True)
