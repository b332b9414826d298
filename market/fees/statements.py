"""Bank statements (sao kê) that a market board downloads from its bank, read into plain lines.

A board imports the CSV or XLSX its internet bank lets an account holder download, to
reconcile payments no notifier reported (market.fees.money.services). Each bank lays its
statement out differently; a layout is recognised by its column headers, which may sit on
any of the first rows under the bank's letterhead (account, period, opening balance).

Layouts we read (where each came from is in tests/fees/data/README.md):

- **Vietcombank** (VCB Digibiz / internet banking "Sao kê tài khoản" XLSX): bilingual headers
  ``STT/No.``, ``Ngày/TNX Date``, ``Số CT/Doc No`` (in one cell "31/10/2023\\n5243.65937" or
  in two columns), ``Số tiền ghi nợ/Debit``, ``Số tiền ghi có/Credit``, ``Số dư/Balance``,
  ``Nội dung chi tiết/Transactions in detail``; and the shorter VCB Digibank export
  (``Ngày giao dịch``, ``Số tham chiếu``, ``Số tiền ghi nợ``, ``Số tiền ghi có``, ``Mô tả``).
- **Techcombank** (Business/F@st "Sao kê tài khoản" XLSX): ``Ngày giao dịch/Transaction Date``,
  ``Số bút toán/Reference``, ``Tên tài khoản đối ứng/Remitter's account name``,
  ``Diễn giải/Description``, ``Nợ/Debit``, ``Có/Credit``, ``Số dư/Balance``.

Text is NFC-normalised (files made on some systems spell "ộ" as "ô" plus a combining dot),
headers are matched without case, extra spaces or line breaks, on either language's half;
amounts take "1.000.000", "1,000,000", "1 000 000" and a zero decimal part ("1,000,000.00");
dates "31/10/2023 14:05:22", "31-10-2023", "2023-10-31 14:05" or an Excel date number; the
bank's times are Vietnam time, returned in UTC. The file is read by the registry import's
bounded readers (size, rows, cells, unpacked XML), so a crafted file costs little.

Needs no database. A bad row is reported with its line number, in Vietnamese; nothing is
returned for a file with any bad row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.errors import DomainError
from market.formatting import VN_TZ

# The registry import's readers bound everything a file can make the server do; one place
# for that, not two.
from market.markets.importing import MAX_FILE_BYTES, ImportFileError, _csv_rows, _xlsx_rows

__all__ = [
    "LAYOUTS",
    "MAX_STATEMENT_LINES",
    "Layout",
    "Statement",
    "StatementError",
    "StatementLine",
    "parse_amount",
    "parse_booked_at",
    "read_statement",
]

#: Transactions in one statement: a month of a large market's fees is a few thousand.
MAX_STATEMENT_LINES = 20_000
#: Rows searched for the header under the bank's letterhead.
HEADER_SEARCH_ROWS = 40
#: Bad rows listed before the rest are only counted.
MAX_REPORTED_ERRORS = 50


class StatementError(DomainError):
    """The file is not a statement we can read, or some of its rows are bad (``errors``:
    one message per bad row, with its line number)."""

    status = 422
    default_message = _l("Không đọc được tệp sao kê.")

    def __init__(self, message: str | None = None, errors: list[str] | None = None) -> None:
        self.errors = errors or []
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One transaction of a statement."""

    line: int  # the row number in the file, as a spreadsheet shows it
    booked_at: datetime  # UTC
    amount: int  # whole dong, > 0
    direction: str  # "in" (credit) or "out" (debit)
    description: str
    bank_reference: str  # the bank's own number for the transaction ("" if the layout has none)
    key: str  # stable across downloads of the same transaction (see :func:`line_key`)


@dataclass(frozen=True)
class Layout:
    """A bank's statement columns: ``fields`` maps our field to the header names it may have
    (normalised: lower case, single spaces, NFC); ``required`` must all be found."""

    bank: str
    bank_name: str
    fields: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # A header that only this bank's layout has: tells it apart from a look-alike.
    marks: tuple[str, ...] = ()


