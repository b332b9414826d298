"""Fee notices and receipts: A6 pages in Vietnamese; a notice's QR reads back as its bill."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from market.qr import InvalidOption, InvalidSticker
from market.qr.notices import BillNotice, render_notices_pdf
from market.qr.receipts import FeeReceiptSlip, render_receipts_pdf, words_vnd
from market.vietqr import build_payload, parse_payload

LINES = (("Tiền thuê sạp", 300_000), ("Phí vệ sinh", 50_000), ("Tiền điện: 1200 → 1240", 140_000))


def _notice(n: int, *, lines=LINES, due: int | None = None, payload: bool = True) -> BillNotice:
    total = sum(amount for _text, amount in lines)
    due = total if due is None else due
    reference = f"CPAB23CD{n:02d}"
    return BillNotice(
        market_name="Chợ Đồng Quang",
        period_label="Tháng 11/2026",
        number=f"202611-{n:04d}",
        stall_code=f"A-{n:02d}",
        holder_name="Nguyễn Thị Hoa",
        lines=tuple(lines),
        total=total,
        amount_due=due,
        due_label="10/11/2026",
        reference=reference,
        payload=(
            build_payload("970415", "113000006789", amount=due, purpose=reference)
            if payload and due > 0
            else None
        ),
        account_line="VietinBank · STK 113000006789 · BAN QUAN LY CHO DONG QUANG",
    )


def _pages(pdf_bytes: bytes):
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for page in pdf:
            width, height = page.get_size()
            size = (round(width / 72 * 25.4), round(height / 72 * 25.4))
            text = page.get_textpage().get_text_range()
            image = page.render(scale=200 / 72).to_pil()
            codes = [r.text for r in zxingcpp.read_barcodes(image)]
            yield size, text, codes
    finally:
        pdf.close()


def test_each_notice_is_an_a6_page_whose_qr_pays_the_amount_due_with_the_reference():
    many = [(f"Khoản {i}", 10_000 * i) for i in range(1, 10)]
    notices = [_notice(1), _notice(2, due=200_000), _notice(3, lines=many)]
    pages = list(_pages(render_notices_pdf(notices)))
    assert len(pages) == 3
    for (size, text, codes), notice in zip(pages, notices, strict=True):
        assert size == (105, 148)
        assert notice.reference in text and "Quầy " + notice.stall_code in text
        assert "Hạn nộp" in text and "10/11/2026" in text
        [code] = codes
        parsed = parse_payload(code)
        assert (parsed.bank_bin, parsed.account) == ("970415", "113000006789")
        assert parsed.amount == notice.amount_due and parsed.purpose == notice.reference
    assert "490.000 đ" in pages[0][1] and "Phí vệ sinh" in pages[0][1]
    assert "Còn phải nộp" in pages[1][1] and "200.000 đ" in pages[1][1]
    # More lines than fit: the last ones are summed, so the page still adds up.
    assert "… và 4 khoản khác" in pages[2][1] and "300.000 đ" in pages[2][1]


def test_a_notice_without_a_code_says_where_to_pay():
    [(_size, text, codes)] = _pages(render_notices_pdf([_notice(1, payload=False)]))
    assert codes == [] and "Nộp tại Ban quản lý chợ." in text and "CPAB23CD01" in text
    [(_size, text, codes)] = _pages(render_notices_pdf([_notice(2, due=0)]))
    assert codes == [] and "Đã nộp đủ" in text


def test_no_notices_is_an_error_and_bad_values_are_refused():
    with pytest.raises(InvalidOption):
        render_notices_pdf([])
    fields = {name: getattr(_notice(1), name) for name in BillNotice.__dataclass_fields__}
    with pytest.raises(InvalidSticker, match="total"):
        BillNotice(**{**fields, "total": "490000"})
    with pytest.raises(InvalidSticker, match="reference"):
        BillNotice(**{**fields, "reference": " "})


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (2_540_000, "Hai triệu năm trăm bốn mươi nghìn đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (3_024_000_000, "Ba tỷ không trăm hai mươi tư triệu đồng"),
    ],
)
def test_amounts_in_words(amount, words):
    assert words_vnd(amount) == words


def test_a_receipt_is_a_numbered_a6_page_in_vietnamese():
    receipt = FeeReceiptSlip(
        number="BL2026-00017",
        market_name="Chợ Đồng Quang",
        stall_code="A-01",
        holder_name="Nguyễn Thị Hoa",
        bill_number="202611-0001",
        period_label="Tháng 11/2026",
        amount=290_000,
        method_label="Tiền mặt",
        paid_at="05/11/2026 08:15",
        recorded_by="Trần Văn Quản",
        balance_after=200_000,
    )
    [(size, text, codes)] = _pages(render_receipts_pdf([receipt]))
    assert size == (105, 148) and codes == []
    for expected in (
        "BIÊN LAI THU PHÍ",
        "BL2026-00017",
        "290.000 đ",
        "Hai trăm chín mươi nghìn đồng",
        "Tiền mặt",
        "200.000 đ",
        "Trần Văn Quản",
    ):
        assert expected in text
    with pytest.raises(InvalidSticker, match="amount"):
        FeeReceiptSlip(**{**_receipt_fields(receipt), "amount": 0})
    with pytest.raises(InvalidOption):
        render_receipts_pdf([])


def _receipt_fields(receipt: FeeReceiptSlip) -> dict:
    return {name: getattr(receipt, name) for name in FeeReceiptSlip.__dataclass_fields__}
