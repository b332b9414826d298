"""python -m market.vietqr, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

S007 = (
    "00020101021238570010A00000072701270006970454011340527271763110208QRIBFTTA"
    "5303704540410005802VN62120808Tien rau6304A7C0"
)
S013 = (
    "00020101021238570010A00000072701270006970407011344889388169100208QRIBFTTA"
    "53037045405300005802VN62480844Mua trai cay o cho Hom ngay hom nay sap so 46304EFC7"
)
S015 = (
    "00020101021138600010A00000072701300006970441011697044187773675300208QRIBFTTC"
    "53037045802VN6304821F"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "market.vietqr", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_encode_prints_the_payload() -> None:
    result = run(
        "encode", "--bin", "970454", "--account", "4052727176311", "--amount", "1000",
        "--purpose", "Tiền rau",
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, S007 + "\n", "")


def test_encode_card() -> None:
    result = run("encode", "--bin", "970441", "--account", "9704418777367530", "--card")
    assert (result.returncode, result.stdout) == (0, S015 + "\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bin", "970454", "--account", "1", "--amount", "1,000"],
         "54 (amount): '1,000' is not a whole number of dong"),
        (["--bin", "97045", "--account", "1"], "38.01.00 (bank BIN): '97045'"),
        (["--bin", "999999", "--account", "1"], "38.01.00 (bank BIN): '999999'"),
        (["--bin", "970454", "--account", "12-34"], "38.01.01 (account): '12-34'"),
        (["--bin", "970454", "--account", "1", "--purpose", "x" * 26], "62.08 (purpose)"),
    ],
)  # fmt: skip
def test_encode_bad_input_exits_2_with_the_message_on_stderr(args: list[str], message: str) -> None:
    result = run("encode", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_encode_lenient_and_truncate_handle_a_long_purpose() -> None:
    args = ["encode", "--bin", "970407", "--account", "4488938816910", "--amount", "30000"]
    purpose = ["--purpose", "Mua trai cay o cho Hom ngay hom nay sap so 4"]
    assert run(*args, *purpose, "--lenient").stdout == S013 + "\n"
    truncated = run(*args, *purpose, "--truncate")
    assert truncated.returncode == 0
    assert "0825Mua trai cay o cho Hom ng6304" in truncated.stdout


def test_decode_prints_the_fields_as_json() -> None:
    result = run("decode", S007)
    assert result.returncode == 0
    assert result.stderr == ""
    fields = json.loads(result.stdout)
    assert fields["bank"] == "VietCapitalBank"
    assert fields["bank_code"] == "VCCB"
    assert fields["bank_name"] == "Ngân hàng TMCP Bản Việt"
    assert fields["bank_bin"] == "970454"
    assert fields["account"] == "4052727176311"
    assert fields["amount"] == 1000
    assert fields["purpose"] == "Tien rau"
    assert fields["initiation"] == "12"
    assert fields["is_dynamic"] is True
    assert fields["service"] == "account"
    assert fields["crc"] == "A7C0"
    assert fields["warnings"] == []


def test_decode_bad_payload_exits_2_with_the_message_on_stderr() -> None:
    result = run("decode", S007[:-1] + "1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "63 (crc): 'A7C1' does not match the payload" in result.stderr


def test_decode_lenient_reports_warnings_in_the_json() -> None:
    strict = run("decode", S013)
    assert strict.returncode == 2
    assert "62.08 (purpose)" in strict.stderr

    lenient = run("decode", S013, "--lenient")
    assert lenient.returncode == 0
    fields = json.loads(lenient.stdout)
    assert fields["purpose"] == "Mua trai cay o cho Hom ngay hom nay sap so 4"
    assert len(fields["warnings"]) == 1
    assert fields["bank"] == "Techcombank"


@pytest.mark.parametrize("args", [[], ["encode", "--bin", "970436"], ["decode"], ["frob"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
