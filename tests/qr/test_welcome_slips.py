"""Welcome slips: one A6 page per person, in one PDF, with a QR that reads back as the link."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from market.qr import InvalidOption, InvalidSticker
from market.qr.welcome import WelcomeSlip, render_welcome_pdf


def _slip(n: int, name: str = "Nguyễn Thị Hoa", stalls=("Chợ Đồng Quang · Sạp A-01",)):
    phone = f"09123456{n:02d}"
    return WelcomeSlip(
        name=name,
        stalls=tuple(stalls),
        url=f"https://cho40.thainguyen.gov.vn/activate/{phone}",
        short_url=f"cho40.thainguyen.gov.vn/activate/{phone}",
        code=f"{n:08d}",
        login=phone,
        expires="11/12/2026",
    )


def test_every_slip_is_an_a6_page_whose_qr_is_its_link():
    slips = [
        _slip(1),
        _slip(2, "Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc"),  # a long name shrinks
        _slip(3, stalls=[f"Chợ Thái · Sạp B-{i:02d}" for i in range(1, 7)]),
    ]
    pdf = pypdfium2.PdfDocument(render_welcome_pdf(slips))
    try:
        assert len(pdf) == 3
        for page, slip in zip(pdf, slips, strict=True):
            width, height = page.get_size()
            assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (105, 148)
            text = page.get_textpage().get_text_range()
            assert slip.name in text and f"{slip.code[:4]} {slip.code[4:]}" in text
            assert slip.short_url in text and "3." in text
            image = page.render(scale=150 / 72).to_pil()
            assert [r.text for r in zxingcpp.read_barcodes(image)] == [slip.url]
        third = pdf[2].get_textpage().get_text_range()
        assert "B-03" in third and "B-04" not in third and "và 3 sạp khác" in third
    finally:
        pdf.close()


def test_no_slips_is_an_error_and_unprintable_text_is_refused():
    with pytest.raises(InvalidOption):
        render_welcome_pdf([])
    with pytest.raises(InvalidSticker, match="name"):
        _slip(1, name="Hoa 🌸")
