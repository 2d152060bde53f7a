"""Digits as people type them: Arabic-Indic and Persian digits, spaces and dashes."""

from __future__ import annotations

from majlis.bidi import BIDI_CONTROLS

_IGNORED = frozenset(" -.\u00a0") | BIDI_CONTROLS
_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def western_digits(value: str) -> str:
    """The value with Arabic-Indic and Persian digits made ASCII, nothing else changed."""
    return value.translate(_TO_ASCII)


def ascii_digits(value: str) -> str:
    """The value with Arabic-Indic digits made ASCII and spaces, dashes, dots and bidi marks removed.

    A number copied from an Arabic SMS carries the isolates around it (notify.texts.isolated): they go too."""
    return "".join(ch for ch in western_digits(value) if ch not in _IGNORED)
