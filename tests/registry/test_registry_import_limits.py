"""Import files as input from anyone: bounded work whatever the file (bytes unpacked, rows
including empty ones, columns, cells), number cells never read as identities, one
transaction per use case, and stored uploads capped and cleaned."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth.models import utcnow
from market.errors import NotFound
from market.extensions import db
from market.markets import importing
from market.markets.models import ImportBatch, Stall
from market.merchants.models import Merchant, PayeeAccount
from tests.registry.test_registry_import import GOOD, HEADER
from tests.registry.xlsx_files import inline_row, xlsx

ROOT = Path(__file__).resolve().parents[2]


def _counts():
    return tuple(
        db.session.scalar(select(func.count(m.id)))
        for m in (Stall, Merchant, PayeeAccount, AuditLog, ImportBatch)
    )


def _upload(client, content: bytes, name: str):
    return client.post(
        "/markets/TN-A/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


# --- crafted files -------------------------------------------------------------------------


def one_wide_row(cells: int = 1_000_000) -> bytes:
    """A header row, then one row of millions of inline cells without references."""
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    return xlsx([inline_row(1, ["ma_sap"]), b'<row r="2">', *([cell] * cells), b"</row>"])


def huge_shared_strings(strings: int = 1_500_000) -> bytes:
    """A sheet of two cells, and a shared-strings part of 1.5 million entries (~25 MB)."""
    rows = [
        b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        b'<row r="2"><c r="A2" t="s"><v>1</v></c></row>',
    ]
    return xlsx(rows, [b"<si><t>ma_sap</t></si>", *([b"<si><t>A-1</t></si>"] * strings)])


def empty_rows(rows: int = 2_000_000) -> bytes:
    """A header, then millions of empty rows (as a sheet formatted down to its last row)."""
    return xlsx([inline_row(1, ["ma_sap"]), *([b"<row/>"] * rows)])


CRAFTED = {
    "wide_row": (one_wide_row, "64 cột"),
    "shared_strings": (huge_shared_strings, "quá nhiều ô"),
    "empty_rows": (empty_rows, "kể cả dòng trống"),
}


@pytest.mark.parametrize("kind", sorted(CRAFTED))
def test_crafted_xlsx_is_refused_with_a_clear_message(world, kind):
    make, message = CRAFTED[kind]
    content = make()
    assert len(content) < 1_000_000  # small on disk, as an attacker's file is
    with pytest.raises(importing.ImportFileError, match=message):
        importing.read_table("bomb.xlsx", content)


def test_an_xlsx_that_unpacks_past_the_limit_is_refused():
    content = xlsx([inline_row(1, ["ma_sap"])], [b"<si><t>" + b"x" * 999 + b"</t></si>"] * 70_000)
    with pytest.raises(importing.ImportFileError, match="giải nén ra quá 64 MB"):
        importing.read_table("big.xlsx", content)


def test_a_damaged_xlsx_is_refused_never_a_crash(app):
    good = _small_xlsx()
    for offset in range(30, len(good), max(1, len(good) // 60)):
        damaged = bytearray(good)
        damaged[offset : offset + 4] = b"\xff\x00\x13\x37"
        with contextlib.suppress(importing.ImportFileError):
            importing.read_table("damaged.xlsx", bytes(damaged))


def _small_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER.split(","))
    workbook.active.append(["A-1", "Khu A"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_MEASURE = """
import json, resource, sys
from market.app import create_app
from market.markets import importing
from tests.registry import test_registry_import_limits as files
app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
content = files.CRAFTED[sys.argv[1]][0]() if sys.argv[1] != "good" else files.good_xlsx()
with app.test_request_context():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        rows = len(importing.read_table("f.xlsx", content))
    except importing.ImportFileError as exc:
        rows = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "rows": rows}))
