"""The live rules for urgent and critical requests, in the year simulation (Majlis's score only).

The rules of the live system that the weekly allocation alone does not have:

- **placement on routing** (`scheduler.urgent.place_urgent_arrival`, setting
  `place_urgent_on_route`): the moment a critical or urgent request is routed to
  an audience, an allocation run places it in the free seats at least three
  days away within the live horizon (`allocation_horizon_days`) — with it only
  the requests ahead of it in priority order (score at least its own:
  `routing_ahead_only`, since issue 18), so that nobody it would pass is left
  out and the normal requests are left to the weekly run; before issue 18 the
  whole waiting list;
- **critical displacement** (setting `critical_may_displace`): a critical
  request whose earliest seat is more than `critical_target_days` (7) away
  takes the seat of the lowest-priority appointment of lower score, not
  critical, 3 to 7 days away that it could sit in (ties: the latest first),
  even when a later seat is free (`displace_beyond_target`; before issue 18
  only with no seat at all in the horizon, which stays the fallback). Every
  such appointment is taken as not yet confirmed, as live, where confirmation
  is asked three days before. The displaced request waits again, keeping its
  submission time, and a run at once places it if a seat is free;
- **no-shows placed at once** (`urgent_no_show_at_once`, as the live no-show
  sweep since issue 18): an urgent or critical request sent back by its first
  no-show is placed as on routing, displacement included;
- **the official's directive** (`scheduler.by_hand.ByHand.directive`, which
  waives the three days' notice): a critical request that, `directive_after_days`
  after its submission, has no seat within `directive_within_days` of it is put
  to the official, who in `directive_share` of cases directs it into the earliest
  free seat it can use inside the next three days (not yet begun). The trigger
  and the share are assumptions (`Assumptions`), not the source documents'.

The first-come-first-served and strict-priority policies are kept as the weekly
allocator alone: they are the references the live rules are measured against.
Whether the directive applies is drawn per request from a generator of its own
keyed by the seed and the case id, so the arrivals and every other draw stay as
they were.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from majlis.clock import RIYADH
from priority.score import Urgency, category_weight
from scheduler.allocation import MIN_NOTICE, Mode, allocate, seat_refusal
from scheduler.simulation_assumptions import slot_starts

if TYPE_CHECKING:
    from scheduler.simulation import Arrival
    from scheduler.simulation_assumptions import Assumptions
    from scheduler.simulation_run import Run


class Rule(enum.StrEnum):
    ROUTING = "routing"  # a critical or urgent request routed to an audience
    DIRECTIVE = "directive"  # the official's directive for a critical request without a seat in time


@dataclass(frozen=True, slots=True, order=True)
class LiveEvent:
    """One moment a live rule acts on one request; at one moment, routing comes before a directive."""

    at: datetime
    case_id: int
    step: int  # 0 routing, 1 directive
    rule: Rule


def directed(seed: int, case_id: int, share: float) -> bool:
    """Whether the official gives a directive for this critical request: a draw of its own per seed and case id."""
    return random.Random(f"directive:{seed}:{case_id}").random() < share  # noqa: S311 - reproducible, not a secret


def live_events(assumptions: Assumptions, requests: Sequence[Arrival], seed: int) -> list[LiveEvent]:
    """The moments the live rules act, in time order: routing of urgent and critical requests, directives."""
    a = assumptions
    events = []
    for request in requests:
        if a.urgent_on_routing and request.urgency in (Urgency.CRITICAL, Urgency.URGENT):
            # Routed the moment it is submitted (assumed: triage takes minutes, not days).
            events.append(LiveEvent(request.submitted_at, request.case_id, 0, Rule.ROUTING))
        if request.urgency is Urgency.CRITICAL and directed(seed, request.case_id, a.directive_share):
            after = timedelta(days=a.directive_after_days)
            events.append(LiveEvent(request.submitted_at + after, request.case_id, 1, Rule.DIRECTIVE))
    return sorted(events)


def on_routing(state: Run, request: Arrival, now: datetime, by_id: Mapping[int, Arrival]) -> None:
    """An allocation run at routing; a critical request with no seat in time then displaces, as live."""
    a = state.assumptions
    latest = now + timedelta(days=a.live_horizon_days)
    _run_at_routing(state, request.case_id, now, latest)
    if request.urgency is not Urgency.CRITICAL or not a.critical_may_displace:
        return
    if a.displace_beyond_target:
        _displace_for_target(state, request, now, latest, by_id)
        return
    if request.case_id not in state.waiting:
        return
    [arrival] = state.queue(now, [request.case_id])
    candidates = []
    for case_id, (seat, _) in state.seat_of.items():
        # Only seats the same run could give it: three days away, within the horizon.
        if now + MIN_NOTICE <= seat.starts_at <= latest and seat_refusal(seat, arrival, now) is None:
            candidates.append((_score(state, by_id[case_id], now), -seat.starts_at.timestamp(), case_id))
    if not candidates:
        return
    # The lowest priority first; of equal ones, the latest seat.
    _, _, displaced = min(candidates)
    state.release(displaced, by_id)
    state.displaced += 1
    _run_allocation(state, now, latest)


def on_returns(state: Run, returned: Sequence[int], now: datetime, by_id: Mapping[int, Arrival]) -> None:
    """Urgent and critical requests sent back by their first no-show are placed at once, as on routing."""
    if not (state.assumptions.urgent_on_routing and state.assumptions.urgent_no_show_at_once):
        return
    for case_id in returned:
        request = by_id[case_id]
        if request.urgency in (Urgency.CRITICAL, Urgency.URGENT) and case_id in state.waiting:
            on_routing(state, request, now, by_id)


def _displace_for_target(
    state: Run, request: Arrival, now: datetime, latest: datetime, by_id: Mapping[int, Arrival]
) -> None:
    """A critical request whose seat (if any) is beyond the target takes the seat of the lowest priority within it.

    Only an appointment of lower score than the critical request's, at least
    three days away (its applicant not yet asked to confirm) and within the
    target, whose seat the critical request can use; the displaced request
    and the critical one's later seat go back, and a run re-places them.
    """
    a = state.assumptions
    target = now + timedelta(days=a.critical_target_days)
    held = state.seat_of.get(request.case_id)
    if held is not None and held[0].starts_at <= target:
        return
    if held is None and request.case_id not in state.waiting:
        return  # seen already, or closed by its no-shows
    if held is not None:
        state.release(request.case_id, by_id)
    [arrival] = state.queue(now, [request.case_id])
    # Within the target first; a request with no seat at all may also take one up to the horizon, as before.
    for until in (target, latest) if held is None else (target,):
        candidates = []
        for case_id, (seat, _) in state.seat_of.items():
            if not now + MIN_NOTICE <= seat.starts_at <= until or seat_refusal(seat, arrival, now) is not None:
                continue
            # Never another critical request: that would only move the miss to it.
            if by_id[case_id].urgency is Urgency.CRITICAL:
                continue
            score = _score(state, by_id[case_id], now)
            if score < arrival.score:
                candidates.append((score, -seat.starts_at.timestamp(), case_id))
        if candidates:
            break
    if not candidates:
        if held is not None:
            state.hold(request.case_id, held[0])
        return
    # The lowest priority first; of equal ones, the latest seat.
    _, _, displaced = min(candidates)
    state.release(displaced, by_id)
    state.displaced += 1
    # As live: one run of the displaced request and those ahead of it, the critical one first, which
    # takes the seat just freed (its earliest), then the displaced in the first seat left.
    _run_at_routing(state, displaced, now, latest)


def _run_at_routing(state: Run, case_id: int, now: datetime, latest: datetime) -> None:
    """The run at routing: the request and those ahead of it (`routing_ahead_only`), or the whole waiting list."""
    if not state.assumptions.routing_ahead_only:
        _run_allocation(state, now, latest)
        return
    if case_id not in state.waiting:
        return
    seats = state.free_seats(now + MIN_NOTICE, latest)
    if not seats:
        return
    queue = state.queue(now)
    own = next(w for w in queue if w.case_id == case_id)
    # Everyone of at least its score: nobody it would pass in priority order is left out.
    ahead = [w for w in queue if w.score >= own.score]
    state.place(allocate(seats, ahead, now).placements)


def on_directive(state: Run, request: Arrival, now: datetime, by_id: Mapping[int, Arrival]) -> None:
    """The official's directive: a critical request with no seat in time gets the earliest free one inside 3 days."""
    a = state.assumptions
    in_time = request.submitted_at + timedelta(days=a.directive_within_days)
    held = state.seat_of.get(request.case_id)
    if held is not None and held[0].starts_at <= in_time:
        return
    if held is None and request.case_id not in state.waiting:
        return  # seen already, or closed by its no-shows
    seats = state.free_seats(now, now + MIN_NOTICE)
    if held is not None:
        state.release(request.case_id, by_id)
    placements = allocate(seats, state.queue(now, [request.case_id]), now, notice=timedelta(0)).placements
    if placements:
        state.place(placements)
        state.directed += 1
    elif held is not None:
        state.hold(request.case_id, held[0])


