"""The import takes banks and text as people type them: a file naming banks imports exactly
like its twin with BINs, and a file typed in decomposed Unicode (NFD) exactly like its
composed (NFC) twin."""

import io
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets import importing
from market.markets.models import Stall
from market.merchants.models import Merchant, PayeeAccount

HEADER = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan"
)
# (stall, name, phone, bank as a BIN, the same bank as people write it, account, holder)
ROWS = [
    ("D-01", "Phạm Thị Lan", "0912000001", "970436", "Vietcombank", "0011000123456"),
    ("D-02", "Đỗ Văn Hùng", "0912000002", "970405", "agribank", "1500205123456"),
    ("D-03", "Lê Thị Ngọc Ánh", "0912000003", "970422", "MB Bank", "0801234567"),
    ("D-04", "Nguyễn Thị Hương", "0912000004", "970436", "vcb", "0011000999999"),
    (
        "D-05",
        "Trần Quốc Việt",
        "0912000005",
        "970415",
        "Ngân hàng TMCP Công thương Việt Nam",
        "1018671234",
    ),
    ("D-06", "Hoàng Thị Thủy", "0912000006", "970436", "ngoai thuong", "0011000888888"),
    ("D-07", "Vũ Đức Thắng", "0912000007", "970418", "  B I D V ", "2151000123456"),
    ("D-08", "Bùi Thị Hằng", "0912000008", "970449", "LienVietPostBank", "0091234567"),
]


def _csv(bank_column: int, *, form: str = "NFC") -> bytes:
    lines = [HEADER]
    for code, name, phone, bin_, written, account in ROWS:
        bank = (bin_, written)[bank_column]
        lines.append(
            f"{code},Khu Đông,Rau củ,active,{name},{phone},,có,{bank},{account},tài khoản,{name}"
        )
    return unicodedata.normalize(form, "\n".join(lines) + "\n").encode("utf-8")


def _xlsx(*, form: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for code, name, phone, _bin, written, account in ROWS:
        row = [
            code,
            "Khu Đông",
            "Rau củ",
            "active",
            name,
            phone,
            "",
            "có",
            written,
            account,
            "tài khoản",
            name,
        ]
        sheet.append([unicodedata.normalize(form, cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _counts():
    return tuple(
        db.session.scalar(select(func.count(m.id)))
        for m in (Stall, Merchant, PayeeAccount, AuditLog)
    )


def _apply(world, content: bytes, name: str = "sap.csv", *, dry_run: bool = False):
    return importing.run_import(
        world.users["manager"], world.market_a, name, content, dry_run=dry_run
    )


def test_the_nfd_fixture_really_is_decomposed():
    nfd = _csv(1, form="NFD").decode()
    assert nfd != _csv(1).decode() and unicodedata.is_normalized("NFD", nfd)
    assert "Ph\u1ea1m" not in nfd  # no precomposed ạ left


def test_a_file_naming_banks_imports_like_its_twin_with_bins(world):
    coded = _apply(world, _csv(0))
    assert coded.ok, coded.errors
    assert coded.payees_set == len(ROWS)
    after_coded = _counts()
    named = _apply(world, _csv(1))
    assert named.ok, named.errors
    # Every row of the named file is what the coded one already made: nothing changes.
    assert (named.unchanged, named.payees_set, named.stalls_created) == (len(ROWS), 0, 0)
    assert _counts() == after_coded
    banks = dict(
        db.session.execute(
            select(Stall.code, PayeeAccount.bank_bin)
            .join(PayeeAccount, PayeeAccount.stall_id == Stall.id)
            .where(
                Stall.market_id == world.market_a.id,
                PayeeAccount.is_current,
                Stall.code.like("D-%"),
            )
        ).all()
    )
    assert banks == {code: bin_ for code, _n, _p, bin_, _w, _a in ROWS}


def test_a_named_bank_file_alone_resolves_every_bank(world):
    report = _apply(world, _csv(1), dry_run=True)
    assert report.ok, report.errors
    assert report.payees_set == len(ROWS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_nfd_file_imports_exactly_like_its_composed_twin(world, fmt):
    composed = _csv(1) if fmt == "csv" else _xlsx(form="NFC")
    decomposed = _csv(1, form="NFD") if fmt == "csv" else _xlsx(form="NFD")
    assert composed != decomposed
    first = _apply(world, decomposed, f"nfd.{fmt}")
    assert first.ok, first.errors
    assert (first.stalls_created, first.merchants_created, first.payees_set) == (len(ROWS),) * 3
    names = set(
        db.session.scalars(select(Merchant.full_name).where(Merchant.phone.like("091200000%")))
    )
    assert names == {name for _c, name, *_rest in ROWS}  # stored composed
    assert all(unicodedata.is_normalized("NFC", name) for name in names)
    zones = set(db.session.scalars(select(Stall.zone).where(Stall.code.like("D-%"))))
    assert zones == {"Khu Đông"}
    before = _counts()
    again = _apply(world, composed, f"nfc.{fmt}")
    assert again.ok, again.errors
    assert again.unchanged == len(ROWS) and _counts() == before


def test_an_ambiguous_bank_name_is_an_error_listing_the_candidates(world):
    content = (
        HEADER + "\nD-09,,,active,Kim Văn An,0912000009,,có,Kookmin,123456789,,KIM VAN AN\n"
    ).encode()
    before = _counts()
    report = _apply(world, content)
    assert not report.ok
    [error] = report.errors
    assert error.column == "ngan_hang"
    assert "KookminHN" in error.message and "KookminHCM" in error.message
    assert _counts() == before


def test_an_unknown_bank_is_an_error_with_examples(world):
    content = (
        HEADER + "\nD-09,,,active,Kim Văn An,0912000009,,có,Ngân hàng Mặt Trăng,1234,,KIM VAN AN\n"
    ).encode()
    report = _apply(world, content, dry_run=True)
    [error] = report.errors
    assert error.column == "ngan_hang" and "Vietcombank" in error.message


def test_coded_columns_are_read_without_diacritics_too(world):
    rows = [
        "D-11,,rau cu,dang kinh doanh,Lê Văn Tám,0912000011,,co,,,,",
        "D-12,,THIT,Còn trống,,,,,,,,",
        'D-13,,"ca, thuy san",da dong,,,,,,,,',
    ]
    report = _apply(world, ("\n".join([HEADER, *rows]) + "\n").encode(), dry_run=False)
    assert report.ok, report.errors
    found = dict(
        db.session.execute(
            select(Stall.code, Stall.category + "/" + Stall.status).where(Stall.code.like("D-1%"))
        ).all()
    )
    assert found == {"D-11": "rau-cu/active", "D-12": "thit/vacant", "D-13": "thuy-san/closed"}


def test_part_of_one_bank_name_is_asked_about_not_guessed(world):
    content = (
        HEADER + "\nD-09,,,active,Kim Văn An,0912000009,,có,Vietcom,123456789,,KIM VAN AN\n"
    ).encode()
    report = _apply(world, content, dry_run=True)
    [error] = report.errors
    assert error.column == "ngan_hang" and "có phải Vietcombank?" in error.message
