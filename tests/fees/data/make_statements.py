"""Writes the statement fixtures of this folder (run from the repository root:
``.venv/bin/python tests/fees/data/make_statements.py``). See README.md for the layouts."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
BOARD_ACCOUNT = "0011001932418"


def vcb_rows() -> list[list]:
    """Vietcombank's "Sao kê tài khoản" (VCB Digibiz XLSX): letterhead, then bilingual headers
    split over two lines, date and document number in one cell, a totals footer."""
    return [
        ["NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM"],
        ["SAO KÊ TÀI KHOẢN", None, "STATEMENT OF ACCOUNT"],
        ["Số tài khoản/Account number:", BOARD_ACCOUNT],
        ["Loại tiền/Currency:", "VND"],
        ["Từ/ From: 01/03/2026 Đến/ To: 31/03/2026"],
        ["Số dư đầu kỳ/Opening balance", "2.308.471"],
        [],
        [
            "STT\nNo.",
            "Ngày1/\nTNX Date/ Số CT/ Doc No",
            "Ngày hiệu lực2/\nEffective date",
            "Số tiền ghi nợ/\nDebit",
            "Số tiền ghi có/\nCredit",
            "Số dư/\nBalance",
            "Nội dung chi tiết/\nTransactions in detail",
        ],
        [
            1,
            "05/03/2026\n5243.65937",
            "05/03/2026",
            "",
            "1.250.000",
            "3.558.471",
            "MBVCB.4525077405.NGUYEN THI HOA chuyen tien PHI CPAB23CD45",
        ],
        [
            2,
            "06/03/2026\n5272.37452",
            "06/03/2026",
            "",
            "600.000",
            "4.158.471",
            "IBFT tu 0351000646393 LE VAN BINH phi cho thang 3 CP-HH23-CD47",
        ],
        [
            3,
            "07/03/2026\n5280.11200",
            "07/03/2026",
            "99.000",
            "",
            "4.059.471",
            "Phi duy tri tai khoan",
        ],
        [
            4,
            "08/03/2026\n5301.00017",
            "08/03/2026",
            "",
            "200.000",
            "4.259.471",
            "Chuyen tien khong ghi ma",
        ],
        ["Tổng số/Total", "", "", "99.000", "2.050.000", "", ""],
        ["Số dư cuối kỳ/Closing balance", "", "", "", "", "4.259.471", ""],
    ]


def tcb_rows() -> list[list]:
    """Techcombank's "Sao kê tài khoản" (Business XLSX): headers "Việt/English" in one line,
    the transaction's reference (số bút toán) in its own column, debit and credit as numbers."""
    return [
        ["TECHCOMBANK"],
        ["SAO KÊ TÀI KHOẢN/ACCOUNT STATEMENT"],
        ["Tài khoản/Account no.: 19020352517013"],
        ["Từ ngày/From: 01/03/2026", None, "Đến ngày/To: 31/03/2026"],
        [],
        [
            "Ngày KH thực hiện/Requesting date",
            "Ngày giao dịch/Transaction date",
            "Số bút toán/Reference",
            "Ngân hàng đối tác/Remitter's bank",
            "Tài khoản đích/Remitter's account number",
            "Tên tài khoản đối ứng/Remitter's account name",
            "Diễn giải/Description",
            "Nợ/Debit",
            "Có/Credit",
            "Số dư/Balance",
        ],
        [
            "05/03/2026",
            "05/03/2026 09:14:02",
            "FT26064812345678",
            "VCB",
            "0351000646393",
            "NGUYEN THI HOA",
            "PHI CPAB23CD45",
            0,
            1250000,
            3558471,
        ],
        [
            "06/03/2026",
            "06/03/2026 16:40:55",
            "FT26065900011122",
            "BIDV",
            "21510000123",
            "TRAN VAN CUONG",
            "CPKM23CD46 chuyen khoan",
            0,
            450000,
            4008471,
        ],
        [
            "07/03/2026",
            "07/03/2026 08:00:00",
            "FT26066000000001",
            "",
            "",
            "",
            "PHI QUAN LY TAI KHOAN",
            11000,
            0,
            3997471,
        ],
    ]


def digibank_csv() -> bytes:
    """Vietcombank Digibank's CSV ("Lịch sử giao dịch"): a title line, then plain headers;
    amounts with commas, ISO dates, headers typed in decomposed Unicode (NFD)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["Lịch sử giao dịch tài khoản " + BOARD_ACCOUNT])
    header = ["Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có", "Mô tả"]
    writer.writerow([unicodedata.normalize("NFD", h) for h in header])
    writer.writerow(
        [
            "2026-03-05 10:01:00",
            "5243.65937",
            "",
            "1,250,000",
            "NGUYEN THI HOA chuyen tien PHI CPAB23CD45",
        ]
    )
    writer.writerow(["2026-03-09 14:30:00", "5333.10001", "", "2,000,000.00", "CP-ZZ23-CD49"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def save_xlsx(path: Path, rows: list[list]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sao ke"
    for row in rows:
        sheet.append(row)
    workbook.save(path)


if __name__ == "__main__":
    save_xlsx(HERE / "vcb_saoke.xlsx", vcb_rows())
    save_xlsx(HERE / "tcb_saoke.xlsx", tcb_rows())
    (HERE / "vcb_digibank.csv").write_bytes(digibank_csv())