"""


def good_xlsx(rows: int = 20_000) -> bytes:
    """The largest file the import accepts: 20,000 full rows."""
    header = inline_row(1, list(importing.HEADER))
    return xlsx(
        [
            header,
            *(
                inline_row(
                    i + 2,
                    [
                        f"S-{i:05d}",
                        "Khu A",
                        "rau-cu",
                        "active",
                        "Nguyễn Văn An",
                        f"09{i:08d}",
                        "",
                        "có",
                        "970436",
                        f"{100000000 + i}",
                        "tai_khoan",
                        "NGUYEN VAN AN",
                    ],
                )
                for i in range(rows)
            ),
        ]
    )


def _peak_growth(kind: str) -> dict:
    """How much a fresh worker process's peak memory grows reading a file of this kind."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reading_crafted_files_costs_a_worker_little_memory():
    """Each crafted file unpacks to tens of MB of XML and millions of cells or rows; reading
    it, up to its refusal, grows the worker's peak memory by less than the largest file the
    import accepts does (openpyxl: over 2 GB for such files)."""
    good = _peak_growth("good")
    assert good["rows"] == 20_000
    for kind in CRAFTED:
        result = _peak_growth(kind)
        assert isinstance(result["rows"], str), result  # refused
        assert result["grew_kib"] < max(good["grew_kib"], 20_000), (kind, result, good)
    assert good["grew_kib"] < 200_000, good


def test_a_crafted_upload_answers_422_and_stores_nothing(world, client, auth):
    auth.login("manager")
    before = _counts()
    response = _upload(client, empty_rows(), "bomb.xlsx")
    assert response.status_code == 422
    assert "kể cả dòng trống" in response.get_data(as_text=True)
    assert _counts() == before


# --- CSV -----------------------------------------------------------------------------------


def test_a_csv_field_longer_than_the_csv_module_allows_is_a_clear_error(world, client, auth):
    content = f"{HEADER}\nC-01,{'x' * 200_000},rau-cu\n".encode()
    with pytest.raises(importing.ImportFileError, match="Dòng 2"):
        importing.read_table("long.csv", content)
    auth.login("manager")
    before = _counts()
    response = _upload(client, content, "long.csv")
    assert response.status_code == 422 and "Dòng 2" in response.get_data(as_text=True)
    assert _counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"ma_sap\n" + b"\n" * 50_000 + b"A-1\n", "kể cả dòng trống"),
        (b"ma_sap\nA-1" + b"," * 100 + b"\n", "64 cột"),
        (b"ma_sap\n" + b"," * 600_000, "quá nhiều ô"),
        (b"ma_sap,khu\nA-1," + b"x" * 1001 + b"\n", "1000 ký tự"),
        (b"ma_sap\n" + b"A-1\n" * 2_200_000, "MB"),
    ],
    ids=["empty-lines", "columns", "cells", "cell-length", "file-size"],
)
def test_csv_bounds(content, message):
    with pytest.raises(importing.ImportFileError, match=message):
        importing.read_table("f.csv", content)


# --- numbers a spreadsheet made ------------------------------------------------------------


def _workbook(row: list[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ROW = [
    "C-01",
    "Khu C",
    "rau-cu",
    "active",
    "Phạm Thị Lan",
    "0912000001",
    "",
    "có",
    "970405",
    "1500205123456",
    "tai_khoan",
    "PHAM THI LAN",
]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("so_tai_khoan", 1500205123456789012),  # 19 digits: Excel keeps 15 of them
        ("so_tai_khoan", 11001234567),  # a leading zero already lost
        ("ma_so_thue", 101234567),
        ("ma_sap", 12),
    ],
)
def test_a_number_cell_never_becomes_an_identity(world, column, value):
    row = list(ROW)
    row[importing.HEADER.index(column)] = value
    before = _counts()
    report = importing.run_import(
        world.users["manager"], world.market_a, "f.xlsx", _workbook(row), dry_run=False
    )
    assert not report.applied
    [error] = report.errors
    assert (error.line, error.column) == (2, column)
    assert "Văn bản (Text)" in error.message and "ô số" in error.message
    assert _counts() == before


def test_the_same_values_typed_as_text_are_imported(world):
    row = list(ROW)
    row[importing.HEADER.index("ma_so_thue")] = "0101234567"
    row[importing.HEADER.index("so_dien_thoai")] = 912000001  # phones are still repaired
    report = importing.run_import(
        world.users["manager"], world.market_a, "f.xlsx", _workbook(row), dry_run=False
    )
    assert report.applied, report.errors
    lan = db.session.scalar(select(Merchant).where(Merchant.phone == "0912000001"))
    assert lan.tax_code == "0101234567"


def test_a_19_digit_number_read_by_the_stream_reader_is_refused(world):
    content = xlsx(
        [
            inline_row(1, list(importing.HEADER)),
            inline_row(2, [*ROW[:9], 1.50020512345678e18, *ROW[10:]]),
        ]
    )
    report = importing.run_import(
        world.users["manager"], world.market_a, "f.xlsx", content, dry_run=True
    )
    assert [(e.line, e.column) for e in report.errors] == [(2, "so_tai_khoan")]
    assert "1500205123456780000" in report.errors[0].message


