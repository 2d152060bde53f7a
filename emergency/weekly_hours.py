"""A mission's working week written as people say it: "Sun-Thu 08:00-15:00", "Mon-Fri 09:00-17:00".

Several groups are separated by ";" ("Sun-Thu 08:00-15:00; Sat 09:00-12:00"), days by "," ("Sun,Tue"),
and a group may hold several stretches ("Sun-Thu 08:00-12:00 13:00-16:00"). A range of days may wrap
round the week ("Sat-Wed"). What is read becomes worktime's weekly stretches; worktime checks the times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from majlis.errors import N_, FieldError
from worktime.editing import HoursInput

# Python's count (Monday 0 … Sunday 6), as worktime stores it.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS = {name.lower(): number for number, name in enumerate(DAY_NAMES)}
_STRETCH = re.compile(r"([0-9]{1,2}:[0-9]{2})-([0-9]{1,2}:[0-9]{2})")
# Shown from Sunday, the first working day in Saudi Arabia.
_SHOWN_FROM = 6


def _bad(field: str) -> FieldError:
    return FieldError(
        field,
        "invalid_hours",
        N_("{field} must be days and hours such as Sun-Thu 08:00-15:00 (several groups separated by ;)."),
    )


def _days(text: str) -> list[int] | None:
    found: list[int] = []
    for part in text.split(","):
        ends = part.strip().lower().split("-")
        if len(ends) > 2 or any(end[:3] not in _DAYS or len(end) < 3 for end in ends):
            return None
        first, last = _DAYS[ends[0][:3]], _DAYS[ends[-1][:3]]
        day = first
        while True:
            if day not in found:
                found.append(day)
            if day == last:
                break
            day = (day + 1) % 7
    return found


def _padded(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def parse(text: str, field: str = "hours") -> tuple[list[HoursInput], list[FieldError]]:
    """The stretches the text names, or the error naming `field` when it cannot be read."""
    stretches: list[HoursInput] = []
    groups = [g.strip() for g in text.replace("،", ",").replace("؛", ";").split(";") if g.strip()]
    if not groups:
        return [], [_bad(field)]
    for group in groups:
        head, _, rest = group.partition(" ")
        days = _days(head)
        times = rest.split()
        if days is None or not times or not all(_STRETCH.fullmatch(t) for t in times):
            return [], [_bad(field)]
        for time_range in times:
            match = _STRETCH.fullmatch(time_range)
            assert match is not None
            opens, closes = _padded(match.group(1)), _padded(match.group(2))
            stretches.extend(HoursInput(str(day), opens, closes) for day in days)
    return stretches, []


def describe(stretches: Sequence[tuple[int, str, str]]) -> str:
    """(weekday, "HH:MM", "HH:MM") stretches written back the way `parse` reads them, runs of days joined."""
    by_times: dict[tuple[str, str], list[int]] = {}
    for weekday, opens, closes in stretches:
        by_times.setdefault((opens, closes), []).append(weekday)
    groups: list[tuple[int, str]] = []
    for (opens, closes), days in by_times.items():
        order = sorted(set(days), key=lambda d: (d - _SHOWN_FROM) % 7)
        runs: list[list[int]] = []
        for day in order:
            if runs and (runs[-1][-1] + 1) % 7 == day:
                runs[-1].append(day)
            else:
                runs.append([day])
        # A run through Saturday into Sunday reads as one ("Sat-Wed"), the way it was typed.
        if len(runs) > 1 and (runs[-1][-1] + 1) % 7 == runs[0][0]:
            runs[0] = runs.pop() + runs[0]
        named = ",".join(
            DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" for run in runs
        )
        groups.append(((order[0] - _SHOWN_FROM) % 7, f"{named} {opens}-{closes}"))
    return "; ".join(text for _, text in sorted(groups))