@dataclass
class Statement:
    bank: str
    bank_name: str
    account_number: str  # as the letterhead gives it, "" if it does not
    header_line: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def incoming(self) -> list[StatementLine]:
        return [line for line in self.lines if line.direction == "in"]


_DATE = ("ngày giao dịch", "ngày gd", "tnx date", "transaction date", "ngày", "date")
_DEBIT = ("số tiền ghi nợ", "ghi nợ", "nợ", "debit", "phát sinh nợ")
_CREDIT = ("số tiền ghi có", "ghi có", "có", "credit", "phát sinh có")

LAYOUTS: tuple[Layout, ...] = (
    Layout(
        bank="VCB",
        bank_name="Vietcombank",
        fields={
            "date": _DATE,
            "reference": ("số ct", "doc no", "số chứng từ", "số tham chiếu", "reference no"),
            "debit": _DEBIT,
            "credit": _CREDIT,
            "description": ("nội dung chi tiết", "transactions in detail", "mô tả", "nội dung"),
        },
        required=("date", "debit", "credit", "description"),
        marks=("transactions in detail", "nội dung chi tiết", "số tham chiếu", "số ct"),
    ),
    Layout(
        bank="TCB",
        bank_name="Techcombank",
        fields={
            "date": _DATE,
            "reference": ("số bút toán", "reference"),
            "debit": _DEBIT,
            "credit": _CREDIT,
            "description": ("diễn giải", "description"),
            "payer": ("tên tài khoản đối ứng", "remitter's account name"),
        },
        required=("date", "reference", "debit", "credit", "description"),
        marks=("số bút toán",),
    ),
)

_ACCOUNT_LABEL = re.compile(
    r"(số tài khoản|account (?:number|no\.?)|tài khoản)\s*[:/]?\s*(?:account (?:number|no\.?))?\s*:?\s*",
    re.IGNORECASE,
)
_FOOTER = ("tổng", "total", "cộng", "số dư cuối", "closing balance", "ending balance")


