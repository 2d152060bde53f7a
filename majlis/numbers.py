"""Whole numbers as people type them into forms."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}")


def whole_number(text: str) -> int | None:
    """The number typed, or None: ASCII digits only ("²".isdigit() is true, but int("²") fails)."""
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else None
