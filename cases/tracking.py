"""Tracking numbers: digits only, read aloud in three groups, with a Damm check digit.

Format: YY-NNNNNN-C, e.g. 26-000417-5: the two-digit Riyadh year, a serial
within the year (more digits once it passes 999,999) and a check digit over all
the digits before it. Damm's algorithm catches every single-digit mistake and
every swap of two neighbouring digits, the two mistakes people make when they
read a number over the phone; Luhn misses some swaps (09 ↔ 90).
"""

from __future__ import annotations

from cases.digits import ascii_digits

# The quasigroup table of H. Michael Damm (2004): a totally anti-symmetric
# operation of order 10 with zeros on the diagonal.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

SERIAL_WIDTH = 6


def damm_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def format_tracking_number(year: int, serial: int) -> str:
    """The tracking number of the serial-th request of a year."""
    if serial < 1:
        raise ValueError("serial numbers start at 1")
    yy = f"{year % 100:02d}"
    body = f"{serial:0{SERIAL_WIDTH}d}"
    return f"{yy}-{body}-{damm_digit(yy + body)}"


def parse_tracking_number(raw: str) -> str | None:
    """The canonical form of a typed tracking number, or None when its check digit fails.

    Accepts Arabic-Indic digits and any spacing or dashes.
    """
    digits = ascii_digits(raw)
    if not digits.isdigit() or not digits.isascii() or len(digits) < 2 + SERIAL_WIDTH + 1:
        return None
    if damm_digit(digits) != 0:  # a valid number including its check digit reduces to 0
        return None
    return f"{digits[:2]}-{digits[2:-1]}-{digits[-1]}"
