"""Bulk import of a market's stalls, merchants and payee accounts from CSV or XLSX.

One file row is one stall. Every row is checked and the whole file is applied in one
transaction, or nothing is. A dry run does exactly the same work and rolls it back, so what
it reports is what the import will do. Importing the same file again changes nothing: rows
are matched on (market, stall code), merchants on their phone number, and blank optional
cells keep what is already there.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from xml.parsers import expat

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, true, update
from sqlalchemy.exc import IntegrityError

from market import spreadsheets
from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.auth.services import IssuedCodes, issue_activation_codes
from market.database import insert_rows, one_of
from market.errors import DomainError, Forbidden, NotFound
from market.extensions import db
from market.markets.forms import STALL_STATUS_LABELS, normalize_code
from market.markets.models import GOODS_CATEGORIES, ImportBatch, Market, Stall
from market.merchants import values
from market.merchants.models import Merchant, PayeeAccount
from market.merchants.services import check_may_hold, stage_merchant, stage_payees
from market.textsearch import fold_text
from market.vietqr import banks_by_use


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("ma_sap", _l("Mã sạp"), ("stall_code", "ma sap")),
    Column("khu", _l("Khu / dãy"), ("zone",)),
    Column("nganh_hang", _l("Ngành hàng"), ("category",)),
    Column("trang_thai", _l("Trạng thái sạp"), ("stall_status", "status")),
    Column("ho_ten", _l("Họ tên tiểu thương"), ("merchant_name", "full_name")),
    Column("so_dien_thoai", _l("Số điện thoại"), ("phone",)),
    Column("ma_so_thue", _l("Mã số thuế"), ("tax_code",)),
    Column("dong_y", _l("Đồng ý tham gia"), ("consent",)),
    Column("ngan_hang", _l("Ngân hàng (tên, mã hoặc BIN)"), ("bank", "bank_bin")),
    Column("so_tai_khoan", _l("Số tài khoản / số thẻ"), ("account_number",)),
    Column("loai_tai_khoan", _l("Loại (tai_khoan / the)"), ("account_type", "service")),
    Column("ten_chu_tai_khoan", _l("Tên chủ tài khoản"), ("holder_name",)),
)
HEADER = [c.key for c in COLUMNS]
MAX_ROWS = 20_000
# Uploads waiting for confirmation: how long, and how many per market.
UPLOAD_KEEP = timedelta(days=2)
MAX_PENDING_UPLOADS = 10

_YES = {"1", "x", "co", "có", "yes", "y", "true", "dong y", "đồng ý"}
_NO = {"", "0", "khong", "không", "no", "n", "false"}
_SERVICES = {
    "": "account",
    "tai_khoan": "account",
    "tài khoản": "account",
    "account": "account",
    "the": "card",
    "thẻ": "card",
    "card": "card",
}


class ImportFileError(DomainError):
    status = 422


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    stalls_created: int = 0
    stalls_updated: int = 0
    merchants_created: int = 0
    merchants_updated: int = 0
    assignments: int = 0
    payees_set: int = 0
    unchanged: int = 0
    applied: bool = False
    errors_more: int = 0  # errors past the MAX_ERRORS kept in ``errors``
    # The phone numbers of the file's merchants, and the activation codes issued for those
    # who could not get in yet (market.auth.services.IssuedCodes: held as the one secret
    # they derive from): shown once, so neither is part of as_dict (stored with the upload).
    phones: list[str] = field(default_factory=list, repr=False)
    welcome: IssuedCodes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_more

    def as_dict(self) -> dict:
        hidden = ("errors", "phones", "welcome")
        data = {k: v for k, v in self.__dict__.items() if k not in hidden}
        data["errors"] = [e.__dict__ for e in self.errors]
        return data


# --- reading files --------------------------------------------------------------------------

# What a file may make the server do. A registry of MAX_ROWS stalls fits well inside each
# bound; a file past one is refused as soon as the bound is reached, before it costs more.
MAX_FILE_BYTES = 8 * 1024 * 1024  # the upload itself
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # XML read out of an XLSX, all parts together
MAX_LINES = 2 * MAX_ROWS + 1  # rows read, empty ones included
MAX_COLUMNS = 64  # a cell past column BL
MAX_CELLS = MAX_ROWS * len(COLUMNS) * 2  # cells read, empty ones included
MAX_CELL_CHARS = 1000  # one cell's text
_CHUNK = 64 * 1024


class NumberText(str):
    """The text of a cell that the spreadsheet stored as a number: its leading zeros and every
    digit past the 15th may already be lost."""


def read_table(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column key: text}) for each non-empty data row of a CSV or XLSX file.

    Text that was a number cell in the spreadsheet comes as ``NumberText``.
    """
    return list(iter_table(filename, content))


