"""Printable stickers and A4 sheets: they open in PDFium, their QR codes scan, text fits."""

from __future__ import annotations

import dataclasses
import io
import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from market.qr import (
    InvalidOption,
    InvalidSticker,
    StickerInfo,
    encode,
    render_sticker_pdf,
    write_sticker_sheets,
)
from market.qr.stickers import QR_QUIET_ZONE, qr_placement, sticker_origins
from tests.qr.qr_support import (
    DYNAMIC,
    STATIC,
    char_boxes_mm,
    find_codes,
    page_sizes_mm,
    page_texts,
    rasterise,
    vector_payloads,
)

DPI = 150
PX_PER_MM = DPI / 25.4


def sticker(payload: str = DYNAMIC, **changes: object) -> StickerInfo:
    info = StickerInfo(
        payload=payload,
        holder_name="NGUYỄN THỊ HỒNG",
        bank_short_name="Vietcombank",
        account_number="4052727176311",
        market_name="Chợ Đồng Quang",
        stall_code="A12",
        pay_url="https://cho40.vn/p/A12",
    )
    return dataclasses.replace(info, **changes)


@cache
def a6_pdf() -> bytes:
    return render_sticker_pdf(sticker())


@cache
def nine_sticker_sheets() -> tuple[bytes, list[int]]:
    payloads = vector_payloads()[:9]
    infos = (sticker(p, holder_name=f"NGƯỜI BÁN SỐ {i}") for i, p in enumerate(payloads))
    out = io.BytesIO()
    seen: list[int] = []
    assert write_sticker_sheets(infos, out, progress=seen.append) == 9
    return out.getvalue(), seen


def test_a6_sticker_is_one_a6_page_whose_qr_scans_to_the_payload() -> None:
    pdf = a6_pdf()
    assert page_sizes_mm(pdf) == [(105.0, 148.0)]
    [page] = rasterise(pdf, dpi=DPI)
    assert [code.text for code in find_codes(page)] == [DYNAMIC]


def test_a6_sticker_text_has_name_bank_market_stall_and_warning_with_diacritics() -> None:
    [text] = page_texts(a6_pdf())
    for expected in (
        "Quét mã để thanh toán",
        "NGUYỄN THỊ HỒNG",
        "Vietcombank",
        "4052727176311",
        "Chợ Đồng Quang",
        "Sạp A12",  # the app's word for a stall, not "Quầy"
        "Kiểm tra tên người nhận:",
        "trước khi chuyển tiền",
        "https://cho40.vn/p/A12",
    ):
        assert expected in text


def test_qr_is_at_least_5_cm_and_about_7_cm_on_a6() -> None:
    [page] = rasterise(a6_pdf(), dpi=DPI)
    [code] = find_codes(page)
    corners = code.position
    side_px = (
        (corners.top_right.x - corners.top_left.x) ** 2
        + (corners.top_right.y - corners.top_left.y) ** 2
    ) ** 0.5
    side_mm = side_px / PX_PER_MM  # zxing's position is the symbol's outer corners
    assert 65 <= side_mm <= 71
    assert qr_placement(encode(DYNAMIC))[2] == pytest.approx(side_mm, abs=1.0)


@pytest.mark.parametrize("payload", [STATIC, DYNAMIC, "x" * 600])
def test_qr_geometry_keeps_5_cm_and_the_quiet_zone_for_any_version(payload: str) -> None:
    symbol = encode(payload)
    left, top, side = qr_placement(symbol)
    quiet = QR_QUIET_ZONE * side / symbol.size
    assert 50 <= side <= 70
    assert left - quiet >= 0 and left + side + quiet <= 105
    assert top - quiet >= 13.9  # below the heading's descenders
    assert top + side + quiet <= 97  # above the holder name's box


def test_quiet_zone_around_the_printed_qr_is_blank() -> None:
    [page] = rasterise(a6_pdf(), dpi=DPI)
    symbol = encode(DYNAMIC)
    left, top, side = qr_placement(symbol)
    quiet = QR_QUIET_ZONE * side / symbol.size
    gray = page.convert("L")
    outer = [
        round(v * PX_PER_MM)
        for v in (left - quiet, top - quiet, left + side + quiet, top + side + quiet)
    ]
    inner = [
        round(v * PX_PER_MM) for v in (left - 0.5, top - 0.5, left + side + 0.5, top + side + 0.5)
    ]
    ring = gray.crop(outer)
    blank = Image.new("L", ((inner[2] - inner[0]), (inner[3] - inner[1])), 255)
    ring.paste(blank, (inner[0] - outer[0], inner[1] - outer[1]))
    assert ring.getextrema()[0] > 200, "something dark inside the quiet zone"


