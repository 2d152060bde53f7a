"""The simulation's live rules (issue 18): placement on routing, critical displacement, the official's directive;
the load sweep, the starvation rule, the applicants of the equal-priority comparison, and `majlis simulate`."""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from majlis import cli_simulate
from priority.score import Urgency
from scheduler.allocation import Mode
from scheduler.simulation import Arrival, Policy, SimulationResult, arrivals, simulate
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_equal import Applicants, describe, equal_priority, wait_records
from scheduler.simulation_sweep import LOADS, LoadBasis, period_end, starved, sweep, sweep_table
from scheduler.simulation_tables import fairness_report

SEED = 2026
# Plenty of seats, nothing cancelled, nobody missing an audience: only the rules under test act.
QUIET = dataclasses.replace(Assumptions(), cancel_probability=0.0, no_show_rate=0.0)
WEEKLY_ONLY = dataclasses.replace(QUIET, urgent_on_routing=False, directive_share=0.0)
# One men's video seat a week per branch (0.12 × 5 × 8.7 visitors × 19.2 % ≈ 1.0), in its first slot.
ONE_SEAT = dataclasses.replace(QUIET, visitors_per_day=8.7, capacity_factor=1.0, directive_share=0.0)


def _request(case_id: int, at: datetime, urgency: Urgency, *, mode: Mode = Mode.VIDEO, category: str = "") -> Arrival:
    category = category or {Urgency.CRITICAL: "qisas", Urgency.URGENT: "detention_legal"}.get(urgency, "general")
    return Arrival(case_id, at, "riyadh", mode, False, False, urgency, category)


def _audience(result: SimulationResult, request: Arrival) -> datetime:
    return request.submitted_at + timedelta(days=result.waits[request.case_id])


def test_an_urgent_request_is_placed_on_routing_in_the_earliest_seat_three_days_away() -> None:
    # Sunday 11 January, 08:00 Riyadh: Wednesday's men's video block (10:00 Riyadh) is three days and two hours away.
    urgent = _request(1, datetime(2026, 1, 11, 5, 0, tzinfo=UTC), Urgency.URGENT)
    live = simulate(Policy.MAJLIS, QUIET, days=28, seed=SEED, requests=[urgent])
    assert _audience(live, urgent) == datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
    # The weekly runs alone wait for Thursday's run, which fills the week after.
    weekly = simulate(Policy.MAJLIS, WEEKLY_ONLY, days=28, seed=SEED, requests=[urgent])
    assert _audience(weekly, urgent) == datetime(2026, 1, 21, 7, 0, tzinfo=UTC)
    # The references keep the weekly allocator alone.
    assert simulate(Policy.STRICT, QUIET, days=28, seed=SEED, requests=[urgent]).waits == weekly.waits


def test_a_critical_request_displaces_the_lowest_priority_which_waits_again_and_is_placed_again() -> None:
    assert ONE_SEAT.sessions[2].mode is Mode.VIDEO
    normal = _request(1, datetime(2026, 1, 4, 6, 0, tzinfo=UTC), Urgency.NORMAL)  # placed by Thursday's run
    critical = _request(2, datetime(2026, 1, 11, 5, 0, tzinfo=UTC), Urgency.CRITICAL)
    result = simulate(Policy.MAJLIS, ONE_SEAT, days=28, seed=SEED, requests=[normal, critical])
    assert result.appointments_displaced == 1
    assert _audience(result, critical) == datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
    # The run at routing had no other seat for it (the critical request would have taken a free one
    # instead of displacing); Thursday's run places it in the next week's seat.
    assert _audience(result, normal) == datetime(2026, 1, 21, 7, 0, tzinfo=UTC)
    # Without displacement the normal request keeps its seat and the critical one waits a week more.
    keeps = dataclasses.replace(ONE_SEAT, critical_may_displace=False)
    kept = simulate(Policy.MAJLIS, keeps, days=28, seed=SEED, requests=[normal, critical])
    assert kept.appointments_displaced == 0
    assert _audience(kept, normal) == datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
    assert _audience(kept, critical) == datetime(2026, 1, 21, 7, 0, tzinfo=UTC)
    # An urgent request never displaces.
    urgent = dataclasses.replace(critical, urgency=Urgency.URGENT, category="detention_legal")
    assert simulate(Policy.MAJLIS, ONE_SEAT, days=28, seed=SEED, requests=[normal, urgent]).appointments_displaced == 0


