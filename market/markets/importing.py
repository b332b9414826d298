"""Bulk import of a market's stalls, merchants and payee accounts from CSV or XLSX.

One file row is one stall. Every row is checked and the whole file is applied in one
transaction, or nothing is. A dry run does exactly the same work and rolls it back, so what
it reports is what the import will do. Importing the same file again changes nothing: rows
are matched on (market, stall code), merchants on their phone number, and blank optional
cells keep what is already there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market import spreadsheets
from market.auth import permissions
from market.auth.models import User
from market.auth.services import issue_activation_codes
from market.errors import DomainError, Forbidden
from market.extensions import db
from market.markets.forms import STALL_STATUS_LABELS, normalize_code
from market.markets.models import GOODS_CATEGORIES, ImportBatch, Market, Stall
from market.merchants import values
from market.merchants.models import Merchant
from market.merchants.services import current_payee, stage_assignment, stage_merchant, stage_payee


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
    Column("ngan_hang", _l("Ngân hàng (BIN hoặc mã)"), ("bank", "bank_bin")),
    Column("so_tai_khoan", _l("Số tài khoản / số thẻ"), ("account_number",)),
    Column("loai_tai_khoan", _l("Loại (tai_khoan / the)"), ("account_type", "service")),
    Column("ten_chu_tai_khoan", _l("Tên chủ tài khoản"), ("holder_name",)),
)
HEADER = [c.key for c in COLUMNS]
MAX_ROWS = 20_000

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
    # The activation codes issued for this import (market.auth.services.IssuedCode): shown
    # once, so never part of as_dict (which is stored with the batch).
    welcome_codes: list = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("errors", "welcome_codes")}
        data["errors"] = [e.__dict__ for e in self.errors]
        return data


# --- reading files --------------------------------------------------------------------------


def read_table(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column key: text}) for each non-empty data row of a CSV or XLSX file."""
    name = filename.lower()
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
    table = []
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(table) >= MAX_ROWS:
            raise ImportFileError(_("Tệp có quá %(n)s dòng.", n=MAX_ROWS))
        row = {key: (cells[i].strip() if i < len(cells) else "") for i, key in keys.items()}
        table.append((line, row))
    return table


def _header_keys(header: tuple[int, list[str]]) -> dict[int, str]:
    _line, cells = header
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


