"""How the emergency line's messages name things, in the reader's language: severities, types, places, and
moments at the mission and in Riyadh side by side.

The labels are the msgids the pages use (web/labels.py), so both read the same in Arabic; the domain cannot
import the web layer, hence this copy of the words.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

from emergency.models import ReportType, Severity
from majlis.clock import RIYADH
from majlis.errors import N_
from notify.texts import say

SEVERITIES: Mapping[Severity, str] = {
    Severity.LIFE_THREATENING: N_("Life-threatening"),
    Severity.URGENT: N_("Urgent"),
    Severity.NORMAL: N_("Normal"),
}
REPORT_TYPES: Mapping[ReportType, str] = {
    ReportType.ARREST: N_("Arrest or detention"),
    ReportType.ACCIDENT: N_("Accident or hospital"),
    ReportType.LOST_PASSPORT: N_("Lost passport"),
    ReportType.DEATH: N_("Death"),
    ReportType.VIOLENCE: N_("Violence or abuse"),
    ReportType.DISASTER: N_("Disaster or evacuation"),
    ReportType.FINANCIAL: N_("Financial distress"),
    ReportType.OTHER: N_("Other emergency"),
}
_PLACE = N_("{city}, {country}")
_BOTH_TIMES = N_("{local} local time ({riyadh} Riyadh time)")
# A mission whose clock reads as Riyadh's (Kuwait, Bahrain, Qatar): said once, and said to be both.
_SAME_TIME = N_("{local}, local time and Riyadh time")


def language_of(spoken: list[str] | tuple[str, ...]) -> str:
    """The language to write to someone who speaks these: Arabic when they do, else English (the two the
    catalogs and the call voices have)."""
    return "ar" if "ar" in spoken else "en"


def severity(value: Severity, language: str) -> str:
    return say(language, SEVERITIES[value])


def report_type(value: ReportType, language: str) -> str:
    return say(language, REPORT_TYPES[value])


@functools.lru_cache(maxsize=1024)
def country_name(code: str, language: str) -> str:
    """The country's name from Babel's territory names (its ISO code if Babel has none).

    Kept once worked out: a sweep names the same few countries in hundreds of alerts.
    """
    return str(Locale.parse(language).territories.get(code.upper(), code.upper()))


def place(city: str, country: str, language: str) -> str:
    return say(language, _PLACE, city=city, country=country_name(country, language))


def _moment(moment: datetime, zone: ZoneInfo, language: str) -> str:
    return str(format_datetime(moment, "EEEE d MMMM y, HH:mm", tzinfo=zone, locale=language))


def at_mission_and_riyadh(moment: datetime, time_zone: str, language: str) -> str:
    """The moment as the mission's clock reads it and as Riyadh's does (once, where they read the same)."""
    zone = ZoneInfo(time_zone)
    local = _moment(moment, zone, language)
    if moment.astimezone(zone).utcoffset() == moment.astimezone(RIYADH).utcoffset():
        return say(language, _SAME_TIME, local=local)
    riyadh = str(format_datetime(moment, "HH:mm", tzinfo=RIYADH, locale=language))
    if moment.astimezone(zone).date() != moment.astimezone(RIYADH).date():
        riyadh = _moment(moment, RIYADH, language)
    return say(language, _BOTH_TIMES, local=local, riyadh=riyadh)
