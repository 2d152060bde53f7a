"""The live rules of issue 18 in the simulation, each a switch of `Assumptions`: the run at routing places only the
request and those ahead of it, a critical request displaces to be seen within 7 days, an urgent no-show is placed again
at once; the load on both bases and the share of critical requests beyond the notice's reach."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from majlis import cli_simulate
from priority.score import Urgency
from scheduler.allocation import Mode
from scheduler.simulation import Arrival, Policy, SimulationResult, arrivals, simulate
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_noshow import no_show_draws
from scheduler.simulation_sweep import LoadBasis, effective_per_nominal, nominal_load, sweep
from scheduler.simulation_urgent import beyond_notice

SEED = 2026
QUIET = dataclasses.replace(Assumptions(), cancel_probability=0.0, no_show_rate=0.0, directive_share=0.0)
# One men's video seat a week per branch (Wednesday 10:00 Riyadh), as in test_simulation_live.
ONE_SEAT = dataclasses.replace(QUIET, visitors_per_day=8.7, capacity_factor=1.0)
TWO_SEATS = dataclasses.replace(ONE_SEAT, visitors_per_day=17.4)
WEDNESDAY_14 = datetime(2026, 1, 14, tzinfo=UTC)
WEDNESDAY_21 = datetime(2026, 1, 21, tzinfo=UTC)


def _request(case_id: int, at: datetime, urgency: Urgency) -> Arrival:
    category = {Urgency.CRITICAL: "qisas", Urgency.URGENT: "detention_legal"}.get(urgency, "general")
    return Arrival(case_id, at, "riyadh", Mode.VIDEO, False, False, urgency, category)


def _day(result: SimulationResult, request: Arrival) -> datetime:
    seen = request.submitted_at + timedelta(days=result.waits[request.case_id])
    return datetime(seen.year, seen.month, seen.day, tzinfo=UTC)


def test_the_run_at_routing_places_the_request_and_those_ahead_not_the_whole_waiting_list() -> None:
    # A normal request submitted after Thursday's run, then two urgent ones; two seats on Wednesday 14th.
    normal = _request(1, datetime(2026, 1, 8, 6, 0, tzinfo=UTC), Urgency.NORMAL)
    first = _request(2, datetime(2026, 1, 8, 7, 0, tzinfo=UTC), Urgency.URGENT)
    second = _request(3, datetime(2026, 1, 11, 5, 0, tzinfo=UTC), Urgency.URGENT)
    requests = [normal, first, second]
    ahead = simulate(Policy.MAJLIS, TWO_SEATS, days=28, seed=SEED, requests=requests)
    # The first urgent run left the normal request to Thursday's run: the second urgent one found a seat on the 14th.
    assert (_day(ahead, first), _day(ahead, second), _day(ahead, normal)) == (WEDNESDAY_14, WEDNESDAY_14, WEDNESDAY_21)
    whole = simulate(
        Policy.MAJLIS, dataclasses.replace(TWO_SEATS, routing_ahead_only=False), days=28, seed=SEED, requests=requests
    )
    # Before: the first urgent run placed the normal request too, and the second urgent one waited a week more.
    assert (_day(whole, first), _day(whole, normal), _day(whole, second)) == (WEDNESDAY_14, WEDNESDAY_14, WEDNESDAY_21)


def test_a_critical_request_displaces_to_be_seen_within_7_days_even_with_a_later_seat_free() -> None:
    # The live horizon reaches Wednesday 21st: the critical request has a free seat there, 10 days away.
    wide = dataclasses.replace(ONE_SEAT, live_horizon_days=14)
    normal = _request(1, datetime(2026, 1, 4, 6, 0, tzinfo=UTC), Urgency.NORMAL)  # placed on the 14th by Thursday's run
    critical = _request(2, datetime(2026, 1, 11, 5, 0, tzinfo=UTC), Urgency.CRITICAL)
    result = simulate(Policy.MAJLIS, wide, days=28, seed=SEED, requests=[normal, critical])
    assert result.appointments_displaced == 1
    assert (_day(result, critical), _day(result, normal)) == (WEDNESDAY_14, WEDNESDAY_21)
    # Before: a free seat anywhere within the horizon, however late, kept the critical request from displacing.
    before = simulate(
        Policy.MAJLIS,
        dataclasses.replace(wide, displace_beyond_target=False),
        days=28,
        seed=SEED,
        requests=[normal, critical],
    )
    assert before.appointments_displaced == 0
    assert (_day(before, critical), _day(before, normal)) == (WEDNESDAY_21, WEDNESDAY_14)
    # Another critical request is never displaced: the miss would only move to it.
    # (Monday 5th: Wednesday 7th is inside the notice, so it is placed on the 14th at its routing.)
    earlier = _request(1, datetime(2026, 1, 5, 6, 0, tzinfo=UTC), Urgency.CRITICAL)
    both = simulate(Policy.MAJLIS, wide, days=28, seed=SEED, requests=[earlier, critical])
    assert both.appointments_displaced == 0
    assert (_day(both, earlier), _day(both, critical)) == (WEDNESDAY_14, WEDNESDAY_21)


def _seed_where(missed_first: int, came: int) -> int:
    """A seed whose draws at a 50 % rate make `missed_first` miss once then come, and `came` come at once."""
    for seed in range(1000):
        draws = no_show_draws(seed, [1, 2])
        if draws[missed_first][0] < 0.5 <= draws[missed_first][1] and draws[came][0] >= 0.5:
            return seed
    raise AssertionError("no such seed in 1000")


def test_a_critical_no_show_is_placed_again_at_once_displacing_if_it_must() -> None:
    # Sunday 4th, 11:00 Riyadh: Wednesday 7th is inside the notice; the critical request is placed on the 14th at
    # its routing, and misses it. Thursday's runs fill two weeks: the normal request holds the 21st from the 8th.
    two_weeks = dataclasses.replace(ONE_SEAT, horizon_weeks=2, no_show_rate=0.5)
    critical = _request(1, datetime(2026, 1, 4, 8, 0, tzinfo=UTC), Urgency.CRITICAL)
    normal = _request(2, datetime(2026, 1, 7, 6, 0, tzinfo=UTC), Urgency.NORMAL)
    seed = _seed_where(missed_first=1, came=2)
    at_once = simulate(Policy.MAJLIS, two_weeks, days=35, seed=seed, requests=[normal, critical])
    assert (at_once.overall.returned, at_once.appointments_displaced) == (1, 1)
    # Swept at Thursday 15th's run: sent back, placed again at once in the 21st's seat, the normal request a week on.
    assert (_day(at_once, critical), _day(at_once, normal)) == (WEDNESDAY_21, datetime(2026, 1, 28, tzinfo=UTC))
    weekly = dataclasses.replace(two_weeks, urgent_no_show_at_once=False)
    later = simulate(Policy.MAJLIS, weekly, days=35, seed=seed, requests=[normal, critical])
    # Before: the weekly run gave it the first free seat, two weeks on.
    assert (_day(later, critical), _day(later, normal)) == (datetime(2026, 1, 28, tzinfo=UTC), WEDNESDAY_21)


def test_the_load_is_reported_nominal_and_effective_and_swept_on_either() -> None:
    a = Assumptions()
    # 1 + 8 % appointments a request, over the seats left after one in 30 sessions is cancelled.
    assert effective_per_nominal(a) == pytest.approx(1.08 / (1 - 0.10 / 3))
    assert nominal_load(a, 0.9, LoadBasis.NOMINAL) == 0.9
    assert nominal_load(a, 0.9, LoadBasis.EFFECTIVE) == pytest.approx(0.9 / effective_per_nominal(a))
    small = dataclasses.replace(a, visitors_per_day=30.0)
    drawn = arrivals(small, 28, SEED)
    [effective] = sweep(small, days=28, seed=SEED, loads=(0.9,), policies=(Policy.MAJLIS,), requests=drawn)
    [nominal] = sweep(
        small, days=28, seed=SEED, loads=(0.9,), policies=(Policy.MAJLIS,), requests=drawn, basis=LoadBasis.NOMINAL
    )
    assert effective.load == 0.9 and effective.effective == pytest.approx(0.9)
    assert effective.nominal == pytest.approx(0.9 / effective_per_nominal(a))
    assert nominal.load == nominal.nominal == 0.9
    assert nominal.effective == pytest.approx(0.9 * effective_per_nominal(a))
    # Fewer requests a seat on the effective basis: more seats offered, waits no longer.
    assert effective.result.seats_offered > nominal.result.seats_offered


def test_the_share_of_critical_requests_beyond_the_notices_reach() -> None:
    def one(at: datetime, mode: Mode = Mode.IN_PERSON) -> float | None:
        return beyond_notice(QUIET, [Arrival(1, at, "riyadh", mode, False, False, Urgency.CRITICAL, "qisas")], 7.0)

    # In person on Sundays 10:00–12:00 Riyadh. Monday: next Sunday is 6 days away; Thursday 14:00 Riyadh: Sunday is
    # under 3 days away and the one after is 10; Sunday 09:00 Riyadh: the next Sunday is 7 days and an hour away.
    assert one(datetime(2026, 1, 5, 6, 0, tzinfo=UTC)) == 0.0
    assert one(datetime(2026, 1, 8, 11, 0, tzinfo=UTC)) == 1.0
    assert one(datetime(2026, 1, 11, 6, 0, tzinfo=UTC)) == 1.0
    # Men's video on Wednesdays: Sunday morning has it 3 days on.
    assert one(datetime(2026, 1, 11, 5, 0, tzinfo=UTC), Mode.VIDEO) == 0.0
    assert beyond_notice(QUIET, [], 7.0) is None
    share = beyond_notice(QUIET, arrivals(QUIET, 365, SEED), 7.0)
    assert share is not None and 0.25 < share < 0.4


def test_majlis_simulate_runs_the_rules_as_before_issue_18_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli_simulate.add_parser(parser.add_subparsers(dest="command"))
    common = ["simulate", "--days", "28", "--loads", "90", "--permutations", "20"]
    assert cli_simulate.run(parser.parse_args([*common, "--rules-before-issue-18"])) == 0
    before = capsys.readouterr().out
    assert "- routing_ahead_only = False" in before and "- urgent_no_show_at_once = False" in before
    assert cli_simulate.run(parser.parse_args([*common, "--load-basis", "nominal"])) == 0
    after = capsys.readouterr().out
    assert "- routing_ahead_only = True" in after and "## Load sweep: 90% nominal load" in after
