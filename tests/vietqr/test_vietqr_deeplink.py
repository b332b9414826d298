"""VietQR deeplinks (vietqr.io's dl.vietqr.io scheme) and the list of bank apps they open."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from market.vietqr import FieldError, all_banks, bank_app_link, bank_apps

# The documented example (https://www.vietqr.io/deeplink.md), field for field.
DOC_EXAMPLE = "https://dl.vietqr.io/pay?app=mb&am=2000&tn=Thanh+toan+DH123&ba=2000@mb"


def _query(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "dl.vietqr.io", "/pay")
    return parse_qs(parts.query, keep_blank_values=True)


def test_link_carries_the_fields_of_the_documented_example():
    link = bank_app_link(
        "mb", account="2000", bank_code="MB", amount=2000, content="Thanh toan DH123"
    )
    assert _query(link) == _query(DOC_EXAMPLE)


def test_account_at_bank_keeps_its_at_sign_and_lower_case_code():
    link = bank_app_link("vcb", account="0011001234567", bank_code="VCB")
    assert "&ba=0011001234567@vcb" in link
    assert "%40" not in link
    assert "am=" not in link and "tn=" not in link


def test_content_and_name_are_ascii_and_escaped():
    link = bank_app_link(
        "icb",
        account="123",
        bank_code="ICB",
        content="Rau muống & cá=2 #1",
        name="Nguyễn Thị Hoa",
    )
    query = _query(link)
    assert query["tn"] == ["Rau muong & ca=2 #1"]
    assert query["bn"] == ["Nguyen Thi Hoa"]
    assert "#" not in link and " " not in link


def test_return_url_stays_readable_but_cannot_split_the_query():
    url = "https://cho.example.vn/pay/TN-A/A-01?amount=25000&ref=A01QX7"
    link = bank_app_link("mb", account="1", bank_code="MB", amount=25000, return_url=url)
    assert "url=https://cho.example.vn/pay/TN-A/A-01?amount=25000%26ref=A01QX7" in link
    assert _query(link)["url"] == [url]
    assert _query(link)["am"] == ["25000"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"account": "12 34"}, "account"),
        ({"account": "1&am=1"}, "account"),
        ({"account": ""}, "account"),
        ({"bank_code": "v c b"}, "bank_code"),
        ({"amount": 0}, "amount"),
        ({"amount": 2.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"return_url": "javascript:alert(1)"}, "url"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(kwargs, field):
    args = {"account": "123", "bank_code": "VCB", **kwargs}
    with pytest.raises(FieldError) as error:
        bank_app_link("mb", **args)
    assert error.value.field == field


@pytest.mark.parametrize("app_id", ["", "MB", "mb&x=1", "a b", "x" * 40])
def test_bad_app_id_is_refused(app_id):
    with pytest.raises(FieldError):
        bank_app_link(app_id, account="1", bank_code="MB")


def test_app_list_is_most_installed_first_with_unique_ids():
    apps = bank_apps()
    assert len(apps) >= 30
    installs = [app.monthly_installs for app in apps]
    assert installs == sorted(installs, reverse=True)
    assert len({app.app_id for app in apps}) == len(apps)
    assert apps[0].app_id == "mb"
    for app in apps:
        bank_app_link(app.app_id, account="1", bank_code="MB")  # every id is a valid one
        assert app.app_name and app.bank_name


def test_autofill_apps_are_those_the_vietqr_changelog_announces():
    autofill = {app.app_id for app in bank_apps() if app.autofill}
    assert autofill == {"mb", "bidv", "icb", "ocb", "acb"}


def test_every_plain_napas_code_builds_and_the_spaced_ones_are_refused():
    for bank in all_banks():
        if bank.code.isalnum():
            link = bank_app_link("mb", account="1", bank_code=bank.code)
            assert link.endswith(f"&ba=1@{bank.code.lower()}")
        else:  # "IBK - HN": no app takes it; the page then offers no app links
            with pytest.raises(FieldError):
                bank_app_link("mb", account="1", bank_code=bank.code)