def normalize(text: str) -> str:
    """NFC, line breaks and runs of spaces as one space, stripped."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _header_names(cell: str) -> set[str]:
    """The names a header cell answers to: the whole cell and each half of "Việt/English"
    (a VCB header is "Số tiền ghi có/ Credit", some split over two lines)."""
    whole = normalize(cell).lower().rstrip(":")
    names = {whole}
    for part in re.split(r"[/\n]", unicodedata.normalize("NFC", cell or "").lower()):
        part = " ".join(part.split()).strip(" :.0123456789")
        if part:
            names.add(part)
    return names


def _match_header(cells: list[str], layout: Layout) -> dict[str, list[int]] | None:
    found: dict[str, list[int]] = {}
    marked = not layout.marks
    for index, cell in enumerate(cells):
        names = _header_names(cell)
        if not marked and names & set(layout.marks):
            marked = True
        for name, aliases in layout.fields.items():
            if names & set(aliases):
                found.setdefault(name, []).append(index)
    if not marked or any(name not in found for name in layout.required):
        return None
    return found


def parse_amount(raw: str, line: int) -> int:
    """Whole dong from a statement cell: "1.000.000", "1,000,000", "1 000 000", "1000000",
    "1,000,000.00"; "" is 0.

    >>> parse_amount("1.250.000", 3), parse_amount("1,250,000.00", 3), parse_amount("", 3)
    (1250000, 1250000, 0)
    """
    text = normalize(str(raw)).replace(" ", "").replace("\u00a0", "")
    text = re.sub(r"(?i)(vnd|vnđ|đ|₫)$", "", text)
    text = text.strip("+-()")
    if not text:
        return 0
    if re.fullmatch(r"\d+", text):
        return int(text)
    grouped = re.fullmatch(r"(\d{1,3}(?:([.,])\d{3})*)(?:([.,])(\d{1,2}))?", text)
    if grouped and grouped.group(3) != grouped.group(2):
        whole, _sep, _dot, decimals = grouped.groups()
        if not decimals or set(decimals) == {"0"}:
            return int(re.sub(r"\D", "", whole))
        raise StatementError(
            _("Dòng %(l)s: số tiền “%(v)s” có phần lẻ; đồng phải là số nguyên.", l=line, v=raw)
        )
    raise StatementError(_("Dòng %(l)s: không đọc được số tiền “%(v)s”.", l=line, v=raw))


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_booked_at(raw: str, line: int) -> datetime:
    """The bank's time of a transaction (Vietnam time) in UTC.

    >>> parse_booked_at("31/10/2023 14:05:22", 2).isoformat()
    '2023-10-31T07:05:22+00:00'
    >>> parse_booked_at("2023-10-31", 2) == parse_booked_at("31-10-2023", 2)
    True
    """
    text = normalize(str(raw))
    local: datetime | None = None
    try:
        if match := _DMY.match(text):
            day, month, year, hour, minute, second = match.groups()
            local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
            local = local.replace(second=int(second or 0))
        elif match := _YMD.match(text):
            year, month, day, hour, minute, second = match.groups()
            local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
            local = local.replace(second=int(second or 0))
        elif re.fullmatch(r"\d{5}(\.\d+)?", text):  # an Excel date number
            local = _EXCEL_EPOCH + timedelta(days=float(text))
            local = local.replace(microsecond=0)
    except ValueError:
        local = None
    if local is None or not 2000 <= local.year <= 2100:
        raise StatementError(_("Dòng %(l)s: không đọc được ngày “%(v)s”.", l=line, v=raw))
    return local.replace(tzinfo=VN_TZ).astimezone(UTC)


def line_key(
    bank: str, booked_at: datetime, amount: int, direction: str, reference: str, description: str
) -> str:
    """A transaction's key, the same in every download of the statement that shows it.

    With the bank's own transaction number: bank, number, direction and amount (the number
    is unique at the bank; a date's format or a description's wrapping may differ between
    downloads). Without one: bank, day, direction, amount and the description's letters and
    digits. Two identical lines of one file get ``#2``, ``#3``… (:func:`read_statement`)."""
    if reference:
        basis = f"{bank}|ref|{reference}|{direction}|{amount}"
    else:
        day = booked_at.astimezone(VN_TZ).date().isoformat()
        letters = re.sub(r"[^A-Z0-9]", "", normalize(description).upper())
        basis = f"{bank}|day|{day}|{direction}|{amount}|{letters}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _rows(filename: str, content: bytes) -> Iterable[tuple[int, list[str]]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(content)
    if name.endswith(".csv"):
        return _csv_rows(content)
    raise StatementError(_("Chỉ nhận sao kê dạng .csv hoặc .xlsx."))


