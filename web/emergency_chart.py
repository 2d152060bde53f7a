"""The emergency line report's bar charts, drawn as the follow-up's are (web/followup_chart.py): inline SVG made on
the server, one stacked bar per mission or country, mirrored right to left, its legend in HTML beside it and the
same numbers in the tables under it. The same geometry (Segment, Row, Chart) and the same template macro.

Two charts: per country, what was solved or handed over within the service level, late, and what was still open
at the month's end; per mission, acknowledgements within the service level and late.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from emergency.monthly import Figures
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT
from web.followup_chart import _MIN_LABELLED, LABELS, ROW, TOP, WIDTH, Chart, Row, Segment, _cut

_BARS = WIDTH - LABELS - 56 - 16

Series = tuple[tuple[str, str, str, str], ...]
# (figure, legend, fill colour, text colour): green, amber and red as in the follow-up's chart.
OUTCOMES: Series = (
    ("solved_in_time", N_("Solved or handed over within the service level"), "#2e7d32", "#ffffff"),
    ("solved_late", N_("Solved or handed over late"), "#f2b705", "#1b2a24"),
    ("open_at_end", N_("Open at the month's end"), "#b3261e", "#ffffff"),
)
ACKNOWLEDGEMENTS: Series = (
    ("acknowledged_in_time", N_("Acknowledged within the service level"), "#2e7d32", "#ffffff"),
    ("acknowledged_late", N_("Acknowledged late"), "#f2b705", "#1b2a24"),
)


def bar_chart(lines: Sequence[tuple[str, Figures]], series: Series, language: str, say: Callable[[str], str]) -> Chart:
    """The chart's geometry for (name, figures) pairs in the reader's language (say: the page's gettext)."""
    rtl = language in RIGHT_TO_LEFT

    def placed(x: float, width: float = 0.0) -> float:
        """x in a left-to-right drawing, mirrored for right to left."""
        return WIDTH - x - width if rtl else x

    def values(figures: Figures) -> dict[str, int]:
        return {key: int(getattr(figures, key)) for key, _label, _fill, _ink in series}

    longest = max((sum(values(figures).values()) for _name, figures in lines), default=0)
    scale = _BARS / max(longest, 1)
    rows: list[Row] = []
    for index, (name, figures) in enumerate(lines):
        counted = values(figures)
        y = TOP + index * ROW
        x = float(LABELS)
        segments: list[Segment] = []
        for key, _label, fill, ink in series:
            width = counted[key] * scale
            if width > 0:
                left = placed(x, width)
                segments.append(
                    Segment(
                        x=round(left, 1),
                        width=round(width, 1),
                        value=counted[key],
                        fill=fill,
                        ink=ink,
                        text_x=round(left + width / 2, 1) if width >= _MIN_LABELLED else None,
                    )
                )
            x += width
        full = ", ".join([name] + [f"{say(label)}: {counted[key]}" for key, label, _fill, _ink in series])
        rows.append(
            Row(
                name=_cut(name),
                full=full,
                y=y,
                name_x=placed(LABELS - 10),
                segments=tuple(segments),
                total=sum(counted.values()),
                total_x=round(placed(x + 6), 1),
            )
        )
    return Chart(
        width=WIDTH,
        height=TOP + max(len(rows), 1) * ROW + 8,
        rtl=rtl,
        rows=tuple(rows),
        name_anchor="end",
        total_anchor="start",
    )
