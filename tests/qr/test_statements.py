"""The pure statement PDF (market.qr.statements): layout, page breaks, totals, text that fits."""

from __future__ import annotations

import doctest
import io
from datetime import date, datetime, timedelta

import pypdfium2 as pdfium
import pytest

from market.qr import statements
from market.qr.errors import InvalidOption
from market.qr.statements import (
    StatementHeader,
    StatementLabels,
    StatementLine,
    render_statement_pdf,
    write_statement_pdf,
)


def header(**kw) -> StatementHeader:
    values = {
        "merchant_name": "Nguyễn Thị Hoa",
        "market_names": ("Chợ Đồng Quang",),
        "stall_codes": ("A-01",),
        "month": date(2026, 11, 1),
        "generated_at": "01/12/2026 08:00",
        "count": 0,
        "total": 0,
    }
    return StatementHeader(**(values | kw))


def pages(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_docstring_examples_run():
    assert doctest.testmod(statements, optionflags=doctest.ELLIPSIS).failed == 0


def test_a_day_closes_with_its_total_and_the_month_with_every_days():
    lines = [
        StatementLine(datetime(2026, 11, 2, 6, 5), "A-01", 20_000, "Bùi Thị Lệ", "FT1"),
        StatementLine(datetime(2026, 11, 2, 18, 40), "A-02", 5_000, "", "FT2"),
        StatementLine(datetime(2026, 11, 9, 7, 0), "A-01", 1_000_000, "ĐINH CÔNG TRÁNG", "FT3"),
    ]
    out = io.BytesIO()
    totals = write_statement_pdf(header(count=3, total=1_025_000), lines, out)
    assert totals.days == [(date(2026, 11, 2), 2, 25_000), (date(2026, 11, 9), 1, 1_000_000)]
    assert (totals.count, totals.total) == (3, 1_025_000)
    [text] = pages(out.getvalue())
    for expected in (
        "3 khoản, tổng 1.025.000 đồng",
        "02/11/2026 06:05 A-01 20.000 Bùi Thị Lệ FT1",
        "Cộng ngày 02/11/2026: 2 khoản 25.000",
        "09/11/2026 07:00 A-01 1.000.000 ĐINH CÔNG TRÁNG FT3",
        "Cộng ngày 09/11/2026: 1 khoản 1.000.000",
        "02/11/2026 2 25.000",
        "Tổng cả tháng 3 1.025.000",
        "Nguyễn Thị Hoa · Tháng 11/2026 · Trang 1",
    ):
        assert expected in text, expected


def test_every_page_has_the_column_heads_and_a_numbered_footer():
    start = datetime(2026, 11, 1, 6, 0)
    lines = (
        StatementLine(start + timedelta(minutes=10 * n), "A-01", 1_000, f"KHÁCH {n}", f"R{n}")
        for n in range(500)
    )
    found = pages(render_statement_pdf(header(count=500, total=500_000), lines))
    assert len(found) >= 9
    for number, text in enumerate(found, start=1):
        assert f"Trang {number}" in text
        assert "Ngày giờ" in text or "Số khoản" in text
    joined = "\n".join(found)
    assert all(f"KHÁCH {n} R{n}" in joined for n in range(500))
    assert "Tổng cả tháng 500 500.000" in joined


def test_long_text_is_cut_to_its_column_and_unprintable_characters_dropped():
    payer = "CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ XUẤT NHẬP KHẨU NÔNG SẢN THÁI NGUYÊN 🍉"
    line = StatementLine(datetime(2026, 11, 2, 6, 5), "A-01", 9, payer, "X" * 80)
    [text] = pages(render_statement_pdf(header(count=1, total=9), [line]))
    assert "CÔNG TY TNHH THƯƠNG MẠI" in text
    assert "…" in text
    assert "🍉" not in text
    assert "NÔNG SẢN THÁI NGUYÊN" not in text  # cut, not spilled into the next column


def test_labels_and_the_thousands_separator_come_from_the_caller():
    english = StatementLabels(
        title="Statement of transfers received",
        month="Month %(month)s",
        summary="%(count)s payments, total %(total)s dong",
        day_total="Total of %(day)s: %(count)s payments",
        month_total="Month total",
        page="Page %(page)s",
        group_separator=",",
    )
    line = StatementLine(datetime(2026, 11, 2, 6, 5), "A-01", 1_234_567, "A", "B")
    [text] = pages(render_statement_pdf(header(count=1, total=1_234_567, labels=english), [line]))
    assert "1 payments, total 1,234,567 dong" in text
    assert "Total of 02/11/2026: 1 payments 1,234,567" in text
    assert "Month total 1 1,234,567" in text
    assert "Page 1" in text


def test_no_payments_still_makes_a_page_that_says_so():
    [text] = pages(render_statement_pdf(header(), []))
    assert "Tháng này chưa nhận khoản tiền nào." in text
    assert "Tổng cả tháng 0 0" in text


@pytest.mark.parametrize("bad", [("not a line",), (None,)], ids=["text", "none"])
def test_anything_but_statement_lines_is_refused(bad):
    with pytest.raises(InvalidOption):
        render_statement_pdf(header(), list(bad))
    with pytest.raises(InvalidOption):
        render_statement_pdf("header", [])


def test_the_pure_core_imports_no_flask_or_database():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(statements))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"flask", "flask_babel", "sqlalchemy"}
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module.startswith("market.")
    }
    assert all(m.startswith("market.qr.") for m in modules), modules


def test_a_days_label_never_runs_into_its_total():
    # A long label (a language with longer words) and a large total share one row.
    labels = StatementLabels(day_total="Zwischensumme des Tages %(day)s: %(count)s Zahlungen")
    line = StatementLine(datetime(2026, 11, 2, 6, 5), "A-01", 1_250_000_000, "A", "B")
    data = render_statement_pdf(header(count=1, total=1, labels=labels), [line])
    document = pdfium.PdfDocument(data)
    try:
        textpage = document[0].get_textpage()
        text = textpage.get_text_range()
        cut = text.index("…", text.index("Zwischensumme"))
        digits = text.index("1.250.000.000", cut)
        label_right = textpage.get_charbox(cut)[2]
        amount_left = textpage.get_charbox(digits)[0]
    finally:
        document.close()
    assert label_right < amount_left, (label_right, amount_left)
