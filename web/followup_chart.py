"""The monthly report's bar chart as inline SVG drawn on the server: one bar per department, answered on time,
answered late and open past the deadline side by side in one stacked bar. No script; mirrored right to left.

The chart is a picture with a title and a description (role="img"); its legend is HTML beside it (it wraps where
the picture cannot), and the same numbers are in the table under it, which is what screen readers read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from followup.report import MonthlyReport
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT

WIDTH = 760
LABELS = 250  # the department names' column
NUMBERS = 56  # room for the total after the longest bar
ROW = 34
BAR = 22
TOP = 8
_BARS = WIDTH - LABELS - NUMBERS - 16
# Within a bar, narrower than this a segment's number is left to the total and the table.
_MIN_LABELLED = 26
_NAME_CHARACTERS = 32

ON_TIME = N_("Answered on time")
LATE = N_("Answered late")
OVERDUE = N_("Open and overdue at the period's end")
# (key, legend, fill colour, text colour): green, amber and red, each with a number written on it.
SERIES = (
    ("on_time", ON_TIME, "#2e7d32", "#ffffff"),
    ("late", LATE, "#f2b705", "#1b2a24"),
    ("overdue", OVERDUE, "#b3261e", "#ffffff"),
)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    value: int
    fill: str
    ink: str
    # Where its number goes (the middle), or None when the segment is too narrow to hold it.
    text_x: float | None


@dataclass(frozen=True)
class Row:
    name: str
    # The whole name and figures, a tooltip (<title>) for names cut short.
    full: str
    y: float
    name_x: float
    segments: tuple[Segment, ...]
    total: int
    total_x: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rtl: bool
    rows: tuple[Row, ...]
    # The anchor of text that reads in the page's direction: its start (LTR) is at x for "start".
    name_anchor: str
    total_anchor: str


def _cut(name: str) -> str:
    return name if len(name) <= _NAME_CHARACTERS else name[: _NAME_CHARACTERS - 1].rstrip() + "…"


def bar_chart(report: MonthlyReport, language: str, say: Callable[[str], str]) -> Chart:
    """The chart's geometry for the report's departments in the reader's language (say: the page's gettext)."""
    rtl = language in RIGHT_TO_LEFT

    def placed(x: float, width: float = 0.0) -> float:
        """x in a left-to-right drawing, mirrored for right to left."""
        return WIDTH - x - width if rtl else x

    departments = report.ordered(language)
    longest = max(
        (d.figures.answered_on_time + d.figures.answered_late + d.figures.overdue for d in departments), default=0
    )
    scale = _BARS / max(longest, 1)
    rows: list[Row] = []
    for index, department in enumerate(departments):
        figures = department.figures
        values = {"on_time": figures.answered_on_time, "late": figures.answered_late, "overdue": figures.overdue}
        y = TOP + index * ROW
        x = float(LABELS)
        segments: list[Segment] = []
        for key, _label, fill, ink in SERIES:
            width = values[key] * scale
            if width > 0:
                left = placed(x, width)
                segments.append(
                    Segment(
                        x=round(left, 1),
                        width=round(width, 1),
                        value=values[key],
                        fill=fill,
                        ink=ink,
                        text_x=round(left + width / 2, 1) if width >= _MIN_LABELLED else None,
                    )
                )
            x += width
        name = department.name(language)
        full = ", ".join([name] + [f"{say(label)}: {values[key]}" for key, label, _fill, _ink in SERIES])
        rows.append(
            Row(
                name=_cut(name),
                full=full,
                y=y,
                name_x=placed(LABELS - 10),
                segments=tuple(segments),
                total=sum(values.values()),
                total_x=round(placed(x + 6), 1),
            )
        )
    # Text carries the page's direction, so "end" puts a name's end next to the bars (left of them in English,
    # right of them in Arabic) and "start" begins the total just past the bar's end.
    return Chart(
        width=WIDTH,
        height=TOP + max(len(rows), 1) * ROW + 8,
        rtl=rtl,
        rows=tuple(rows),
        name_anchor="end",
        total_anchor="start",
    )