def _run_allocation(state: Run, now: datetime, latest: datetime) -> None:
    """Places the whole waiting list, in the policy's order, in the free seats 3 days to the horizon away."""
    seats = state.free_seats(now + MIN_NOTICE, latest)
    if seats:  # with no free seat a run places nobody
        state.place(allocate(seats, state.queue(now), now).placements)


def _score(state: Run, request: Arrival, now: datetime) -> float:
    """A placed request's score at `now`, as the live rule ranks who may be displaced."""
    since = state.no_shows.waits_since.get(request.case_id, request.submitted_at)
    return state.score(urgency=request.urgency, category_weight=category_weight(request.category), waited=now - since)


def beyond_notice(assumptions: Assumptions, requests: Sequence[Arrival], days: float) -> float | None:
    """The share of critical requests with no slot of their kind from 3 to `days` days after their submission.

    One session of each kind a week and three days' notice: a request submitted
    less than three days before its kind's session (or during it) finds its
    next regular seat a week later, beyond the 7-day target however free the
    seats are; only the official's directive inside the notice can reach it.
    """
    a = assumptions
    critical = [r for r in requests if r.urgency is Urgency.CRITICAL]
    if not critical:
        return None
    # The weekly slot starts of each kind, as offsets from the start of the week (Sunday 00:00 Riyadh).
    week_start = datetime.combine(a.start, time(0), tzinfo=RIYADH)
    offsets: dict[tuple[Mode, bool], list[timedelta]] = {}
    for session in a.sessions:
        day = a.start + timedelta(days=session.weekday)
        offsets.setdefault((session.mode, session.women_section), []).extend(
            start - week_start for start in slot_starts(a, session, day)
        )
    beyond = 0
    for request in critical:
        into_week = (request.submitted_at - week_start) % timedelta(weeks=1)
        earliest, latest = into_week + MIN_NOTICE, into_week + timedelta(days=days)
        starts = offsets[request.mode, request.women_section]
        # This week's slots and the next two weeks' (a window of at most 3 weeks).
        if not any(earliest <= start + timedelta(weeks=k) <= latest for start in starts for k in range(3)):
            beyond += 1
    return beyond / len(critical)
