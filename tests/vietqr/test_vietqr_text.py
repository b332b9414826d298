"""Vietnamese to ASCII transliteration."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.vietqr import transliterate

# The 12 Vietnamese vowel letters, each with the 6 tones (none, huyền, sắc, hỏi, ngã, nặng).
VOWELS_WITH_TONES = (
    "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị oòóỏõọ ôồốổỗộ ơờớởỡợ uùúủũụ ưừứửữự yỳýỷỹỵ"
)
VOWELS_PLAIN = "aaaaaa aaaaaa aaaaaa eeeeee eeeeee iiiiii oooooo oooooo oooooo uuuuuu uuuuuu yyyyyy"
BASES = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def test_market_sentence_loses_its_diacritics() -> None:
    assert transliterate("Trả tiền rau Đà Lạt") == "Tra tien rau Da Lat"


def test_all_vowels_with_all_tones_lowercase() -> None:
    assert transliterate(VOWELS_WITH_TONES) == VOWELS_PLAIN


def test_all_vowels_with_all_tones_uppercase() -> None:
    assert transliterate(VOWELS_WITH_TONES.upper()) == VOWELS_PLAIN.upper()


def test_the_vowel_table_really_has_every_vowel_and_tone() -> None:
    letters = set(VOWELS_WITH_TONES.replace(" ", ""))
    expected = {unicodedata.normalize("NFC", base + tone) for base in BASES for tone in TONES}
    assert len(expected) == 72
    assert all(len(letter) == 1 for letter in expected)  # each is one precomposed character
    assert letters == expected


@pytest.mark.parametrize(
    ("text", "plain"), [("đ", "d"), ("Đ", "D"), ("Ð", "D"), ("ĐƯỜNG", "DUONG")]
)
def test_d_with_stroke_becomes_d(text: str, plain: str) -> None:
    assert transliterate(text) == plain


def test_decomposed_input_gives_the_same_result_as_precomposed() -> None:
    sentence = "Chợ Bến Thành, người bán rau muống"
    decomposed = unicodedata.normalize("NFD", sentence)
    assert decomposed != sentence
    assert (
        transliterate(decomposed)
        == transliterate(sentence)
        == ("Cho Ben Thanh, nguoi ban rau muong")
    )


def test_ascii_text_is_returned_unchanged() -> None:
    text = "don#15 a/b_c-d ~!"
    assert transliterate(text) is text


def test_characters_without_a_latin_base_are_left_for_the_caller() -> None:
    assert transliterate("Giá 100€ 🍜") == "Gia 100€ 🍜"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=VOWELS_WITH_TONES + VOWELS_WITH_TONES.upper() + "đĐ bcghklmnpqrstvx"))
def test_vietnamese_alphabet_text_always_becomes_ascii(text: str) -> None:
    plain = transliterate(text)
    assert plain.isascii()
    assert len(plain) == len(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_transliteration_is_idempotent(text: str) -> None:
    once = transliterate(text)
    assert transliterate(once) == once
