"""Names and subjects without the invisible characters that reorder the text around them.

A bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069) or a direction mark (U+200E, U+200F,
U+061C) typed into a name makes it read differently from what was stored: an override can show a word
reversed, or turn "invoice_exe.pdf" into something else in a list beside other names (the "Trojan Source"
trick). Majlis lays out names and subjects itself (pages isolate them in <bdi>), so these characters carry
nothing a reader needs; they are taken out at intake.
"""

from __future__ import annotations

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
)
_REMOVE = dict.fromkeys(map(ord, BIDI_CONTROLS))


def without_bidi_controls(text: str) -> str:
    """The text with every bidi control character removed."""
    return text.translate(_REMOVE)


# What Majlis itself puts around a number in a message's text (an SMS, a WhatsApp message, an e-mail, a voice
# prompt's text): a left-to-right isolate (LRI … PDI), so "6-000005-26", "+966 50…" and "10:30" read left to right
# inside Arabic and never pull the words around them out of order. Pages use <bdi dir="ltr"> (web's `ltr` filter).
LEFT_TO_RIGHT_ISOLATE = "\u2066"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def left_to_right(text: object) -> str:
    """The text (a tracking number, a phone, an ID, a time, an amount) isolated to read left to right."""
    return f"{LEFT_TO_RIGHT_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def first_strong(text: object) -> str:
    """The text isolated in the direction of its first letter (FSI … PDI): a name in either script, or a number
    (no letter: left to right), set into a sentence without disturbing it."""
    return f"\u2068{text}{POP_DIRECTIONAL_ISOLATE}"