def _csv_rows(content: bytes) -> Iterable[tuple[int, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("Tệp CSV phải lưu bằng mã UTF-8 (trong Excel: Lưu thành > CSV UTF-8).")
        ) from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for cells in reader:
        yield reader.line_num, cells


def _xlsx_rows(content: bytes) -> Iterable[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ImportFileError(_("Không đọc được tệp Excel: %(why)s", why=str(exc)[:120])) from exc
    try:
        sheet = workbook.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(c) for c in cells]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


# --- checking one row -----------------------------------------------------------------------


@dataclass
class RowPlan:
    line: int
    code: str
    stall: dict
    merchant: dict | None
    payee: dict | None


def _lookup_label(raw: str, labels: dict) -> str | None:
    """The key whose label was typed: the key itself, the label as the importer reads it, or
    the Vietnamese label (files are filled in Vietnamese whatever language the UI is in)."""
    text = raw.strip().lower()
    shown = {key: str(label).lower() for key, label in labels.items()}
    with force_locale("vi"):
        vietnamese = {key: str(label).lower() for key, label in labels.items()}
    for key in labels:
        if text in (key, shown[key], vietnamese[key]):
            return key
    return None


def check_row(line: int, row: dict[str, str]) -> tuple[RowPlan | None, list[RowError]]:
    errors: list[RowError] = []

    def attempt(column: str, func: Callable[[], object]) -> object:
        try:
            return func()
        except ValueError as exc:
            errors.append(RowError(line, column, str(exc)))
            return None

    code = normalize_code(row.get("ma_sap"))
    if not code:
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
        category = _lookup_label(row["nganh_hang"], GOODS_CATEGORIES)
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
        status = _lookup_label(row["trang_thai"], STALL_STATUS_LABELS)
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
            "tax_code": attempt(
                "ma_so_thue", lambda: values.normalize_tax_code(row.get("ma_so_thue"))
            ),
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
            "account_number": attempt(
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


def _check_file(table: list[tuple[int, dict[str, str]]]) -> tuple[list[RowPlan], list[RowError]]:
    plans: list[RowPlan] = []
    errors: list[RowError] = []
    seen_codes: dict[str, int] = {}
    names_by_phone: dict[str, tuple[int, str]] = {}
    for line, row in table:
        plan, row_errors = check_row(line, row)
        errors.extend(row_errors)
        if plan is None:
            continue
        if plan.code in seen_codes:
            errors.append(
                RowError(
                    line,
                    "ma_sap",
                    _("Mã sạp “%(c)s” đã có ở dòng %(l)s.", c=plan.code, l=seen_codes[plan.code]),
                )
            )
            continue
        seen_codes[plan.code] = line
        if plan.merchant:
            phone, name = plan.merchant["phone"], plan.merchant["full_name"]
            first = names_by_phone.setdefault(phone, (line, name))
            if first[1] != name:
                errors.append(
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
    return plans, errors


# --- applying -------------------------------------------------------------------------------


def run_import(
    actor: User | None,
    market: Market,
    filename: str,
    content: bytes,
    *,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
    batch: ImportBatch | None = None,
) -> ImportReport:
    """Check and (unless ``dry_run``) apply a file. Writes nothing if any row has an error.

    ``batch`` is the stored upload being applied: payees it creates record it and its
    uploader, who may then not verify them (four-eyes)."""
    if actor is not None and not permissions.can_onboard(actor, market):
        raise Forbidden()
    table = read_table(filename, content)
    report = ImportReport(rows=len(table))
    plans, report.errors = _check_file(table)
    try:
        for plan in plans:
            try:
                _apply_row(actor, market, plan, report, batch)
            except DomainError as exc:
                report.errors.append(RowError(plan.line, exc.field or "", exc.message))
            if progress:
                progress(1)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        report.errors.append(
            RowError(0, "", _("Dữ liệu vừa bị người khác thay đổi. Vui lòng thử lại."))
        )
        return report
    report.errors.sort(key=lambda e: (e.line, e.column))
    if dry_run or report.errors:
        db.session.rollback()
        return report
    # Every merchant of the file who cannot get in yet gets a login and a one-time code,
    # in this transaction; the codes go back to the caller once and are never stored.
    report.welcome_codes = issue_activation_codes(
        actor, [plan.merchant["phone"] for plan in plans if plan.merchant]
    )
    db.session.commit()
    report.applied = True
    return report


def _apply_row(
    actor: User | None,
    market: Market,
    plan: RowPlan,
    report: ImportReport,
    batch: ImportBatch | None = None,
) -> None:
    changed = False
    stall = db.session.scalar(
        select(Stall).where(Stall.market_id == market.id, Stall.code == plan.code)
    )
    if stall is None:
        stall = Stall(market=market, code=plan.code, zone="", category="khac", status="active")
        for key, value in plan.stall.items():
            setattr(stall, key, value)
        db.session.add(stall)
        db.session.flush()
        report.stalls_created += 1
        changed = True
    elif any(getattr(stall, k) != v for k, v in plan.stall.items()):
        for key, value in plan.stall.items():
            setattr(stall, key, value)
        report.stalls_updated += 1
        changed = True

    if plan.merchant:
        existing = db.session.scalar(
            select(Merchant).where(Merchant.phone == plan.merchant["phone"])
        )
        before = (
            None if existing is None else (existing.full_name, existing.tax_code, existing.consent)
        )
        merchant = stage_merchant(merchant=existing, **plan.merchant)
        if existing is None:
            db.session.flush()
            report.merchants_created += 1
            changed = True
        elif before != (merchant.full_name, merchant.tax_code, merchant.consent):
            report.merchants_updated += 1
            changed = True
        if stage_assignment(actor, stall, merchant):
            report.assignments += 1
            changed = True

    if plan.payee:
        try:
            if stage_payee(actor, stall, import_batch=batch, **plan.payee) is not None:
                report.payees_set += 1
                changed = True
        except Forbidden as exc:
            current = current_payee(stall)
            raise Forbidden(
                _(
                    "Sạp %(c)s đã có tài khoản đã xác minh (%(a)s); chỉ quản lý chợ mới đổi được.",
                    c=plan.code,
                    a=current.account_number if current else "?",
                ),
                field="so_tai_khoan",
            ) from exc
    if not changed:
        report.unchanged += 1


# --- export and template --------------------------------------------------------------------


def export_rows(market: Market) -> Iterable[list[str]]:
    """The market's registry in the import format (export then import changes nothing)."""
    from market.merchants.models import PayeeAccount

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


def template_rows() -> list[list[str]]:
    return [HEADER]