def iter_table(filename: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """``read_table`` one row at a time (the import checks each row as it is read)."""
    name = filename.lower()
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("Tệp lớn quá %(n)s MB. Hãy chia thành nhiều tệp.", n=MAX_FILE_BYTES // 2**20)
        )
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif name.endswith(".csv"):
        rows = _csv_rows(content)
    else:
        raise ImportFileError(_("Chỉ nhận tệp .csv hoặc .xlsx."))
    try:
        header = next(rows)
    except StopIteration:
        raise ImportFileError(_("Tệp trống.")) from None
    keys = _header_keys(header)
    count = 0
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if count >= MAX_ROWS:
            raise ImportFileError(_("Tệp có quá %(n)s dòng.", n=MAX_ROWS))
        count += 1
        row = {}
        for i, key in keys.items():
            cell = cells[i] if i < len(cells) else ""
            text = normalize_cell(cell)
            row[key] = NumberText(text) if isinstance(cell, NumberText) else text
        if is_template_row(row):
            continue
        yield line, row


def normalize_cell(cell: str) -> str:
    """A cell's text as it is checked: outer spaces removed, in Unicode NFC. A file typed
    with a decomposed-Unicode input method (NFD: "a" + combining marks) then reads exactly
    like its composed twin; only non-ASCII text pays for the normalisation."""
    text = cell.strip()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _header_keys(header: tuple[int, list[str]]) -> dict[int, str]:
    _line, cells = header
    cells = [normalize_cell(cell) for cell in cells]
    lookup = {}
    for column in COLUMNS:
        for name in (column.key, *column.aliases):
            lookup[name] = column.key
    keys: dict[int, str] = {}
    for index, cell in enumerate(cells):
        key = lookup.get(cell.strip().lower().replace(" ", "_")) or lookup.get(cell.strip().lower())
        if key:
            keys[index] = key
    if "ma_sap" not in keys.values():
        raise ImportFileError(
            _("Không thấy cột “ma_sap” ở dòng đầu. Hãy dùng tệp mẫu để có đúng tên cột.")
        )
    return keys


def _too_many_lines() -> ImportFileError:
    return ImportFileError(
        _(
            "Tệp có quá %(n)s dòng (kể cả dòng trống). Hãy xóa các dòng trống ở cuối bảng "
            "rồi tải lên lại.",
            n=MAX_LINES,
        )
    )


def _too_many_columns(line: int) -> ImportFileError:
    return ImportFileError(
        _("Dòng %(l)s có quá %(n)s cột. Hãy chỉ giữ các cột của tệp mẫu.", l=line, n=MAX_COLUMNS)
    )


def _cell_too_long(line: int) -> ImportFileError:
    return ImportFileError(_("Dòng %(l)s có một ô dài quá %(n)s ký tự.", l=line, n=MAX_CELL_CHARS))


def _csv_rows(content: bytes) -> Iterable[tuple[int, list[str]]]:
    # Checked whole, then decoded as it is read: the file's text is never all held at once.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(content), _CHUNK):
            decoder.decode(content[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(
            _("Tệp CSV phải lưu bằng mã UTF-8 (trong Excel: Lưu thành > CSV UTF-8).")
        ) from None
    sample = content[: 4 * 4096].decode("utf-8-sig", errors="ignore")[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    # The reader builds a whole line's cells at once: count them before it does.
    if content.count(delimiter.encode()) > MAX_CELLS:
        raise ImportFileError(_("Tệp có quá nhiều ô (hơn %(n)s).", n=MAX_CELLS))
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # The csv module refuses a field over its limit (128 KiB), a NUL byte, etc.
            raise ImportFileError(
                _(
                    "Dòng %(l)s không đọc được: một ô quá dài hoặc có ký tự lạ. Hãy kiểm tra "
                    "dòng này trong tệp.",
                    l=reader.line_num,
                )
            ) from None
        if reader.line_num > MAX_LINES:
            raise _too_many_lines()
        if len(cells) > MAX_COLUMNS:
            raise _too_many_columns(reader.line_num)
        if any(len(c) > MAX_CELL_CHARS for c in cells):
            raise _cell_too_long(reader.line_num)
        yield reader.line_num, cells


def _xlsx_rows(content: bytes) -> Iterable[tuple[int, list[str]]]:
    """The first sheet's rows, read as a stream with every bound checked as it goes
    (openpyxl holds whole rows and the whole shared-strings table, whatever their size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            reader = _XlsxReader(archive)
            sheet = reader.first_sheet()
            reader.read_shared_strings()
            yield from reader.rows(sheet)
    except _BROKEN_XLSX as exc:
        raise _unreadable_xlsx(exc) from exc


# What zipfile, zlib and expat raise for a broken or unsupported file (an encrypted part
# raises RuntimeError, an unknown compression NotImplementedError).
_BROKEN_XLSX = (
    KeyError,
    IndexError,
    ValueError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
    expat.ExpatError,
)


def _unreadable_xlsx(exc: Exception) -> ImportFileError:
    return ImportFileError(_("Không đọc được tệp Excel: %(why)s", why=str(exc)[:120]))


class _XlsxReader:
    """A bounded streaming reader of an XLSX file's first sheet (SpreadsheetML parts parsed
    with expat; no DTDs or entities)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        if len(archive.infolist()) > 1000:
            raise ValueError("too many parts")
        self.archive = archive
        self.unpacked = 0
        self.cells = 0
        self.shared: list[str] = []

    # - parts -

    def _stream(self, name: str) -> Iterable[bytes]:
        info = self.archive.getinfo(name)
        if self.unpacked + info.file_size > MAX_UNPACKED_BYTES:
            raise _too_big()
        with self.archive.open(info) as part:
            while chunk := part.read(_CHUNK):
                self.unpacked += len(chunk)  # the declared size may lie: count what comes out
                if self.unpacked > MAX_UNPACKED_BYTES:
                    raise _too_big()
                yield chunk

    def _parser(self) -> expat.XMLParserType:
        parser = expat.ParserCreate()

        def refuse(*_args: object) -> None:
            raise ValueError("DTD")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.buffer_text = True
        return parser

    def _parse(self, name: str, parser: expat.XMLParserType, ready: list) -> Iterable:
        for chunk in self._stream(name):
            parser.Parse(chunk, False)
            if ready:
                yield from ready
                ready.clear()
        parser.Parse(b"", True)
        yield from ready
        ready.clear()

    def _relations(self, name: str) -> dict[str, tuple[str, str]]:
        """{id: (type, target)} of a part's relationships."""
        folder, _sep, base = name.rpartition("/")
        rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        found: dict[str, tuple[str, str]] = {}
        if rels_name not in self.archive.namelist():
            return found
        parser = self._parser()

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship":
                target = attrs.get("Target", "")
                if not target.startswith("/"):
                    target = f"{folder}/{target}" if folder else target
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), _clean_path(target))

        parser.StartElementHandler = start
        _drain(self._parse(rels_name, parser, []))
        return found

    def first_sheet(self) -> str:
        parser = self._parser()
        sheets: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "sheet" and not sheets:
                sheets.extend(v for k, v in attrs.items() if _local(k) == "id")

        parser.StartElementHandler = start
        _drain(self._parse("xl/workbook.xml", parser, []))
        self.relations = self._relations("xl/workbook.xml")
        if sheets and sheets[0] in self.relations:
            return self.relations[sheets[0]][1]
        return "xl/worksheets/sheet1.xml"

    def read_shared_strings(self) -> None:
        names = [t for kind, t in self.relations.values() if kind.endswith("/sharedStrings")]
        name = names[0] if names else "xl/sharedStrings.xml"
        if name not in self.archive.namelist():
            return
        parser = self._parser()
        state = {"text": [], "depth_ignored": 0, "in_t": False, "length": 0}

        def start(tag: str, _attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "si":
                state["text"], state["length"] = [], 0
            elif local == "rPh":  # phonetic guide text is not the cell's text
                state["depth_ignored"] += 1
            elif local == "t" and not state["depth_ignored"]:
                state["in_t"] = True

        def end(tag: str) -> None:
            local = _local(tag)
            if local == "si":
                if len(self.shared) >= MAX_CELLS:
                    raise ImportFileError(_("Tệp có quá nhiều ô (hơn %(n)s).", n=MAX_CELLS))
                self.shared.append("".join(state["text"]))
            elif local == "rPh":
                state["depth_ignored"] -= 1
            elif local == "t":
                state["in_t"] = False

        def text(data: str) -> None:
            if state["in_t"]:
                state["length"] += len(data)
                if state["length"] > MAX_CELL_CHARS:
                    raise ImportFileError(_("Tệp có một ô dài quá %(n)s ký tự.", n=MAX_CELL_CHARS))
                state["text"].append(data)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        _drain(self._parse(name, parser, []))

    def rows(self, name: str) -> Iterable[tuple[int, list[str]]]:
        # Called for every tag of every cell: plain locals and cached lookups, no helpers.
        parser = self._parser()
        ready: list[tuple[int, list[str]]] = []
        shared = self.shared
        row: dict[int, str] = {}
        parts: list[str] = []
        local_names: dict[str, str] = {}
        columns: dict[str, int] = {}
        line = lines = length = ignored = 0
        column = -1
        kind = "n"
        collecting = False

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal line, lines, column, kind, collecting, length, ignored
            local = local_names.get(tag) or local_names.setdefault(tag, _local(tag))
            if local == "c":
                self.cells += 1
                if self.cells > MAX_CELLS:
                    raise ImportFileError(_("Tệp có quá nhiều ô (hơn %(n)s).", n=MAX_CELLS))
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    index = columns.get(letters)
                    if index is None:
                        index = columns.setdefault(letters, _column_index(letters))
                    column = index
                else:
                    column += 1
                if column >= MAX_COLUMNS:
                    raise _too_many_columns(line)
                kind = attrs.get("t", "n")
                parts.clear()
                length = 0
                collecting = False
            elif local == "v" or local == "t":
                collecting = not ignored
            elif local == "rPh":
                ignored += 1
            elif local == "row":
                lines += 1
                if lines > MAX_LINES:
                    raise _too_many_lines()
                ref = attrs.get("r")
                line = int(ref) if ref and ref.isdigit() else line + 1
                column = -1
                row.clear()

        def end(tag: str) -> None:
            nonlocal collecting, ignored
            local = local_names.get(tag) or local_names.setdefault(tag, _local(tag))
            if local == "c":
                row[column] = _cell_value(kind, "".join(parts), shared)
            elif local == "v" or local == "t":
                collecting = False
            elif local == "rPh":
                ignored -= 1
            elif local == "row" and row:
                cells = [""] * (max(row) + 1)
                for index, value in row.items():
                    cells[index] = value
                ready.append((line, cells))

        def text(data: str) -> None:
            nonlocal length
            if collecting:
                parts.append(data)
                length += len(data)
                if length > MAX_CELL_CHARS:
                    raise _cell_too_long(line)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        yield from self._parse(name, parser, ready)


def _drain(items: Iterable) -> None:
    for _item in items:
        pass


def _too_big() -> ImportFileError:
    return ImportFileError(
        _(
            "Tệp Excel giải nén ra quá %(n)s MB. Hãy chỉ giữ bảng danh sách sạp và tải lên lại.",
            n=MAX_UNPACKED_BYTES // 2**20,
        )
    )


def _local(tag: str) -> str:
    return tag.rpartition(":")[2]


def _clean_path(path: str) -> str:
    parts: list[str] = []
    for part in path.lstrip("/").split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _column_index(ref: str) -> int:
    """'C7' -> 2."""
    index = 0
    for char in ref:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
            if index > MAX_COLUMNS:
                return index - 1
        else:
            break
    return index - 1


def _cell_value(kind: str, raw: str, shared: list[str]) -> str:
    if kind == "s":
        return shared[int(raw)] if raw else ""
    if kind == "b":
        return "True" if raw.strip() == "1" else "False"
    if kind == "n":
        return NumberText(_number_text(raw.strip())) if raw.strip() else ""
    return raw  # inlineStr, str (a formula's text), e (an error), d (an ISO date)


def _number_text(raw: str) -> str:
    """A number cell's value as a person reads it: '912000009.0' and '9.12E8' -> '912000009'."""
    try:
        return str(int(raw))
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return raw
    if value.is_integer() and abs(value) < 1e21:
        # The shortest decimal that is this float: the digits Excel shows, zeros after.
        return str(int(Decimal(repr(value))))
    return str(value)


# --- checking one row -----------------------------------------------------------------------


@dataclass
class RowPlan:
    line: int
    code: str
    stall: dict
    merchant: dict | None
    payee: dict | None


class _Labels:
    """Which key a typed label means: the key itself, the label as the importer reads it, or
    the Vietnamese label (files are filled in Vietnamese whatever language the UI is in),
    with or without diacritics.
    Built once per file: translating the labels costs more than checking a row."""

    def __init__(self, labels: dict) -> None:
        self.by_text: dict[str, str] = {}
        with force_locale("vi"):
            for key, label in labels.items():
                self.by_text.setdefault(str(label).lower(), key)
        for key, label in labels.items():
            self.by_text[str(label).lower()] = key
        for key in labels:
            self.by_text[key] = key
        # Typed without diacritics ("thit", "dang kinh doanh"): the same labels, folded.
        self.by_fold = {fold_text(text): key for text, key in self.by_text.items()}

    def get(self, raw: str) -> str | None:
        text = raw.strip().lower()
        return self.by_text.get(text) or self.by_fold.get(fold_text(text))


# Columns whose digits are an identity: a number cell may have lost leading zeros and digits.
_TEXT_ONLY = {
    "ma_sap": _l("Mã sạp"),
    "ma_so_thue": _l("Mã số thuế"),
    "so_tai_khoan": _l("Số tài khoản / số thẻ"),
}


def _number_cell_error(line: int, column: str, value: str) -> RowError:
    return RowError(
        line,
        column,
        _(
            "Ô “%(v)s” của cột %(c)s là ô số trong Excel: Excel đã có thể bỏ số 0 ở đầu và đổi "
            "các chữ số sau chữ số thứ 15. Hãy chọn cả cột, bấm chuột phải > Định dạng ô > "
            "Văn bản (Text), gõ lại các số cho đúng rồi tải tệp lên lại.",
            v=value,
            c=column,
        ),
    )


def check_row(
    line: int, row: dict[str, str], labels: tuple[_Labels, _Labels] | None = None
) -> tuple[RowPlan | None, list[RowError]]:
    errors: list[RowError] = []
    categories, statuses = labels or (_Labels(GOODS_CATEGORIES), _Labels(STALL_STATUS_LABELS))
    numbers = [c for c in _TEXT_ONLY if isinstance(row.get(c), NumberText) and row[c]]
    for column in numbers:
        errors.append(_number_cell_error(line, column, row[column]))

    def attempt(column: str, func: Callable[[], object]) -> object:
        try:
            return func()
        except ValueError as exc:
            errors.append(RowError(line, column, str(exc)))
            return None

    code = normalize_code(row.get("ma_sap"))
    if "ma_sap" in numbers:
        pass
    elif not code:
        errors.append(RowError(line, "ma_sap", _("Thiếu mã sạp.")))
    elif len(code) > 20 or not all(c.isalnum() or c == "-" for c in code) or not code.isascii():
        errors.append(
            RowError(line, "ma_sap", _("Mã sạp “%(v)s” chỉ gồm chữ, số và dấu -.", v=row["ma_sap"]))
        )

    stall: dict = {}
    if row.get("khu"):
        if len(row["khu"]) > 40:
            errors.append(RowError(line, "khu", _("Khu / dãy dài quá 40 ký tự.")))
        stall["zone"] = row["khu"]
    if row.get("nganh_hang"):
        category = categories.get(row["nganh_hang"])
        if category is None:
            errors.append(
                RowError(
                    line,
                    "nganh_hang",
                    _("Ngành hàng “%(v)s” không có trong danh sách.", v=row["nganh_hang"]),
                )
            )
        stall["category"] = category
    if row.get("trang_thai"):
        status = statuses.get(row["trang_thai"])
        if status is None:
            errors.append(
                RowError(
                    line,
                    "trang_thai",
                    _(
                        "Trạng thái “%(v)s” phải là active, vacant hoặc closed.",
                        v=row["trang_thai"],
                    ),
                )
            )
        stall["status"] = status

    merchant = None
    if row.get("ho_ten") or row.get("so_dien_thoai"):
        consent_text = row.get("dong_y", "").strip().lower()
        if consent_text not in _YES | _NO:
            errors.append(
                RowError(line, "dong_y", _("“%(v)s” phải là có hoặc không.", v=row.get("dong_y")))
            )
        merchant = {
            "full_name": attempt(
                "ho_ten", lambda: values.normalize_full_name(row.get("ho_ten", ""))
            ),
            "phone": attempt(
                "so_dien_thoai", lambda: values.normalize_phone(row.get("so_dien_thoai", ""))
            ),
            "tax_code": None
            if "ma_so_thue" in numbers
            else attempt("ma_so_thue", lambda: values.normalize_tax_code(row.get("ma_so_thue"))),
            "consent": consent_text in _YES,
        }

    payee = None
    if row.get("ngan_hang") or row.get("so_tai_khoan") or row.get("ten_chu_tai_khoan"):
        service = _SERVICES.get(row.get("loai_tai_khoan", "").strip().lower())
        if service is None:
            errors.append(
                RowError(
                    line,
                    "loai_tai_khoan",
                    _("Loại “%(v)s” phải là tai_khoan hoặc the.", v=row.get("loai_tai_khoan")),
                )
            )
            service = "account"
        bank = attempt("ngan_hang", lambda: values.resolve_bank(row.get("ngan_hang", "")))
        payee = {
            "bank_bin": bank.bin if bank else None,
            "account_number": None
            if "so_tai_khoan" in numbers
            else attempt(
                "so_tai_khoan",
                lambda: values.normalize_account_number(row.get("so_tai_khoan", ""), service),
            ),
            "service": service,
            "holder_name": attempt(
                "ten_chu_tai_khoan",
                lambda: values.normalize_holder_name(row.get("ten_chu_tai_khoan", "")),
            ),
        }
    if errors:
        return None, errors
    return RowPlan(line, code, stall, merchant, payee), []


def _check_rows(
    rows: Iterable[tuple[int, dict[str, str]]], seen: _Seen, report: ImportReport
) -> list[RowPlan]:
    """Check a chunk of rows: each row alone, then against the rows before it in the file
    (``seen``: the stall codes and each phone's first name). Errors go to ``report``."""
    plans: list[RowPlan] = []
    for line, row in rows:
        report.rows += 1
        plan, row_errors = check_row(line, row, seen.labels)
        report.errors.extend(row_errors)
        if plan is None:
            continue
        if plan.code in seen.codes:
            report.errors.append(
                RowError(
                    line,
                    "ma_sap",
                    _("Mã sạp “%(c)s” đã có ở dòng %(l)s.", c=plan.code, l=seen.codes[plan.code]),
                )
            )
            continue
        seen.codes[plan.code] = line
        if plan.merchant:
            phone, name = plan.merchant["phone"], plan.merchant["full_name"]
            first = seen.names.setdefault(phone, (line, name))
            if first[1] != name:
                report.errors.append(
                    RowError(
                        line,
                        "ho_ten",
                        _(
                            "Số %(p)s ở dòng %(l)s mang tên “%(n)s”, khác tên ở dòng này.",
                            p=phone,
                            l=first[0],
                            n=first[1],
                        ),
                    )
                )
                continue
        plans.append(plan)
    return plans


@dataclass
class _Seen:
    """What checking a row needs of the rows before it: small, one entry per stall code and
    per phone."""

    labels: tuple[_Labels, _Labels]
    codes: dict[str, int] = field(default_factory=dict)  # stall code -> first line
    names: dict[str, tuple[int, str]] = field(default_factory=dict)  # phone -> (line, name)


# --- applying -------------------------------------------------------------------------------


def run_import(
    actor: User | None,
    market: Market,
    filename: str,
    content: bytes,
    *,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check and (unless ``dry_run``) apply a file in one transaction. Writes nothing if any
    row has an error. (The pages go through ``upload`` and ``apply_upload``.)"""
    _authorize(actor, market)
    report = _stage_file(actor, market, filename, content, progress=progress)
    if dry_run or not report.ok:
        db.session.rollback()
        return report
    _welcome(actor, report)
    db.session.commit()
    report.applied = True
    return report


@dataclass
class Upload:
    """A checked file: ``batch`` is the stored upload, kept only when it can be applied."""

    filename: str
    report: ImportReport
    batch: ImportBatch | None


def upload(
    actor: User, market: Market, filename: str, content: bytes, *, now: datetime | None = None
) -> Upload:
    """Check a file (a dry run) and keep it to be applied on confirmation, in one transaction
    with the cleaning of old uploads. A file with errors is not kept."""
    _authorize(actor, market)
    filename = (filename or "upload.csv")[-200:]
    report = _stage_file(actor, market, filename, content)
    db.session.rollback()
    if not report.ok:
        return Upload(filename, report, None)
    now = now or utcnow()
    _clean_uploads(market, now)
    batch = ImportBatch(
        market_id=market.id,
        filename=filename,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(batch)
    db.session.commit()
    return Upload(filename, report, batch)


@dataclass
class Applied:
    batch: ImportBatch
    report: ImportReport | None  # None: the upload had been applied before

    @property
    def already(self) -> bool:
        return self.report is None


def apply_upload(
    actor: User,
    market: Market,
    batch_id: int,
    *,
    sha256: str | None = None,
    now: datetime | None = None,
) -> Applied:
    """Apply a stored upload: the import, the upload marked applied and its content dropped,
    in one transaction, so an upload is applied once or not at all. ``sha256``, when given, is
    the checksum of the file the person was shown (an id alone may have been reused)."""
    _authorize(actor, market)
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.market_id != market.id or sha256 not in (None, batch.sha256):
        raise NotFound()
    now = now or utcnow()
    try:
        # Claim the upload first: a concurrent apply of the same upload waits here, then
        # finds it taken (the row lock on PostgreSQL, the write lock on SQLite).
        claimed = db.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch.id, ImportBatch.applied_at.is_(None))
            .values(applied_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            return Applied(db.session.get(ImportBatch, batch_id), None)
        report = _stage_file(actor, market, batch.filename, batch.content, batch=batch)
        if not report.ok:
            db.session.rollback()
            return Applied(batch, report)
        _welcome(actor, report)
        report.applied = True
        _record_applied(batch, report, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Applied(batch, report)


def _welcome(actor: User | None, report: ImportReport) -> None:
    """Every merchant of the file who cannot get in yet gets a login and a one-time code, in
    the import's transaction; the codes go back to the caller once and are never stored."""
    report.welcome = issue_activation_codes(actor, report.phones)


def _record_applied(batch: ImportBatch, report: ImportReport, now: datetime) -> None:
    batch.applied_at = now
    batch.summary = report.as_dict()
    batch.content = b""  # applied: the registry holds what it said, the file is not kept


def _clean_uploads(market: Market, now: datetime) -> None:
    """Uploads are kept to be confirmed, not for ever: the unconfirmed ones past
    UPLOAD_KEEP, and a market's oldest past MAX_PENDING_UPLOADS, are deleted."""
    db.session.execute(
        delete(ImportBatch).where(
            ImportBatch.applied_at.is_(None), ImportBatch.created_at < now - UPLOAD_KEEP
        )
    )
    kept = db.session.scalars(
        select(ImportBatch.id)
        .where(ImportBatch.market_id == market.id, ImportBatch.applied_at.is_(None))
        .order_by(ImportBatch.id.desc())
        .limit(MAX_PENDING_UPLOADS - 1)
    ).all()
    db.session.execute(
        delete(ImportBatch).where(
            ImportBatch.market_id == market.id,
            ImportBatch.applied_at.is_(None),
            ImportBatch.id.not_in(kept) if kept else true(),
        )
    )


def _authorize(actor: User | None, market: Market) -> None:
    if actor is not None and not permissions.can_onboard(actor, market):
        raise Forbidden()


def _stage_file(
    actor: User | None,
    market: Market,
    filename: str,
    content: bytes,
    *,
    progress: Callable[[int], None] | None = None,
    batch: ImportBatch | None = None,
) -> ImportReport:
    """Read, check and stage a file in the session; the caller commits or rolls back.

    One pipeline, _STAGE_CHUNK rows at a time: read them, check them (each row alone, then
    against the rows before it: ``_Seen``), stage them (merchants, stalls, payees:
    ``_stage_plans``), and forget them. What is kept for the whole file is small and one
    entry per stall code or phone (``_Seen``, ``_Staged``), and at most MAX_ERRORS errors (the
    rest are counted), so the import's memory does not grow with the rows' plans
    (bench/bench_import.py). A row with an error stops nothing: the rest of the file is still
    checked and staged, so the report lists every error, and the caller rolls back.

    ``batch`` is the stored upload being applied: payees it creates record it and its
    uploader, who may then not verify them (four-eyes)."""
    report = ImportReport()
    seen = _Seen((_Labels(GOODS_CATEGORIES), _Labels(STALL_STATUS_LABELS)))
    staged = _Staged(actor, market, batch, utcnow())
    table = iter_table(filename, content)
    try:
        while rows := list(islice(table, _STAGE_CHUNK)):
            read = len(rows)
            plans = _check_rows(rows, seen, report)
            del rows
            if not staged.broken:
                try:
                    _stage_plans(staged, plans, report)
                    db.session.flush()
                except IntegrityError:
                    db.session.rollback()
                    staged.broken = True
            staged.rows += len(plans)
            del plans
            _cap_errors(report)
            if progress:
                progress(read)
    except BaseException:
        # A file refused part way (ImportFileError) leaves nothing staged behind.
        db.session.rollback()
        raise
    if staged.broken:
        report.errors.append(
            RowError(0, "", _("Dữ liệu vừa bị người khác thay đổi. Vui lòng thử lại."))
        )
    else:
        report.unchanged = staged.rows - staged.changed
    report.phones = sorted(staged.merchant_ids)
    report.errors.sort(key=_error_order)
    return report


_STAGE_CHUNK = 2000
MAX_ERRORS = 1000  # errors kept in a report; the rest are counted (ImportReport.errors_more)


def _error_order(error: RowError) -> tuple[int, str]:
    return error.line, error.column


def _cap_errors(report: ImportReport) -> None:
    """Keep the first MAX_ERRORS errors of the file, count the rest. Called after each chunk:
    the errors of a chunk are all on lines after those of the chunks before it."""
    if len(report.errors) > MAX_ERRORS:
        report.errors.sort(key=_error_order)
        report.errors_more += len(report.errors) - MAX_ERRORS
        del report.errors[MAX_ERRORS:]


@dataclass
class _Staged:
    """What staging a chunk needs of the chunks before it: small, one entry per phone."""

    actor: User | None
    market: Market
    batch: ImportBatch | None
    now: datetime
    # Every merchant of the file staged so far, by phone (``report.phones``).
    merchant_ids: dict[str, int] = field(default_factory=dict)
    # Of those, the ids of the merchants that were already there (the others this import
    # creates, and a later row of the same phone wins); each was checked once (check_may_hold).
    known: set[int] = field(default_factory=set)
    rows: int = 0  # rows staged (without errors)
    changed: int = 0  # of which rows that changed something
    broken: bool = False  # a flush failed (someone else changed the data): staging stopped


def _stage_plans(staged: _Staged, plans: list[RowPlan], report: ImportReport) -> None:
    """Stage a chunk of rows: merchants, stalls (with their merchant), then payees.

    What is already there is read per chunk, one query per kind, and changed through the ORM
    and the merchants' services. New rows and their audit entries go in as one bulk insert
    per kind and chunk (``market.database.insert_rows``: COPY on PostgreSQL, with their ids
    known without reading them back): 20,000 rows through the ORM's unit of work cost ~35 s,
    and through SQLAlchemy's executemany 12 s on PostgreSQL, past a worker's timeout
    (bench/bench_import.py). What this gives up: new merchants and the
    assignment of stalls are written here, not by ``stage_merchant``/``stage_assignment``,
    so their rules (``consent_at``, the ``stall.assign`` audit entry) are repeated below;
    payees still go through ``stage_payees``.
    """
    actor, market = staged.actor, staged.market
    changed: set[int] = set()  # lines of this chunk that change something
    _stage_merchants(staged, plans, changed, report)
    codes = [plan.code for plan in plans]
    stalls = {
        s.code: s
        for s in db.session.scalars(
            select(Stall).where(Stall.market_id == market.id, one_of(db.session, Stall.code, codes))
        )
    }
    stall_ids = {code: s.id for code, s in stalls.items()}
    currents = {}
    if stall_ids:
        currents = {
            p.stall_id: p
            for p in db.session.scalars(
                select(PayeeAccount).where(
                    one_of(db.session, PayeeAccount.stall_id, list(stall_ids.values())),
                    PayeeAccount.is_current,
                )
            )
        }
    _stage_stalls(
        actor, market, plans, stalls, stall_ids, staged.merchant_ids, changed, report, staged.now
    )
    _stage_payees(actor, market, plans, stalls, stall_ids, currents, changed, report, staged.batch)
    staged.changed += len(changed)


def _stage_merchants(
    staged: _Staged, plans: list[RowPlan], changed: set[int], report: ImportReport
) -> None:
    """The merchants of a chunk: those already there changed through ``stage_merchant`` (and
    checked once: someone known elsewhere is neither changed nor revealed, as by the form),
    new ones inserted (the one place the import creates them)."""
    actor, now, ids = staged.actor, staged.now, staged.merchant_ids
    # Keyed by the file's own phone strings: those are what ``ids`` keeps for the file.
    phones = {p.merchant["phone"]: p.merchant["phone"] for p in plans if p.merchant}
    created = {phone for phone in phones if phone in ids and ids[phone] not in staged.known}
    merchants: dict[str, Merchant] = {}
    if len(phones) > len(created):
        merchants = {
            m.phone: m
            for m in db.session.scalars(
                select(Merchant).where(
                    one_of(db.session, Merchant.phone, sorted(phones.keys() - created))
                )
            )
        }
    for phone, merchant in merchants.items():
        ids[phones[phone]] = merchant.id
    new_merchants: dict[str, dict] = {}
    again: dict[str, dict] = {}  # created by an earlier chunk, named again here
    with db.session.no_autoflush:
        for plan in plans:
            if not plan.merchant:
                continue
            phone = plan.merchant["phone"]
            merchant = merchants.get(phone)
            if merchant is not None:
                before = (merchant.full_name, merchant.tax_code, merchant.consent)
                stage_merchant(merchant=merchant, now=now, **plan.merchant)
                if merchant.id not in staged.known:
                    staged.known.add(merchant.id)
                    try:
                        if actor is not None:
                            check_may_hold(actor, merchant)
                    except DomainError as exc:
                        column = exc.field or "so_dien_thoai"
                        report.errors.append(RowError(plan.line, column, exc.message))
                        continue
                if before != (merchant.full_name, merchant.tax_code, merchant.consent):
                    report.merchants_updated += 1
                    changed.add(plan.line)
                continue
            if phone in created:
                again[phone] = plan.merchant
                continue
            if phone not in new_merchants:
                report.merchants_created += 1
                changed.add(plan.line)
            new_merchants[phone] = {
                **plan.merchant,
                "consent_at": now if plan.merchant["consent"] else None,
                "created_at": now,
            }
    # A merchant created by an earlier chunk and named again: the file's last row wins.
    for phone, merchant in again.items():
        db.session.execute(
            update(Merchant)
            .where(Merchant.id == ids[phone])
            .values(
                tax_code=merchant["tax_code"],
                consent=merchant["consent"],
                consent_at=now if merchant["consent"] else None,
            )
            .execution_options(synchronize_session=False)
        )
    if new_merchants:
        new_ids = insert_rows(
            db.session, Merchant.__table__, list(new_merchants.values()), ids=True
        )
        for phone, merchant_id in zip(new_merchants, new_ids, strict=True):
            ids[phones[phone]] = merchant_id


def _stage_stalls(
    actor: User | None,
    market: Market,
    plans: list[RowPlan],
    stalls: dict[str, Stall],
    stall_ids: dict[str, int],
    merchant_ids: dict[str, int],
    changed: set[int],
    report: ImportReport,
    now: datetime,
) -> None:
    new_stalls: list[dict] = []
    assignments: list[tuple[str, int | None, int, str]] = []  # code, old, new, name
    with db.session.no_autoflush:
        for plan in plans:
            stall = stalls.get(plan.code)
            merchant_id = merchant_ids[plan.merchant["phone"]] if plan.merchant else None
            if stall is None:
                new_stalls.append(
                    {
                        "market_id": market.id,
                        "code": plan.code,
                        "zone": "",
                        "category": "khac",
                        "status": "active",
                        "created_at": now,
                        **plan.stall,
                        "merchant_id": merchant_id,
                    }
                )
                report.stalls_created += 1
                changed.add(plan.line)
            elif any(getattr(stall, k) != v for k, v in plan.stall.items()):
                for key, value in plan.stall.items():
                    setattr(stall, key, value)
                report.stalls_updated += 1
                changed.add(plan.line)
            old_id = stall.merchant_id if stall is not None else None
            if merchant_id is not None and merchant_id != old_id:
                if stall is not None:
                    stall.merchant_id = merchant_id
                assignments.append((plan.code, old_id, merchant_id, plan.merchant["full_name"]))
                report.assignments += 1
                changed.add(plan.line)
    db.session.flush()
    if new_stalls:
        new_ids = insert_rows(db.session, Stall.__table__, new_stalls, ids=True)
        stall_ids.update((row["code"], i) for row, i in zip(new_stalls, new_ids, strict=True))
    audit.record_many(
        "stall.assign",
        actor=actor,
        entity="stall",
        market_id=market.id,
        changes=[
            (stall_ids[code], {"merchant_id": old}, {"merchant_id": new, "merchant_name": name})
            for code, old, new, name in assignments
        ],
    )


def _stage_payees(
    actor: User | None,
    market: Market,
    plans: list[RowPlan],
    stalls: dict[str, Stall],
    stall_ids: dict[str, int],
    currents: dict[int, PayeeAccount],
    changed: set[int],
    report: ImportReport,
    batch: ImportBatch | None = None,
) -> None:
    """The import creates payees through stage_payees, a chunk of rows in one go."""
    payee_changes: list[tuple[int, PayeeAccount | None, dict]] = []
    for plan in plans:
        if not plan.payee:
            continue
        stall = stalls.get(plan.code)
        current = currents.get(stall.id) if stall is not None else None
        if (
            actor is not None
            and stall is not None
            and not permissions.can_set_payee(actor, stall, current)
        ):
            report.errors.append(
                RowError(
                    plan.line,
                    "so_tai_khoan",
                    _(
                        "Sạp %(c)s đã có tài khoản đã xác minh (%(a)s); chỉ quản lý chợ mới "
                        "đổi được.",
                        c=plan.code,
                        a=current.account_number if current else "?",
                    ),
                )
            )
            continue
        if current is not None and current.same_account(
            plan.payee["bank_bin"],
            plan.payee["account_number"],
            plan.payee["service"],
            plan.payee["holder_name"],
        ):
            continue
        payee_changes.append((stall_ids[plan.code], current, plan.payee))
        report.payees_set += 1
        changed.add(plan.line)
    if not report.errors:  # with an error nothing will be written: no need to stage them
        stage_payees(actor, market, payee_changes, import_batch=batch)


# --- export and template --------------------------------------------------------------------


def export_rows(market: Market) -> Iterable[list[str]]:
    """The market's registry in the import format (export then import changes nothing)."""
    yield HEADER
    rows = db.session.execute(
        select(Stall, Merchant, PayeeAccount)
        .outerjoin(Merchant, Merchant.id == Stall.merchant_id)
        .outerjoin(PayeeAccount, (PayeeAccount.stall_id == Stall.id) & PayeeAccount.is_current)
        .where(Stall.market_id == market.id)
        .order_by(Stall.code)
    )
    for stall, merchant, payee in rows:
        yield [
            stall.code,
            stall.zone,
            stall.category,
            stall.status,
            merchant.full_name if merchant else "",
            merchant.phone if merchant else "",
            (merchant.tax_code or "") if merchant else "",
            ("co" if merchant.consent else "khong") if merchant else "",
            payee.bank_bin if payee else "",
            payee.account_number if payee else "",
            ("the" if payee.service == "card" else "tai_khoan") if payee else "",
            payee.holder_name if payee else "",
        ]


def to_csv(rows: Iterable[list[str]]) -> bytes:
    return spreadsheets.to_csv(rows)


def to_xlsx(rows: Iterable[list[str]], *, title: str = "Danh sach sap") -> bytes:
    # Every column as text: keeps leading zeros of phone and account numbers typed later.
    guide = [[column.key, str(column.label)] for column in COLUMNS]
    return spreadsheets.to_xlsx([(title, rows), ("Huong dan", guide)], text_columns=len(HEADER))


# The template's example row, in Vietnamese whatever the UI's language (files are filled in
# Vietnamese). A row with its stall code and name is the example, however a spreadsheet
# re-typed its numbers, and is never imported.
EXAMPLE_ROW = {
    "ma_sap": "VD-01",
    "khu": "Khu A",
    "nganh_hang": "Rau củ",
    "trang_thai": "Đang kinh doanh",
    "ho_ten": "Nguyễn Thị Mẫu",
    "so_dien_thoai": "0912345678",
    "ma_so_thue": "",
    "dong_y": "có",
    "ngan_hang": "Vietcombank",
    "so_tai_khoan": "0011001234567",
    "loai_tai_khoan": "tai_khoan",
    "ten_chu_tai_khoan": "NGUYEN THI MAU",
}
#: A row whose stall code starts with this is a note (the CSV template's allowed values).
NOTE_MARK = "#"


def is_template_row(row: dict[str, str]) -> bool:
    """Whether a read row is the template's example or one of its notes: skipped."""
    code = row.get("ma_sap", "")
    if code.startswith(NOTE_MARK):
        return True
    return (
        normalize_code(code) == EXAMPLE_ROW["ma_sap"]
        and row.get("ho_ten", "") == EXAMPLE_ROW["ho_ten"]
    )


def allowed_values() -> list[list[str]]:
    """[column, value, meaning] for every coded column: what a cell may hold."""
    rows: list[list[str]] = []
    with force_locale("vi"):
        categories = {key: str(label) for key, label in GOODS_CATEGORIES.items()}
        statuses = {key: str(label) for key, label in STALL_STATUS_LABELS.items()}
    for key, label in GOODS_CATEGORIES.items():
        rows.append(
            ["nganh_hang", categories[key], _("hoặc %(key)s · %(label)s", key=key, label=label)]
        )
    for key, label in STALL_STATUS_LABELS.items():
        rows.append(
            ["trang_thai", statuses[key], _("hoặc %(key)s · %(label)s", key=key, label=label)]
        )
    rows.append(["dong_y", "có", _("đồng ý tham gia (cũng nhận: x, 1, yes)")])
    rows.append(["dong_y", "không", _("chưa đồng ý (hoặc để trống)")])
    rows.append(["loai_tai_khoan", "tai_khoan", _("số tài khoản (hoặc để trống)")])
    rows.append(["loai_tai_khoan", "the", _("số thẻ (16 đến 19 chữ số)")])
    for bank in banks_by_use():
        rows.append(["ngan_hang", bank.short_name, f"{bank.code} · {bank.bin} · {bank.name}"])
    return rows


def template_rows() -> list[list[str]]:
    """The template's first sheet: the header and the example row."""
    return [HEADER, [EXAMPLE_ROW[key] for key in HEADER]]


def template_csv() -> bytes:
    """The CSV template: header, example row, then the allowed values as note rows (a
    stall code starting with ``#``), which the import skips."""
    notes = [
        [f"{NOTE_MARK} {_('Giá trị hợp lệ (dòng bắt đầu bằng # không được nhập)')}"],
        *([f"{NOTE_MARK} {column}", value, meaning] for column, value, meaning in allowed_values()),
    ]
    return spreadsheets.to_csv([*template_rows(), *notes])


def template_xlsx() -> bytes:
    """The XLSX template: the example on the first sheet (the one imported), the allowed
    values of every coded column on a second, the columns explained on a third."""
    guide = [[column.key, str(column.label)] for column in COLUMNS]
    values_sheet = [[_("Cột"), _("Giá trị"), _("Ý nghĩa")], *allowed_values()]
    return spreadsheets.to_xlsx(
        [
            ("Danh sach sap", template_rows()),
            ("Gia tri hop le", values_sheet),
            ("Huong dan", guide),
        ],
        text_columns=len(HEADER),
    )
