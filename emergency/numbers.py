"""Emergency report numbers: E, the Riyadh year, a serial and a Damm check digit, as tracking numbers are made.

Format: EYY-NNNNNN-C, e.g. E26-000123-4. The leading E tells a report number from a request's tracking number
(digits only) wherever a citizen types one, so the one status page can follow both; the digits after it are
made and checked exactly as tracking numbers are (cases/tracking.py), so a slip of one digit or a swap of two
neighbours read over the phone is caught.

Serials: the next after the highest number of the year. Two registrations at once on PostgreSQL may read the
same highest number; the unique number makes the second wait for the first to commit and then fail, and the
caller tries again in a savepoint (emergency/reports.py). SQLite's write transactions already run one at a time.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.digits import ascii_digits
from cases.tracking import SERIAL_WIDTH, damm_digit
from emergency.models import EmergencyReport
from majlis.clock import Clock, riyadh

PREFIX = "E"


def format_report_number(year: int, serial: int) -> str:
    """The number of the serial-th report of a (Riyadh) year."""
    if serial < 1:
        raise ValueError("serial numbers start at 1")
    yy = f"{year % 100:02d}"
    body = f"{serial:0{SERIAL_WIDTH}d}"
    return f"{PREFIX}{yy}-{body}-{damm_digit(yy + body)}"


# Direction marks a number copied from an Arabic message carries (the SMS wraps it in isolates): LRI, RLI, FSI,
# PDI, LRM, RLM and the Arabic letter mark. Invisible, so a citizen pasting the number cannot see them.
_MARKS = dict.fromkeys([0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C])


def _unmarked(raw: str) -> str:
    return raw.translate(_MARKS).strip()


def looks_like_report_number(raw: str) -> bool:
    """True when what was typed is meant as a report number (it starts with E), whether or not it is valid."""
    return _unmarked(raw)[:1] in ("E", "e")


def parse_report_number(raw: str) -> str | None:
    """The canonical form of a typed report number, or None when it is not one or its check digit fails.

    Accepts a small e, Arabic-Indic digits, any spacing or dashes, and the direction marks of a pasted copy.
    """
    text = _unmarked(raw)
    if not looks_like_report_number(text):
        return None
    digits = ascii_digits(text[1:])
    if not digits.isdigit() or not digits.isascii() or len(digits) < 2 + SERIAL_WIDTH + 1:
        return None
    if damm_digit(digits) != 0:  # a valid number including its check digit reduces to 0
        return None
    return f"{PREFIX}{digits[:2]}-{digits[2:-1]}-{digits[-1]}"


def serial_of(number: str) -> int:
    """The serial inside a canonical report number."""
    return int(number.split("-")[1])


async def next_report_number(*, session: AsyncSession, clock: Clock) -> str:
    """The number after the year's highest so far (the first of the year when there is none).

    Longer serials sort after shorter ones, so the highest is found by length first: past 999,999 a year the
    serial simply grows a digit.
    """
    year = riyadh(clock.now()).year
    prefix = f"{PREFIX}{year % 100:02d}-"
    highest = await session.scalar(
        select(EmergencyReport.number)
        .where(EmergencyReport.number.like(prefix + "%"))
        .order_by(func.length(EmergencyReport.number).desc(), EmergencyReport.number.desc())
        .limit(1)
    )
    return format_report_number(year, serial_of(highest) + 1 if highest else 1)