def test_a5_standee_is_a5_with_a_bigger_qr_that_scans() -> None:
    pdf = render_sticker_pdf(sticker(STATIC), size="A5")
    assert page_sizes_mm(pdf) == [(148.0, 210.0)]
    [page] = rasterise(pdf, dpi=100)
    [code] = find_codes(page)
    assert code.text == STATIC
    width_px = code.position.top_right.x - code.position.top_left.x
    assert width_px / (100 / 25.4) > 85  # mm


LONG_NAME = "CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ XUẤT NHẬP KHẨU RAU CỦ QUẢ SẠCH " * 2


@pytest.mark.parametrize(
    "changes",
    [
        {"holder_name": LONG_NAME},
        {"holder_name": "NGUYỄNTHỊHỒNGNGUYỄNTHỊHỒNGNGUYỄNTHỊHỒNGNGUYỄNTHỊHỒNG"},
        {"market_name": "Chợ đầu mối nông sản thực phẩm Thành phố Hồ Chí Minh " * 2},
        {"bank_short_name": "Ngân hàng TMCP Ngoại thương Việt Nam", "account_number": "9" * 19},
        {"pay_url": "https://cho40.vn/pay/" + "a" * 150},
    ],
)
def test_long_text_shrinks_and_stays_inside_the_sticker(changes: dict) -> None:
    pdf = render_sticker_pdf(sticker(**changes))
    boxes = char_boxes_mm(pdf)
    assert boxes
    for char, (left, bottom, right, top) in boxes:
        if char.strip():
            assert left >= 5.9 and right <= 99.1, (char, left, right)
            assert bottom >= 5.9 and top <= 142.1, (char, bottom, top)
    text = page_texts(pdf)[0].replace("\r\n", "").replace("\n", "")
    for value in changes.values():
        assert value.strip().replace(" ", "") in text.replace(" ", "")
    [page] = rasterise(pdf, dpi=DPI)
    assert [code.text for code in find_codes(page)] == [DYNAMIC]


@settings(max_examples=5, deadline=None)
@given(
    st.text(
        st.sampled_from("AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXYÀẢÃÁẠẰẲẴẮẶẦẨẪẤẬỲỶỸÝỴ "),
        min_size=1,
        max_size=90,
    ).filter(str.strip)
)
def test_any_vietnamese_name_fits(name: str) -> None:
    pdf = render_sticker_pdf(sticker(holder_name=name))
    for char, (left, _bottom, right, _top) in char_boxes_mm(pdf):
        if char.strip():
            assert left >= 5.9 and right <= 99.1


def test_sheets_of_nine_stickers_are_three_a4_pages_with_progress_per_page() -> None:
    pdf, seen = nine_sticker_sheets()
    assert page_sizes_mm(pdf) == [(210.0, 297.0)] * 3
    assert seen == [4, 8, 9]


def test_every_qr_on_a_sheet_scans_in_its_own_quarter() -> None:
    pdf, _ = nine_sticker_sheets()
    payloads = vector_payloads()[:9]
    pages = rasterise(pdf, dpi=DPI)
    for number, page in enumerate(pages):
        expected = payloads[number * 4 : number * 4 + 4]
        found = {code.text: code.position for code in find_codes(page)}
        assert sorted(found) == sorted(expected)
        for slot, payload in enumerate(expected):
            centre_x = sum(p.x for p in (found[payload].top_left, found[payload].bottom_right)) / 2
            centre_y = sum(p.y for p in (found[payload].top_left, found[payload].bottom_right)) / 2
            column, row = slot % 2, slot // 2
            assert column * 105 < centre_x / PX_PER_MM < (column + 1) * 105
            assert row * 148.5 < centre_y / PX_PER_MM < (row + 1) * 148.5


