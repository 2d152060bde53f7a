"""`seat_refusal` names the rule by which one seat is refused to one request, and never disagrees with the
allocator: for every seat, request, moment and notice, it gives None exactly when `allocate` places."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, SeatRule, Waiting, allocate, seat_refusal
from tests.scheduler.test_allocation import NOW, request, seat

# Sunday 29 November 2026, 22:00 Riyadh is 19:00 UTC: seats near midnight test the Riyadh date.
BASE = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 28) + timedelta(days=n) for n in range(5)]


@st.composite
def seats(draw: st.DrawFn) -> OpenSeat:
    return seat(
        slot_id=draw(st.integers(1, 3)),
        number=draw(st.integers(0, 2)),
        at=BASE + timedelta(minutes=30 * draw(st.integers(-200, 200))),
        mode=draw(st.sampled_from(Mode)),
        branch=draw(st.sampled_from(["riyadh", "jeddah"])),
        women_section=draw(st.booleans()),
        accessible=draw(st.booleans()),
        locked=draw(st.booleans()),
    )


@st.composite
def requests(draw: st.DrawFn) -> Waiting:
    return request(
        mode=draw(st.sampled_from(Mode)),
        branch=draw(st.sampled_from(["riyadh", "jeddah"])),
        women_section=draw(st.booleans()),
        wheelchair=draw(st.booleans()),
        unavailable=frozenset(draw(st.lists(st.sampled_from(DAYS), max_size=3))),
        has_live_appointment=draw(st.booleans()),
    )


NOTICES = st.sampled_from([MIN_NOTICE, timedelta(0), timedelta(hours=3), timedelta(days=1)])
MOMENTS = st.integers(-100, 100).map(lambda n: BASE - timedelta(days=3) + timedelta(hours=n))


@settings(max_examples=3000, deadline=None)
@given(seats(), requests(), MOMENTS, NOTICES)
def test_the_rule_named_agrees_with_the_allocator(
    one_seat: OpenSeat, one_request: Waiting, now: datetime, notice: timedelta
) -> None:
    placed = bool(allocate([one_seat], [one_request], now, notice=notice).placements)
    rule = seat_refusal(one_seat, one_request, now, notice=notice)
    assert (rule is None) == placed, rule
    assert rule is not SeatRule.NOT_AN_AUDIENCE


@settings(max_examples=500, deadline=None)
@given(seats(), requests(), MOMENTS, NOTICES)
def test_the_rule_named_is_the_one_that_failed(
    one_seat: OpenSeat, one_request: Waiting, now: datetime, notice: timedelta
) -> None:
    """Mending what the rule names (and nothing else) either places the request or names a later rule."""
    rule = seat_refusal(one_seat, one_request, now, notice=notice)
    if rule is None:
        return
    mended_seat, mended_request = _mend(rule, one_seat, one_request, now, notice)
    after = seat_refusal(mended_seat, mended_request, now, notice=notice)
    order = list(SeatRule)
    assert after is None or order.index(after) > order.index(rule)
    assert (after is None) == bool(allocate([mended_seat], [mended_request], now, notice=notice).placements)


def _mend(
    rule: SeatRule, one_seat: OpenSeat, one_request: Waiting, now: datetime, notice: timedelta
) -> tuple[OpenSeat, Waiting]:
    if rule is SeatRule.HAS_APPOINTMENT:
        return one_seat, replace(one_request, has_live_appointment=False)
    if rule is SeatRule.SESSION_LOCKED:
        return replace(one_seat, locked=False), one_request
    if rule is SeatRule.MODE:
        return replace(one_seat, mode=one_request.mode), one_request
    if rule is SeatRule.BRANCH:
        return replace(one_seat, branch=one_request.branch), one_request
    if rule in (SeatRule.WOMEN_SECTION_ONLY, SeatRule.WOMEN_SECTION_NEEDED):
        return replace(one_seat, women_section=one_request.women_section), one_request
    if rule is SeatRule.ACCESSIBLE_HALL_NEEDED:
        return replace(one_seat, accessible=True), one_request
    if rule is SeatRule.NOTICE:
        return replace(one_seat, starts_at=now + notice), one_request
    assert rule is SeatRule.UNAVAILABLE_DAY
    return one_seat, replace(one_request, unavailable=frozenset())


def _fits() -> tuple[OpenSeat, Waiting]:
    return seat(at=NOW + timedelta(days=5), accessible=True), request()


@pytest.mark.parametrize(
    ("seat_changes", "request_changes", "rule"),
    [
        ({}, {"has_live_appointment": True}, SeatRule.HAS_APPOINTMENT),
        ({"locked": True}, {}, SeatRule.SESSION_LOCKED),
        ({"mode": Mode.VIDEO}, {}, SeatRule.MODE),
        ({"branch": "jeddah"}, {}, SeatRule.BRANCH),
        ({"women_section": True}, {}, SeatRule.WOMEN_SECTION_ONLY),
        ({}, {"women_section": True}, SeatRule.WOMEN_SECTION_NEEDED),
        ({"accessible": False}, {"wheelchair": True}, SeatRule.ACCESSIBLE_HALL_NEEDED),
        ({"starts_at": NOW + timedelta(days=2)}, {}, SeatRule.NOTICE),
        ({}, {"unavailable": frozenset({(NOW + timedelta(days=5)).date()})}, SeatRule.UNAVAILABLE_DAY),
    ],
)
def test_each_rule_is_named(
    seat_changes: dict[str, object], request_changes: dict[str, object], rule: SeatRule
) -> None:
    fitting_seat, fitting_request = _fits()
    assert seat_refusal(fitting_seat, fitting_request, NOW) is None
    one_seat = replace(fitting_seat, **seat_changes)  # type: ignore[arg-type]
    one_request = replace(fitting_request, **request_changes)  # type: ignore[arg-type]
    assert seat_refusal(one_seat, one_request, NOW) is rule
    assert not allocate([one_seat], [one_request], NOW).placements


def test_no_notice_allows_a_seat_starting_now_but_not_one_begun() -> None:
    fitting_seat, fitting_request = _fits()
    assert seat_refusal(replace(fitting_seat, starts_at=NOW), fitting_request, NOW, notice=timedelta(0)) is None
    begun = replace(fitting_seat, starts_at=NOW - timedelta(minutes=1))
    assert seat_refusal(begun, fitting_request, NOW, notice=timedelta(0)) is SeatRule.NOTICE