def read_statement(filename: str, content: bytes) -> Statement:
    """The transactions of a bank statement file (CSV or XLSX), or :class:`StatementError`."""
    if len(content) > MAX_FILE_BYTES:
        raise StatementError(_("Tệp lớn quá %(n)s MB.", n=MAX_FILE_BYTES // 2**20))
    try:
        return _read(filename, content)
    except ImportFileError as exc:
        raise StatementError(exc.message) from None


def _read(filename: str, content: bytes) -> Statement:
    rows = iter(_rows(filename, content))
    account = ""
    header: tuple[int, Layout, dict[str, list[int]]] | None = None
    for count, (line, cells) in enumerate(rows):
        cells = [normalize(c) for c in cells]
        for layout in LAYOUTS:
            columns = _match_header(cells, layout)
            if columns:
                header = (line, layout, columns)
                break
        if header:
            break
        account = account or _account_in(cells)
        if count + 1 >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise StatementError(
            _(
                "Không nhận ra mẫu sao kê: không thấy dòng tiêu đề có các cột ngày, ghi nợ, "
                "ghi có và nội dung. Hãy tải tệp Excel (.xlsx) hoặc CSV gốc từ ngân hàng "
                "(Vietcombank, Techcombank)."
            )
        )
    header_line, layout, columns = header
    statement = Statement(layout.bank, layout.bank_name, account, header_line)
    errors: list[str] = []
    error_count = 0
    seen: Counter[str] = Counter()
    for line, raw_cells in rows:
        cells = [normalize(c) for c in raw_cells]
        if not any(cells):
            continue
        try:
            parsed = _line(layout, columns, line, raw_cells, cells)
        except StatementError as exc:
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(exc.message)
            continue
        if parsed is None:
            continue
        if len(statement.lines) >= MAX_STATEMENT_LINES:
            raise StatementError(
                _("Sao kê có quá %(n)s giao dịch. Hãy tải từng tháng.", n=MAX_STATEMENT_LINES)
            )
        seen[parsed.key] += 1
        if seen[parsed.key] > 1:
            parsed = _with_key(parsed, f"{parsed.key[:29]}#{seen[parsed.key]:02d}")
        statement.lines.append(parsed)
    if error_count:
        more = error_count - len(errors)
        if more:
            errors.append(_("… và %(n)s dòng lỗi khác.", n=more))
        raise StatementError(
            _("Sao kê có %(n)s dòng không đọc được; chưa nhập gì.", n=error_count), errors
        )
    return statement


def _with_key(line: StatementLine, key: str) -> StatementLine:
    return StatementLine(
        line.line,
        line.booked_at,
        line.amount,
        line.direction,
        line.description,
        line.bank_reference,
        key,
    )


def _account_in(cells: list[str]) -> str:
    """An account number the letterhead gives ("Số tài khoản/Account number: 0011001932418")."""
    text = " ".join(c for c in cells if c)
    if not _ACCOUNT_LABEL.search(text):
        return ""
    digits = re.findall(r"\b\d{6,19}\b", text)
    return digits[0] if digits else ""


def _cell(cells: list[str], indexes: list[int] | None) -> str:
    for index in indexes or ():
        if index < len(cells) and cells[index]:
            return cells[index]
    return ""


def _line(
    layout: Layout,
    columns: dict[str, list[int]],
    line: int,
    raw_cells: list[str],
    cells: list[str],
) -> StatementLine | None:
    date_raw = _cell(cells, columns.get("date"))
    first = next((c for c in cells if c), "").lower()
    if first.startswith(_FOOTER) or (not date_raw and first and not first[0].isdigit()):
        return None  # "Tổng số/Total", "Số dư cuối kỳ": the statement's footer
    debit = parse_amount(_cell(cells, columns.get("debit")), line)
    credit = parse_amount(_cell(cells, columns.get("credit")), line)
    if not date_raw:
        if debit or credit:
            raise StatementError(_("Dòng %(l)s: thiếu ngày giao dịch.", l=line))
        return None
    reference = _cell(cells, columns.get("reference"))
    # VCB's "Ngày/TNX Date/Số CT/Doc No": the date and the document number in one cell,
    # on two lines.
    date_cell = _cell(raw_cells, columns.get("date"))
    parts = unicodedata.normalize("NFC", date_cell).split()
    if len(parts) >= 2 and not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", parts[1]):
        date_raw = parts[0]
        if not reference or columns.get("reference") == columns.get("date"):
            reference = " ".join(parts[1:])
    booked_at = parse_booked_at(date_raw, line)
    if debit and credit:
        raise StatementError(_("Dòng %(l)s: có cả số tiền ghi nợ và ghi có.", l=line))
    if not debit and not credit:
        return None  # a zero line (a fee waived, an information row)
    direction, amount = ("in", credit) if credit else ("out", debit)
    description = _cell(cells, columns.get("description"))
    payer = _cell(cells, columns.get("payer"))
    if payer and payer not in description:
        description = f"{description} ({payer})" if description else payer
    reference = reference[:100]
    key = line_key(layout.bank, booked_at, amount, direction, reference, description)
    return StatementLine(line, booked_at, amount, direction, description[:2000], reference, key)
