"""Shared WTForms pieces: the base form every form of the app derives from, and choices."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import wtforms
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice


def nfc(value: object) -> object:
    """Text in Unicode NFC; anything else unchanged. A name typed with a decomposed-Unicode
    input method ("e" + U+0302 + U+0301) is then checked, stored and searched exactly like
    the same name typed composed ("ế")."""
    if isinstance(value, str) and not value.isascii():
        return unicodedata.normalize("NFC", value)
    return value


class _NFCMeta:
    """Puts ``nfc`` first in every field's filters (which run before its validators).

    Passwords are left as typed: they are compared as they were first set, and a stored
    hash of a decomposed password must keep matching.
    """

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if not isinstance(field, PasswordField):
            field.filters = (nfc, *field.filters)
        return field


class Form(FlaskForm):
    """The app's forms (CSRF-protected): every text field reaches its checks in NFC."""

    class Meta(_NFCMeta):
        pass


class PlainForm(wtforms.Form):
    """A form read from a GET query (no CSRF), its text in NFC like ``Form``'s."""

    class Meta(_NFCMeta):
        pass


def choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as the choices WTForms wants."""
    return [SelectChoice(value, label) for value, label in pairs]
