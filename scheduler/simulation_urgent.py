"""The live rules for urgent and critical requests, in the year simulation (Majlis's score only).

Three rules of the live system that the weekly allocation alone does not have:

- **placement on routing** (`scheduler.changes.place_urgent_arrival`, setting
  `place_urgent_on_route`): the moment a critical or urgent request is routed to
  an audience, an allocation run places the waiting list in the free seats at
  least three days away within the live horizon (`allocation_horizon_days`),
  the new request among them in its priority order;
- **critical displacement** (setting `critical_may_displace`): a critical
  request still without a seat takes the seat of the lowest-priority scheduled
  appointment at least three days away that it could sit in (ties: the latest
  first). Every such appointment is taken as not yet confirmed, as live, where
  confirmation is asked three days before. The displaced request waits again,
  keeping its submission time, and the same run places it if a seat is free;
- **the official's directive** (`scheduler.changes.ByHand.directive`, which
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from priority.score import Urgency, category_weight
from scheduler.allocation import MIN_NOTICE, allocate, seat_refusal

if TYPE_CHECKING:
    from scheduler.simulation import Arrival, _Run
    from scheduler.simulation_assumptions import Assumptions


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


def on_routing(state: _Run, request: Arrival, now: datetime, by_id: Mapping[int, Arrival]) -> None:
    """An allocation run at routing; a critical request still without a seat then displaces, as live."""
    a = state.assumptions
    latest = now + timedelta(days=a.live_horizon_days)
    _run_allocation(state, now, latest)
    if request.case_id not in state.waiting or request.urgency is not Urgency.CRITICAL or not a.critical_may_displace:
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


def on_directive(state: _Run, request: Arrival, now: datetime, by_id: Mapping[int, Arrival]) -> None:
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


def _run_allocation(state: _Run, now: datetime, latest: datetime) -> None:
    """Places the whole waiting list, in the policy's order, in the free seats 3 days to the horizon away."""
    seats = state.free_seats(now + MIN_NOTICE, latest)
    if seats:  # with no free seat a run places nobody
        state.place(allocate(seats, state.queue(now), now).placements)


def _score(state: _Run, request: Arrival, now: datetime) -> float:
    """A placed request's score at `now`, as the live rule ranks who may be displaced."""
    since = state.no_shows.waits_since.get(request.case_id, request.submitted_at)
    return state.score(urgency=request.urgency, category_weight=category_weight(request.category), waited=now - since)
