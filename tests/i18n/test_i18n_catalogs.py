"""The English catalog is complete and compiled: every message extracted from the current
source has an English translation with the same placeholders, and the committed .mo file says
what the .po file says. When these fail, run ``make translations`` and translate what it
reports in market/translations/en/LC_MESSAGES/messages.po (then run it again to compile).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "market" / "translations"
LOCALES = ["en"]
# The same keywords as `make translations` (-k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
FIX = "run `make translations`, translate the new messages in {po}, then run it again"
# %(name)s placeholders and the literal %% (Jinja's newstyle gettext always applies %).
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%%")


def source_msgids() -> set[str]:
    with (TRANSLATIONS / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
        if isinstance(message, str)
    }


def read_catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def translated(catalog: Catalog) -> dict[str, str]:
    """msgid -> translation, leaving out fuzzy and empty entries (gettext ignores them)."""
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


@pytest.fixture(scope="module")
def msgids() -> set[str]:
    found = source_msgids()
    assert len(found) > 400, "the extraction found almost nothing: is babel.cfg right?"
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_source_has_a_translation(msgids, locale):
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    have = translated(read_catalog(locale))
    missing = sorted(msgids - set(have))
    assert not missing, (
        f"{len(missing)} message(s) without a translation in {locale!r} ({FIX.format(po=po)}):\n"
        + "\n".join(f"  {m!r}" for m in missing)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po_file(locale):
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: {FIX.format(po=po)}"
    with mo.open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    expected = translated(read_catalog(locale))
    stale = sorted(
        k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)
    )
    assert not stale, (
        f"{mo.name} is out of date with {po.name} for {len(stale)} message(s) "
        f"({FIX.format(po=po)}):\n" + "\n".join(f"  {m!r}" for m in stale[:50])
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    wrong = [
        (m.id, m.string)
        for m in read_catalog(locale)
        if m.id
        and m.string
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(f"  {i!r} -> {s!r}" for i, s in wrong)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_are_in_the_target_language(locale):
    """A Vietnamese letter left in an English message is an untranslated word (the brand
    "Chợ 4.0", the file vocabulary in quotes and the language picker's own names are the
    exceptions)."""
    allowed = re.compile(r"Chợ 4\.0|“[^”]*”|\b(có|không)\b|Tiếng Việt|Ngôn ngữ")
    vietnamese = re.compile(r"[À-ỹđĐ]")
    left = [
        (m.id, m.string)
        for m in read_catalog(locale)
        if m.id and m.string and vietnamese.search(allowed.sub("", m.string))
    ]
    assert not left, "Vietnamese left in translations:\n" + "\n".join(
        f"  {i!r} -> {s!r}" for i, s in left
    )


def test_placeholder_check_sees_a_dropped_placeholder():
    """Control for the check above."""
    assert sorted(PLACEHOLDER.findall("Đã nhận %(amount)s đồng")) != sorted(
        PLACEHOLDER.findall("Received money")
    )
