"""The shared NAPAS VietQR vectors, both ways: build == payload, parse == inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from market.vietqr import (
    LengthError,
    bank_by_code,
    build_payload,
    parse_payload,
)

VECTORS_FILE = Path(__file__).with_name("vietqr_vectors.jsonl")
VECTORS: list[dict[str, Any]] = [
    json.loads(line) for line in VECTORS_FILE.read_text(encoding="utf-8").splitlines() if line
]
OVER_SPEC = "purpose_over_spec_25"


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [vector["id"] for vector in vectors]


def _amount(vector: dict[str, Any]) -> int | None:
    return None if vector["amount"] is None else int(vector["amount"])


def _build(vector: dict[str, Any], **options: Any) -> str:
    return build_payload(
        vector["bankBin"],
        vector["accountNumber"],
        amount=_amount(vector),
        purpose=vector["purpose"],
        service=vector["service"],
        **options,
    )


WITHIN_SPEC = [v for v in VECTORS if OVER_SPEC not in v["tags"]]
OVER = [v for v in VECTORS if OVER_SPEC in v["tags"]]


def test_the_vector_file_has_twenty_distinct_vectors() -> None:
    assert len(VECTORS) == 20
    assert len({v["id"] for v in VECTORS}) == 20
    assert len(OVER) == 1


@pytest.mark.parametrize("vector", WITHIN_SPEC, ids=_ids(WITHIN_SPEC))
def test_build_is_byte_identical_to_the_vector(vector: dict[str, Any]) -> None:
    assert _build(vector) == vector["payload"]


@pytest.mark.parametrize("vector", WITHIN_SPEC, ids=_ids(WITHIN_SPEC))
def test_parse_returns_the_vector_inputs(vector: dict[str, Any]) -> None:
    qr = parse_payload(vector["payload"])

    assert qr.bank_bin == vector["bankBin"]
    assert qr.account == vector["accountNumber"]
    assert qr.amount == _amount(vector)
    assert qr.purpose == vector["purpose"]
    assert qr.service == vector["service"]
    assert qr.initiation == vector["expect_initiation"]
    assert qr.is_dynamic == (vector["expect_initiation"] == "12")
    assert qr.service_code == vector["expect_service_code"]
    assert (qr.payload_format, qr.guid, qr.currency, qr.country) == (
        "01",
        "A000000727",
        "704",
        "VN",
    )
    assert qr.crc == vector["payload"][-4:]
    assert qr.warnings == ()
    assert qr.extra == ()


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_vector_bank_code_names_the_bank_of_its_bin(vector: dict[str, Any]) -> None:
    bank = bank_by_code(vector["bank"])
    assert bank is not None
    assert bank.bin == vector["bankBin"]
    assert parse_payload(vector["payload"], strict=False).bank == bank


@pytest.mark.parametrize("vector", OVER, ids=_ids(OVER))
def test_strict_build_refuses_a_purpose_over_25_characters(vector: dict[str, Any]) -> None:
    with pytest.raises(LengthError) as caught:
        _build(vector)
    assert caught.value.field == "62.08"
    assert caught.value.value == vector["purpose"]
    assert "44 characters" in str(caught.value)


@pytest.mark.parametrize("vector", OVER, ids=_ids(OVER))
def test_lenient_build_keeps_a_long_purpose_exactly(vector: dict[str, Any]) -> None:
    assert _build(vector, strict=False) == vector["payload"]


@pytest.mark.parametrize("vector", OVER, ids=_ids(OVER))
def test_truncate_cuts_a_long_purpose_to_25_characters(vector: dict[str, Any]) -> None:
    qr = parse_payload(_build(vector, truncate=True))
    assert qr.purpose == vector["purpose"][:25].rstrip()
    assert qr.purpose == "Mua trai cay o cho Hom ng"


@pytest.mark.parametrize("vector", OVER, ids=_ids(OVER))
def test_strict_parse_refuses_and_lenient_parse_warns_on_long_purpose(
    vector: dict[str, Any],
) -> None:
    with pytest.raises(LengthError) as caught:
        parse_payload(vector["payload"])
    assert caught.value.field == "62.08"

    qr = parse_payload(vector["payload"], strict=False)
    assert qr.purpose == vector["purpose"]
    assert qr.amount == _amount(vector)
    assert len(qr.warnings) == 1
    assert qr.warnings[0].startswith("62.08 (purpose): ")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_parsed_fields_rebuild_the_same_payload(vector: dict[str, Any]) -> None:
    qr = parse_payload(vector["payload"], strict=False)
    rebuilt = build_payload(
        qr.bank_bin,
        qr.account,
        amount=qr.amount,
        purpose=qr.purpose,
        service=qr.service,
        strict=False,
    )
    assert rebuilt == vector["payload"]
