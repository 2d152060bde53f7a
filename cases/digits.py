"""Digits as people type them: Arabic-Indic and Persian digits, spaces and dashes."""

from __future__ import annotations

_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def western_digits(value: str) -> str:
    """The value with Arabic-Indic and Persian digits made ASCII, nothing else changed."""
    return value.translate(_TO_ASCII)


def ascii_digits(value: str) -> str:
    """The value with Arabic-Indic digits made ASCII and spaces, dashes and dots removed."""
    return "".join(ch for ch in western_digits(value) if ch not in " -.\u00a0\u200f\u200e")