def test_sheet_text_names_each_seller_and_the_market() -> None:
    pdf, _ = nine_sticker_sheets()
    texts = page_texts(pdf)
    assert all("Chợ Đồng Quang" in text for text in texts)
    assert all(f"NGƯỜI BÁN SỐ {i}" in texts[i // 4] for i in range(9))


def test_crop_marks_are_drawn_on_the_cut_lines_at_the_paper_edges() -> None:
    pdf, _ = nine_sticker_sheets()
    page = rasterise(pdf, dpi=DPI)[0].convert("L")

    def dark(x_mm: float, y_mm: float) -> bool:
        x, y = round(x_mm * PX_PER_MM), round(y_mm * PX_PER_MM)
        return min(page.getpixel((x + dx, y + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) < 160

    cut_y = 297 - sticker_origins("a4x4")[0][1]  # from the top of the page
    for x_mm, y_mm in [(105, 5), (105, 292), (5, cut_y), (205, cut_y), (105, cut_y), (103, cut_y)]:
        assert dark(x_mm, y_mm), (x_mm, y_mm)
    assert not dark(100, 5) and not dark(5, cut_y - 5)


def test_sticker_positions_tile_the_a4_sheet_in_quarters() -> None:
    assert sticker_origins("a4x4") == [(0.0, 148.5), (105.0, 148.5), (0.0, 0.5), (105.0, 0.5)]
    assert sticker_origins("single") == [(0.0, 0.0)]


@pytest.mark.parametrize(("size", "mm"), [("A6", (105.0, 148.0)), ("A5", (148.0, 210.0))])
def test_single_layout_puts_one_sticker_per_page_at_sticker_size(size: str, mm: tuple) -> None:
    out = io.BytesIO()
    assert write_sticker_sheets([sticker(), sticker(STATIC)], out, layout="single", size=size) == 2
    assert page_sizes_mm(out.getvalue()) == [mm, mm]


def test_pages_are_written_while_the_stickers_are_still_coming() -> None:
    class Sink:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, chunk: bytes) -> int:
            self.data += chunk
            return len(chunk)

    sink = Sink()
    pages_seen_before_ninth: list[int] = []

    def infos():
        for i in range(9):
            if i == 8:
                pages_seen_before_ninth.append(sink.data.count(b"/Type /Page "))
            yield sticker(holder_name=f"SẠP {i}")

    assert write_sticker_sheets(infos(), sink) == 9
    assert pages_seen_before_ninth == [2]
    assert page_sizes_mm(bytes(sink.data)) == [(210.0, 297.0)] * 3


def test_xref_offsets_point_at_their_objects() -> None:
    pdf, _ = nine_sticker_sheets()
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 ")
    count = int(pdf[startxref:].split(b"\n")[1].split()[1])
    entries = pdf[startxref:].split(b"\n")[3 : 3 + count - 1]
    for number, entry in enumerate(entries, start=1):
        assert len(entry) == 19 and entry.endswith(b" n ")  # 20 bytes with the newline
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)


def test_fonts_are_embedded_subsets_of_dejavu() -> None:
    pdf = a6_pdf()
    assert pdf.count(b"/FontFile2") == 2
    assert re.search(rb"/[A-Z]{6}\+DejaVuSans /Encoding /Identity-H", pdf)
    assert re.search(rb"/[A-Z]{6}\+DejaVuSans-Bold /Encoding /Identity-H", pdf)
    assert len(pdf) < 120_000  # subsets, not the 1.4 MB of whole fonts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("holder_name", ""),
        ("holder_name", "   "),
        ("payload", ""),
        ("account_number", 12345),
        ("market_name", None),
        ("holder_name", "BÁN RAU 🥬"),
    ],
)
def test_unusable_sticker_fields_raise_invalid_sticker(field: str, value: object) -> None:
    with pytest.raises(InvalidSticker) as caught:
        sticker(**{field: value})
    assert caught.value.field == field


def test_sticker_info_is_frozen_and_pay_url_optional() -> None:
    info = sticker(pay_url=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.holder_name = "X"  # type: ignore[misc]
    assert "https://" not in page_texts(render_sticker_pdf(info))[0]


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"layout": "a4x8"}, "layout"),
        ({"size": "A4"}, "size"),
        ({"layout": "a4x4", "size": "A5"}, "size"),
    ],
)
def test_bad_sheet_options_raise_before_anything_is_written(options: dict, option: str) -> None:
    out = io.BytesIO()
    with pytest.raises(InvalidOption) as caught:
        write_sticker_sheets([sticker()], out, **options)
    assert caught.value.option == option
    assert out.getvalue() == b""


def test_no_stickers_is_an_error_and_writes_nothing() -> None:
    out = io.BytesIO()
    with pytest.raises(InvalidOption, match="no stickers"):
        write_sticker_sheets(iter([]), out)
    assert out.getvalue() == b""


def test_something_else_than_a_sticker_info_raises_invalid_sticker() -> None:
    with pytest.raises(InvalidSticker):
        write_sticker_sheets([sticker(), {"payload": STATIC}], io.BytesIO())


def test_a_sticker_says_sap_unless_given_another_word() -> None:
    [text] = page_texts(a6_pdf())
    assert "Quầy" not in text
    [text] = page_texts(render_sticker_pdf(sticker(stall_word="Ki-ốt")))
    assert "Ki-ốt A12" in text and "Sạp" not in text
