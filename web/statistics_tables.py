"""The statistics dashboard's figures as tables: one per chart, the same cells for the page, its chart and the CSV.

A cell is a number, or a word saying why there is none: "fewer than 5" where the figure is a count of 1 to 4 (or
a rate or time computed from one); "withheld" where it is held back so that a hidden one cannot be worked out
(secondary suppression, a share whose misses are 1 to 4: quality/figures.py); a dash where there is nothing to
compute (no rating, no audience due). The CSV leaves a hidden cell empty and says why in a "suppressed" column
(fewer_than_5 or withheld, the hidden figures' reasons of the row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from babel.dates import format_date

from majlis.errors import N_
from quality.figures import FEWER_THAN_5, WITHHELD, Dashboard, Hidden, RateRow, ScorePoint, Tally
from quality.statistics import ALL
from quality.statistics_requests import UNASSESSED, UNKNOWN
from web import labels
from web.fairness_files import defused

SUPPRESSED = N_("fewer than 5")
WITHHELD_TEXT = N_("withheld")
HIDDEN_TEXT: Mapping[Hidden, str] = {FEWER_THAN_5: SUPPRESSED, WITHHELD: WITHHELD_TEXT}
# The CSV's last column: why the row's empty cells are hidden.
SUPPRESSED_COLUMN = "suppressed"
NOTHING = "—"
Say = Callable[..., str]
Number = int | float | None
ChartKind = Literal["bar", "line"]

DIMENSION_TITLES: Mapping[str, str] = {
    "kind": N_("Requests by kind"),
    "channel": N_("Requests by channel"),
    "branch": N_("Requests by reception centre"),
    "gender": N_("Requests by gender"),
    "applicant_kind": N_("Requests by applicant type"),
}
DIMENSION_HEADINGS: Mapping[str, str] = {
    "kind": N_("Kind"),
    "channel": N_("Channel"),
    "branch": N_("Reception centre"),
    "gender": N_("Gender"),
    "applicant_kind": N_("Applicant type"),
}
CONFIRMATION_CHANNELS: Mapping[str, str] = {
    ALL: N_("All confirmations"),
    "whatsapp": N_("WhatsApp"),
    "voice": N_("Voice call"),
    "sms": N_("SMS"),
    "email": N_("E-mail"),
}
# Every chart's key, in the page's order: its section's id and its CSV's address (/reports/statistics/{key}.csv).
CHART_KEYS = (
    "requests-kind",
    "requests-channel",
    "requests-branch",
    "requests-gender",
    "requests-applicant-kind",
    "waits",
    "confirmations",
    "audiences",
    "satisfaction",
    "service-time",
)
OTHER_VALUES: Mapping[str, str] = {UNKNOWN: N_("Not recorded"), UNASSESSED: N_("Not yet assessed")}


@dataclass(frozen=True)
class Cell:
    """A figure as published: its number, or why there is none."""

    value: Number
    hidden: Hidden | None = None

    @property
    def suppressed(self) -> bool:
        return self.hidden is not None

    def text(self, say: Say, places: int = 0) -> str:
        if self.hidden is not None:
            return say(HIDDEN_TEXT[self.hidden])
        if self.value is None:
            return NOTHING
        if isinstance(self.value, float):
            return f"{self.value:.{places}f}"
        return str(self.value)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    """One chart's numbers: `plotted` are the columns drawn (indices into `headings`, after the label's)."""

    key: str
    title: str
    kind: ChartKind
    label_heading: str
    headings: list[str]
    rows: list[Row]
    plotted: tuple[int, ...]
    # Decimal places per column (counts 0).
    places: tuple[int, ...]
    # Rows in the table but not drawn (a whole-period summary, a count beside minutes).
    undrawn: frozenset[str] = frozenset()


def cell(value: Number, basis: int | None, why: Hidden | None = FEWER_THAN_5) -> Cell:
    """`value` computed over a group of `basis` (None when the group itself is hidden, for the reason `why`)."""
    return Cell(value, (why or FEWER_THAN_5) if value is None and basis is None else None)


def share_cell(value: Number, basis: int | None, why: Hidden | None = FEWER_THAN_5) -> Cell:
    """A share of a group of `basis` items: hidden with the group, and withheld when the group is shown (not
    empty) but the share is not (its hits or misses are 1 to 4: quality.figures.share)."""
    if value is None and basis:
        return Cell(None, WITHHELD)
    return cell(value, basis, why)


def count(value: int | None, why: Hidden | None = FEWER_THAN_5) -> Cell:
    return Cell(value, (why or FEWER_THAN_5) if value is None else None)


def percent(share: float | None) -> Number:
    return None if share is None else round(share * 100, 1)


def _name(key: str, names: Mapping[str, str], say: Say) -> str:
    if key in names:
        return say(names[key])
    if key in OTHER_VALUES:
        return say(OTHER_VALUES[key])
    return key


def _tallies(dimension: str, tallies: list[Tally], say: Say, branch_names: Mapping[str, str]) -> Table:
    names: Mapping[str, str] = {
        "kind": labels.REQUEST_KINDS,
        "channel": labels.CHANNELS,
        "gender": labels.GENDERS,
        "applicant_kind": labels.APPLICANT_KINDS,
    }.get(dimension, {})
    rows = [
        Row(
            t.key,
            branch_names.get(t.key, t.key) if dimension == "branch" else _name(t.key, names, say),
            [count(t.count, t.hidden)],
        )
        for t in tallies
    ]
    return Table(
        key=f"requests-{dimension.replace('_', '-')}",
        title=say(DIMENSION_TITLES[dimension]),
        kind="bar",
        label_heading=say(DIMENSION_HEADINGS[dimension]),
        headings=[say(N_("Requests"))],
        rows=rows,
        plotted=(0,),
        places=(0,),
    )


def _rate(row: RateRow) -> list[Cell]:
    # The hits say why they are hidden; the rate of a shown total is withheld with them.
    return [count(row.total), count(row.hits, row.hidden), share_cell(percent(row.rate), row.total)]


def _score(point: ScorePoint) -> list[Cell]:
    why = point.hidden
    return [
        count(point.count, why),
        cell(point.mean, point.count, why),
        share_cell(percent(point.negative), point.count, why),
    ]


def tables(dashboard: Dashboard, say: Say, language: str, branch_names: Mapping[str, str]) -> list[Table]:
    """Every chart's table, in the page's order."""
    out = [_tallies(d, dashboard.requests[d], say, branch_names) for d in dashboard.requests]
    out.append(
        Table(
            key="waits",
            title=say(N_("Days from submission to the first audience, by urgency")),
            kind="bar",
            label_heading=say(N_("Urgency")),
            headings=[
                say(N_("Requests heard")),
                say(N_("Median (days)")),
                say(N_("95th percentile (days)")),
                say(N_("Seen within 30 days (%)")),
            ],
            rows=[
                Row(
                    w.urgency,
                    _name(w.urgency, labels.URGENCIES, say),
                    [
                        count(w.count),
                        cell(w.median_days, w.count),
                        cell(w.p95_days, w.count),
                        # The share seen in time rests on its own group: why it is hidden is its own.
                        Cell(percent(w.within), w.within_hidden if w.within is None else None),
                    ],
                )
                for w in dashboard.waits
            ],
            plotted=(1, 2),
            places=(0, 1, 1, 1),
        )
    )
    rate_headings = [say(N_("Asked")), say(N_("Answered")), say(N_("Answer rate (%)"))]
    out.append(
        Table(
            key="confirmations",
            title=say(N_("Confirmations answered, by channel")),
            kind="bar",
            label_heading=say(N_("Channel")),
            headings=rate_headings,
            rows=[Row(r.key, _name(r.key, CONFIRMATION_CHANNELS, say), _rate(r)) for r in dashboard.confirmations],
            plotted=(2,),
            places=(0, 0, 1),
        )
    )
    out.append(
        Table(
            key="audiences",
            title=say(N_("Audiences missed and referrals answered on time")),
            kind="bar",
            label_heading=say(N_("Figure")),
            headings=[say(N_("Due")), say(N_("Of which")), say(N_("Share (%)"))],
            rows=[
                Row("no-shows", say(N_("Audiences missed (no-show)")), _rate(dashboard.no_shows)),
                Row(
                    "referrals-on-time",
                    say(N_("Referrals answered by their deadline")),
                    _rate(dashboard.referrals_on_time),
                ),
            ],
            plotted=(2,),
            places=(0, 0, 1),
        )
    )
    score_headings = [say(N_("Ratings")), say(N_("Mean (1 to 5)")), say(N_("Negative (%)"))]
    points = [Row(p.first_day.isoformat(), _bucket(p, language), _score(p)) for p in dashboard.satisfaction]
    overall = dashboard.satisfaction_overall
    points.append(Row("overall", say(N_("The whole period")), _score(overall)))
    out.append(
        Table(
            key="satisfaction",
            title=say(N_("Satisfaction over time")),
            kind="line",
            label_heading=say(N_("Days")),
            headings=score_headings,
            rows=points,
            plotted=(1,),
            places=(0, 2, 1),
            undrawn=frozenset({"overall"}),
        )
    )
    time = dashboard.service_time
    out.append(
        Table(
            key="service-time",
            title=say(N_("Minutes at the centre, from arrival to the end of the audience")),
            kind="bar",
            label_heading=say(N_("Figure")),
            headings=[say(N_("Value"))],
            rows=[
                Row("visits", say(N_("Visits timed")), [count(time.count)]),
                Row("mean", say(N_("Mean (minutes)")), [cell(time.mean_minutes, time.count)]),
                Row("median", say(N_("Median (minutes)")), [cell(time.median_minutes, time.count)]),
                Row("p90", say(N_("90th percentile (minutes)")), [cell(time.p90_minutes, time.count)]),
                Row("aim", say(N_("The published aim (minutes)")), [Cell(time.aim_minutes)]),
                Row("within-aim", say(N_("Within the aim (%)")), [share_cell(percent(time.within_aim), time.count)]),
            ],
            plotted=(0,),
            places=(1,),
            undrawn=frozenset({"visits", "within-aim"}),
        )
    )
    return out


def _bucket(point: ScorePoint, language: str) -> str:
    first = format_date(point.first_day, "d MMM", locale=language)
    if point.first_day == point.last_day:
        return first
    return f"{first} – {format_date(point.last_day, 'd MMM', locale=language)}"


def csv_text(table: Table, say: Say) -> str:
    """One chart's numbers as CSV, with a byte-order mark so that a spreadsheet reads the Arabic as UTF-8; text
    cells that a spreadsheet would run as a formula are defused. A hidden figure is an empty cell (a number column
    stays numbers); the last column says why the row's are hidden (fewer_than_5, withheld, or both)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([defused(h) for h in (table.label_heading, *table.headings, SUPPRESSED_COLUMN)])
    for row in table.rows:
        cells = ["" if c.hidden else c.text(say, places) for c, places in zip(row.cells, table.places, strict=False)]
        why = " ".join(sorted({c.hidden for c in row.cells if c.hidden}))
        writer.writerow([defused(v) for v in (row.label, *cells, why)])
    return "\ufeff" + out.getvalue()
