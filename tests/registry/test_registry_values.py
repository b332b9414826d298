import pytest

from market.merchants import values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("0386-123-456", "0386123456"),
        ("912345678", "0912345678"),
    ],
)
def test_phone_numbers_are_normalised(app, raw, expected):
    assert values.normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "12345", "0212345678", "09123456789", "091234567a", "0112345678", "+1 912345678"]
)
def test_bad_phone_numbers_are_refused_with_the_value_quoted(app, raw):
    with pytest.raises(ValueError, match="không phải số di động") as info:
        values.normalize_phone(raw)
    assert f"“{raw}”" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Thị Hoa", "NGUYEN THI HOA"),
        ("  đặng   văn đức ", "DANG VAN DUC"),
        ("TRAN VAN BINH", "TRAN VAN BINH"),
    ],
)
def test_holder_names_become_bank_style_uppercase_ascii(app, raw, expected):
    assert values.normalize_holder_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "Nguyen 2", "CTY TNHH A&B"])
def test_bad_holder_names_are_refused(app, raw):
    with pytest.raises(ValueError):
        values.normalize_holder_name(raw)


@pytest.mark.parametrize(
    ("raw", "service", "expected"),
    [
        ("0011 0012 34567", "account", "0011001234567"),
        ("9704 3612 3456 7890", "card", "9704361234567890"),
    ],
)
def test_account_numbers_lose_spaces(app, raw, service, expected):
    assert values.normalize_account_number(raw, service) == expected


@pytest.mark.parametrize(
    ("raw", "service"),
    [
        ("", "account"),
        ("12345678901234567890", "account"),
        ("12-ab$", "account"),
        ("970436123", "card"),
        ("97043612345678901234", "card"),
    ],
)
def test_bad_account_numbers_are_refused(app, raw, service):
    with pytest.raises(ValueError):
        values.normalize_account_number(raw, service)


def test_banks_resolve_by_bin_or_code_and_unknown_ones_are_refused(app):
    assert values.resolve_bank("970436").short_name == "Vietcombank"
    assert values.resolve_bank("vcb").bin == "970436"
    with pytest.raises(ValueError, match="NAPAS"):
        values.resolve_bank("999999")


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("0101234567", True),
        ("0101234567-001", True),
        ("001089012345", True),
        ("12345", False),
        ("abc", False),
    ],
)
def test_tax_codes(app, raw, ok):
    if ok:
        assert values.normalize_tax_code(raw) == raw
    else:
        with pytest.raises(ValueError):
            values.normalize_tax_code(raw)
