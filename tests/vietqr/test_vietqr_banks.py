"""The NAPAS member list shipped in market/vietqr/napas_banks.csv."""

from __future__ import annotations

import dataclasses

import pytest

from market.vietqr import Bank, all_banks, bank_by_bin, bank_by_code


def test_the_list_has_65_banks_sorted_by_unique_six_digit_bin() -> None:
    banks = all_banks()
    bins = [bank.bin for bank in banks]
    assert len(banks) == 65
    assert bins == sorted(bins)
    assert len(set(bins)) == 65
    assert all(len(b) == 6 and b.isascii() and b.isdigit() for b in bins)


def test_codes_are_unique_ignoring_case() -> None:
    codes = [bank.code.casefold() for bank in all_banks()]
    assert len(set(codes)) == len(codes)


def test_every_row_has_a_code_short_name_and_name() -> None:
    assert all(bank.code and bank.short_name and bank.name for bank in all_banks())


def test_bank_is_frozen() -> None:
    bank = bank_by_bin("970436")
    assert isinstance(bank, Bank)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bank.code = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("bin_", "code", "short_name"),
    [
        ("970436", "VCB", "Vietcombank"),
        ("970415", "ICB", "VietinBank"),
        ("970414", "MBV", "MBV"),  # renamed from Oceanbank, same BIN
        ("970449", "LPB", "LPBank"),  # renamed from LienVietPostBank
        ("970454", "VCCB", "VietCapitalBank"),  # BVBank, still listed under its old name
        ("422589", "CIMB", "CIMB"),  # VietQR BIN, not SBV's 970459
        ("977777", "MAFC", "MAFC"),  # VietQR BIN, not SBV's 970468
        ("971025", "momo", "MoMo"),
    ],
)
def test_bank_by_bin_finds_known_banks(bin_: str, code: str, short_name: str) -> None:
    bank = bank_by_bin(bin_)
    assert bank is not None
    assert (bank.code, bank.short_name) == (code, short_name)


@pytest.mark.parametrize("bin_", ["970459", "970468", "970460", "970464", "970470", "963369"])
def test_bins_outside_the_vietqr_list_are_unknown(bin_: str) -> None:
    assert bank_by_bin(bin_) is None


@pytest.mark.parametrize(
    ("code", "bin_"),
    [
        ("VCB", "970436"),
        ("vcb", "970436"),
        ("IBK - HN", "970455"),
        ("ibk - hcm", "970456"),
        ("  NHB HN ", "801011"),
        ("MOMO", "971025"),
        ("kbank", "668888"),
    ],
)
def test_bank_by_code_ignores_case_and_outer_spaces(code: str, bin_: str) -> None:
    bank = bank_by_code(code)
    assert bank is not None
    assert bank.bin == bin_


@pytest.mark.parametrize("code", ["", "IBKHN", "IBK-HN", "BID", "CTG", "NOPE"])
def test_bank_by_code_matches_whole_vietqr_codes_only(code: str) -> None:
    assert bank_by_code(code) is None


def test_vietnamese_names_are_read_as_utf8() -> None:
    bank = bank_by_bin("970405")
    assert bank is not None
    assert bank.name == "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam"