# --- one transaction per use case; stored uploads ------------------------------------------


def test_a_failure_after_the_import_leaves_nothing_applied(world, monkeypatch):
    manager = world.users["manager"]
    checked = importing.upload(manager, world.market_a, "stalls.csv", GOOD.encode())
    batch_id = checked.batch.id
    before = _counts()

    def fail(*_args, **_kwargs):
        raise RuntimeError("injected: the worker died between the import and its record")

    monkeypatch.setattr(importing, "_record_applied", fail)
    with pytest.raises(RuntimeError, match="injected"):
        importing.apply_upload(manager, world.market_a, batch_id)
    db.session.expire_all()
    assert _counts() == before
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.applied_at is None and batch.content == GOOD.encode()

    monkeypatch.undo()
    applied = importing.apply_upload(manager, world.market_a, batch_id)
    assert applied.report.applied and applied.report.stalls_created == 3
    again = importing.apply_upload(manager, world.market_a, batch_id)
    assert again.already
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.applied_at is not None and batch.summary["stalls_created"] == 3
    assert batch.content == b""  # applied: the file is not kept
    assert db.session.scalar(select(func.count(Stall.id))) == 5


def test_a_file_with_errors_is_not_stored(world):
    checked = importing.upload(
        world.users["manager"], world.market_a, "bad.csv", f"{HEADER}\nA-1,Khu A,cá voi\n".encode()
    )
    assert checked.batch is None and not checked.report.ok
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_stored_uploads_are_capped_per_market_and_cleaned_after_two_days(world):
    manager = world.users["manager"]
    now = utcnow()
    importing.upload(manager, world.market_a, "old.csv", GOOD.encode(), now=now - timedelta(days=3))
    importing.upload(
        world.users["manager_b"],
        world.market_b,
        "b.csv",
        # Market B's own stalls (A-01's merchant is market A's: not B's to bring in).
        "".join(
            line for line in GOOD.replace("C-0", "B-0").splitlines(True) if "A-01" not in line
        ).encode(),
        now=now - timedelta(hours=1),
    )
    for i in range(importing.MAX_PENDING_UPLOADS + 3):
        importing.upload(manager, world.market_a, f"{i}.csv", GOOD.encode(), now=now)
    kept = set(db.session.scalars(select(ImportBatch.filename)))
    assert "old.csv" not in kept and "b.csv" in kept
    assert kept - {"b.csv"} == {f"{i}.csv" for i in range(3, importing.MAX_PENDING_UPLOADS + 3)}


def test_a_confirmation_applies_only_the_file_it_was_shown_for(world):
    """A confirmation page left open names its upload by id and checksum: if that upload was
    cleaned away and its id reused (SQLite reuses the highest id), another file is not
    applied in its place."""
    manager = world.users["manager"]
    first = importing.upload(manager, world.market_a, "a.csv", GOOD.encode()).batch
    sha = first.sha256
    other = GOOD.replace("C-0", "D-0").encode()
    second = importing.upload(manager, world.market_a, "b.csv", other).batch
    with pytest.raises(NotFound):
        importing.apply_upload(manager, world.market_a, second.id, sha256=sha)
    assert db.session.get(ImportBatch, second.id).applied_at is None


def test_staging_in_chunks_gives_the_same_result(world, monkeypatch):
    monkeypatch.setattr(importing, "_STAGE_CHUNK", 1)
    manager = world.users["manager"]
    report = importing.run_import(manager, world.market_a, "s.csv", GOOD.encode(), dry_run=False)
    assert report.applied, report.errors
    assert (report.stalls_created, report.merchants_created, report.payees_set) == (3, 1, 2)
    assert (report.assignments, report.unchanged) == (2, 1)
    lan = db.session.scalar(select(Merchant).where(Merchant.phone == "0912000001"))
    codes = db.session.scalars(select(Stall.code).where(Stall.merchant_id == lan.id)).all()
    assert sorted(codes) == ["C-01", "C-02"]
    entries = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert entries.count("stall.assign") == 2 and entries.count("payee.set") == 2
    again = importing.run_import(manager, world.market_a, "s.csv", GOOD.encode(), dry_run=False)
    assert again.unchanged == 4