def test_the_officials_directive_seats_a_critical_request_inside_the_three_days() -> None:
    # Thursday 8 January, 15:00 Riyadh, in person: Sunday's audience is under three days away, the next one ten.
    critical = _request(1, datetime(2026, 1, 8, 12, 0, tzinfo=UTC), Urgency.CRITICAL, mode=Mode.IN_PERSON)
    directed = simulate(Policy.MAJLIS, QUIET, days=28, seed=SEED, requests=[critical])
    assert directed.directives == 1
    assert _audience(directed, critical) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
    not_directed = simulate(
        Policy.MAJLIS, dataclasses.replace(QUIET, directive_share=0.0), days=28, seed=SEED, requests=[critical]
    )
    assert not_directed.directives == 0
    assert _audience(not_directed, critical) == datetime(2026, 1, 18, 7, 0, tzinfo=UTC)
    # A seat within seven days needs no directive; an urgent request gets none.
    early = dataclasses.replace(critical, submitted_at=datetime(2026, 1, 6, 6, 0, tzinfo=UTC))
    assert simulate(Policy.MAJLIS, QUIET, days=28, seed=SEED, requests=[early]).directives == 0
    urgent = dataclasses.replace(critical, urgency=Urgency.URGENT, category="detention_legal")
    assert simulate(Policy.MAJLIS, QUIET, days=28, seed=SEED, requests=[urgent]).directives == 0


def test_the_assumptions_of_the_live_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="directive_share"):
        dataclasses.replace(Assumptions(), directive_share=1.5)
    with pytest.raises(ValueError, match="live horizon"):
        dataclasses.replace(Assumptions(), live_horizon_days=3)


def test_the_sweep_runs_every_policy_at_every_load_on_the_same_arrivals_in_one_table() -> None:
    small = dataclasses.replace(Assumptions(), visitors_per_day=30.0)
    rows = sweep(small, days=56, seed=SEED, loads=(0.7, 1.1), basis=LoadBasis.NOMINAL)
    assert [(row.load, row.policy) for row in rows] == [(load, p) for load in (0.7, 1.1) for p in Policy]
    assert len({row.result.overall.submitted for row in rows}) == 1
    table = sweep_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert all(line.count("|") == table[0].count("|") for line in table)
    assert table[2].startswith("| 70% | 78% | first come, first served |")
    # More seats, shorter waits: Majlis's p95 at 70 % is no longer than at 110 %.
    majlis = {row.load: row for row in rows if row.policy is Policy.MAJLIS}
    assert majlis[0.7].result.overall.p95_wait_days <= majlis[1.1].result.overall.p95_wait_days  # type: ignore[operator]
    assert LOADS == (0.70, 0.90, 1.00, 1.10)


