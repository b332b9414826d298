"""Reading the bank statements a board downloads: two banks' layouts, Vietnamese header
variants, separators, dates, and a bad row reported with its line number."""

from __future__ import annotations

import doctest
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from market.fees import statements
from market.fees.statements import StatementError, parse_amount, read_statement
from tests.fees.data.make_statements import BOARD_ACCOUNT, save_xlsx, tcb_rows, vcb_rows

DATA = Path(__file__).parent / "data"


def _read(name: str):
    return read_statement(name, (DATA / name).read_bytes())


def test_doctests():
    assert doctest.testmod(statements).failed == 0


def test_vietcombank_xlsx_with_its_letterhead_and_footer():
    statement = _read("vcb_saoke.xlsx")
    assert (statement.bank, statement.account_number, statement.header_line) == (
        "VCB",
        BOARD_ACCOUNT,
        8,
    )
    assert [(s.line, s.amount, s.direction) for s in statement.lines] == [
        (9, 1_250_000, "in"),
        (10, 600_000, "in"),
        (11, 99_000, "out"),
        (12, 200_000, "in"),
    ]
    first = statement.lines[0]
    # Date and document number share a cell, on two lines.
    assert first.bank_reference == "5243.65937"
    assert first.booked_at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)  # 5/3 in Vietnam
    assert "CPAB23CD45" in first.description
    assert len(statement.incoming) == 3


def test_techcombank_xlsx_numbers_and_times():
    statement = _read("tcb_saoke.xlsx")
    assert statement.bank == "TCB"
    assert statement.account_number == "19020352517013"
    line = statement.lines[0]
    assert (line.amount, line.direction, line.bank_reference) == (
        1_250_000,
        "in",
        "FT26064812345678",
    )
    assert line.booked_at == datetime(2026, 3, 5, 2, 14, 2, tzinfo=UTC)
    assert line.description == "PHI CPAB23CD45 (NGUYEN THI HOA)"
    assert statement.lines[2].direction == "out"


def test_decomposed_headers_iso_dates_and_comma_thousands():
    statement = _read("vcb_digibank.csv")
    assert statement.bank == "VCB"
    assert [line.amount for line in statement.lines] == [1_250_000, 2_000_000]
    assert statement.lines[0].booked_at == datetime(2026, 3, 5, 3, 1, tzinfo=UTC)


def test_the_same_transfer_keeps_its_key_across_downloads():
    # The Digibank CSV and the Digibiz XLSX show the same transfer (same document number,
    # amount): one key, so importing both imports it once.
    xlsx = _read("vcb_saoke.xlsx").lines[0]
    csv = _read("vcb_digibank.csv").lines[0]
    assert xlsx.key == csv.key
    keys = [line.key for line in _read("vcb_saoke.xlsx").lines]
    assert len(set(keys)) == len(keys)


def test_identical_lines_without_reference_get_distinct_keys(tmp_path):
    rows = [
        ["Ngày giao dịch", "Số tiền ghi nợ", "Số tiền ghi có", "Nội dung chi tiết"],
        ["05/03/2026", "", "100.000", "CPAB23CD45"],
        ["05/03/2026", "", "100.000", "CPAB23CD45"],
    ]
    path = tmp_path / "s.xlsx"
    save_xlsx(path, rows)
    lines = read_statement("s.xlsx", path.read_bytes()).lines
    assert len(lines) == 2 and lines[0].key != lines[1].key


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1.000.000", 1_000_000),
        ("1,000,000", 1_000_000),
        ("1 000 000", 1_000_000),
        ("1000000", 1_000_000),
        ("1,000,000.00", 1_000_000),
        ("1.000.000,00", 1_000_000),
        ("+250.000", 250_000),
        ("250.000 VND", 250_000),
        ("", 0),
    ],
)
def test_amount_separators(raw, expected):
    assert parse_amount(raw, 5) == expected


@pytest.mark.parametrize("raw", ["12,5", "1.000.000,50", "abc", "1.00.000"])
def test_bad_amount_names_its_line(raw):
    with pytest.raises(StatementError, match="Dòng 7"):
        parse_amount(raw, 7)


def test_a_bad_row_is_reported_with_its_line_and_nothing_is_returned(tmp_path):
    rows = tcb_rows()
    rows[7][1] = "31/02/2026"  # no such day
    rows[8][8] = "mười nghìn"
    path = tmp_path / "bad.xlsx"
    save_xlsx(path, rows)
    with pytest.raises(StatementError) as caught:
        read_statement("bad.xlsx", path.read_bytes())
    assert caught.value.errors == [
        "Dòng 8: không đọc được ngày “31/02/2026”.",
        "Dòng 9: không đọc được số tiền “mười nghìn”.",
    ]
    assert "2 dòng" in caught.value.message


def test_an_unknown_layout_says_which_banks_it_reads():
    content = "Ngày,Số tiền\n05/03/2026,100000\n".encode()
    with pytest.raises(StatementError, match="Vietcombank, Techcombank"):
        read_statement("x.csv", content)


def test_other_files_are_refused():
    with pytest.raises(StatementError, match=r"\.csv hoặc \.xlsx"):
        read_statement("saoke.pdf", b"%PDF-1.4")
    with pytest.raises(StatementError, match="Excel"):
        read_statement("saoke.xlsx", b"not a zip")


def test_size_is_bounded():
    with pytest.raises(StatementError, match="MB"):
        read_statement("big.csv", b"x" * (statements.MAX_FILE_BYTES + 1))


def test_header_cells_are_nfc_normalised():
    header = unicodedata.normalize("NFD", "Số tiền ghi có/ Credit")
    assert "số tiền ghi có" in statements._header_names(header)
    assert len(vcb_rows()) > 8
