"""Vietnamese alphabetical order (market.formatting.vietnamese_key): Đ after D, the letters
with a breve, circumflex or horn after their base letter, tone marks only second."""

import doctest
import random
import unicodedata

import market.formatting
from market.formatting import vietnamese_key


def test_doctests():
    assert doctest.testmod(market.formatting).failed == 0


def test_dictionary_order_of_letters_then_tones():
    # As a Vietnamese dictionary orders them.
    expected = [
        "an",
        "ăn",
        "ấn",
        "bàn",
        "chợ",
        "dân",
        "dẫn",
        "đá",
        "đàn",
        "em",
        "ếch",
        "in",
        "oa",
        "ô",
        "ơ",
        "ơn",
        "u",
        "ừ",
        "xã",
        "y",
    ]
    shuffled = expected[:]
    random.Random(4).shuffle(shuffled)
    assert sorted(shuffled, key=vietnamese_key) == expected


def test_tones_only_break_ties_of_the_same_letters():
    # "Mả" before "Mai": letters first (a = a, then end before i), tones only after.
    assert sorted(["Mai", "Mả"], key=vietnamese_key) == ["Mả", "Mai"]
    # Same letters: the tone order is none, huyền, hỏi, ngã, sắc, nặng.
    assert sorted(["lạ", "lá", "lã", "lả", "là", "la"], key=vietnamese_key) == [
        "la",
        "là",
        "lả",
        "lã",
        "lá",
        "lạ",
    ]


def test_case_and_unicode_form_do_not_change_the_order():
    names = ["Đồng Hỷ", "đại từ", "Định Hóa", "Dương Quang"]
    decomposed = [unicodedata.normalize("NFD", n) for n in names]
    assert [unicodedata.normalize("NFC", n) for n in sorted(decomposed, key=vietnamese_key)] == [
        "Dương Quang",
        "đại từ",
        "Định Hóa",
        "Đồng Hỷ",
    ]
    # The plain Unicode order puts Đ (U+0110) after every Latin letter: not what people expect.
    assert sorted(["Đồng Hỷ", "Yên Bình"]) == ["Yên Bình", "Đồng Hỷ"]
    assert sorted(["Đồng Hỷ", "Yên Bình"], key=vietnamese_key) == ["Đồng Hỷ", "Yên Bình"]