def test_starvation_is_being_passed_by_a_request_that_came_30_days_later() -> None:
    start = datetime(2026, 1, 4, 5, 0, tzinfo=UTC)
    early = _request(1, start, Urgency.NORMAL)
    soon_after = _request(2, start + timedelta(days=1), Urgency.URGENT)
    month_later = _request(3, start + timedelta(days=31), Urgency.NORMAL)
    elsewhere = dataclasses.replace(_request(4, start + timedelta(days=31), Urgency.NORMAL), branch="jeddah")
    requests = [early, soon_after, month_later, elsewhere]
    base = simulate(Policy.MAJLIS, QUIET, days=7, seed=SEED, requests=requests)
    end = period_end(QUIET, 120)

    def case(waits: dict[int, float], missed: frozenset[int] = frozenset()) -> tuple[int, int]:
        seen = {2: 5.0, 4: 3.0} | waits  # the urgent and the Jeddah requests seen early unless said
        return starved(requests, dataclasses.replace(base, waits=seen, missed_case_ids=missed), end)

    # Passed by the urgent request that came a day later, seen on day 70: a long wait, not starvation.
    assert case({1: 70.0, 3: 50.0}) == (0, 1)
    # Passed by the request that came on day 31 (seen on day 41): starved.
    assert case({1: 70.0, 3: 10.0}) == (1, 1)
    assert case({1: 45.0, 3: 10.0}) == (1, 0)
    # Still waiting at the end (116 days) while the one of day 31 was seen on day 81: starved.
    assert case({3: 50.0}) == (1, 1)
    # Seen before it; passed only by another branch's request of day 31; or it missed its audience: not starved.
    assert case({1: 40.0, 3: 10.0}) == (0, 0)
    assert case({1: 50.0, 3: 30.0}) == (0, 0)
    assert case({1: 70.0, 3: 10.0}, frozenset({1})) == (0, 0)


def test_the_applicants_are_drawn_per_case_and_fit_the_seat_asked_for() -> None:
    a = dataclasses.replace(Assumptions(), visitors_per_day=60.0)
    drawn = arrivals(a, 56, SEED)
    described = describe(a, Applicants(), drawn, SEED)
    # Keyed by case id: drawing fewer requests gives the same values for those drawn.
    assert describe(a, Applicants(), drawn[:20], SEED) == {r.case_id: described[r.case_id] for r in drawn[:20]}
    kinds = Counter(values["applicant_kind"] for values in described.values())
    for request in drawn:
        values = described[request.case_id]
        assert values["branch"] == request.branch
        if request.women_section:
            assert values["gender"] == "female"
        if request.mode is Mode.VIDEO and not request.women_section:
            assert values["gender"] == "male"
        if values["applicant_kind"] == "company":
            assert request.mode is Mode.IN_PERSON and "gender" not in values
    assert kinds["company"] / len(drawn) == pytest.approx(0.13, abs=0.04)
    assert kinds["resident"] / (kinds["citizen"] + kinds["resident"]) == pytest.approx(0.13, abs=0.04)
    # The arrivals are untouched by the draw.
    assert arrivals(a, 56, SEED) == drawn


def test_the_equal_priority_comparison_covers_every_seen_request_and_is_deterministic() -> None:
    a = dataclasses.replace(Assumptions(), visitors_per_day=60.0)
    drawn = arrivals(a, 84, SEED)
    result = simulate(Policy.MAJLIS, a, days=84, seed=SEED, requests=drawn)
    records = wait_records(result, drawn, describe(a, Applicants(), drawn, SEED))
    assert len(records) == len(result.waits)
    first = equal_priority(a, result, drawn, seed=SEED, permutations=50)
    assert first == equal_priority(a, result, drawn, seed=SEED, permutations=50)
    assert {c.dimension for c in first} <= {"gender", "applicant_kind", "channel", "branch"}


def test_majlis_simulate_prints_the_sweep_and_the_equal_priority_table(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli_simulate.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--days", "28", "--loads", "70,110", "--permutations", "20"])
    assert cli_simulate.run(args) == 0
    out = capsys.readouterr().out
    assert "## Load sweep: 70%, 110% effective load" in out
    assert "| 110% | Majlis's score |" in out
    assert "## Equal priority, equal wait: Majlis's score at 90% effective load" in out
    assert "no slot of their kind from 3 to 7 days after their submission" in out
    assert "groups compared within their urgency band and category" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "--loads", "seventy"])


def test_the_fairness_report_is_the_same_for_the_same_seed() -> None:
    a = dataclasses.replace(Assumptions(), visitors_per_day=30.0)
    drawn = arrivals(a, 28, SEED)
    once = fairness_report(a, days=28, seed=SEED, requests=drawn, loads=(0.9,), permutations=20)
    assert once == fairness_report(a, days=28, seed=SEED, requests=drawn, loads=(0.9,), permutations=20)
