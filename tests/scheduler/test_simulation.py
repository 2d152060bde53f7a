"""The simulation: reproducible draws, one set of arrivals for every policy, and what each policy does to the waits."""

from __future__ import annotations

import dataclasses
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from priority.score import URGENCY_POINTS, Urgency, priority_score
from scheduler.allocation import Mode
from scheduler.simulation import (
    SCORES,
    Policy,
    arrivals,
    fcfs_score,
    simulate,
    strict_score,
)
from scheduler.simulation_assumptions import Assumptions, slot_capacities, weekly_demand, weekly_seats
from scheduler.simulation_noshow import Attendance, NoShowRecord, no_show_draws, no_show_table
from scheduler.simulation_text import comparison_table, progress_bar

SEED = 2026
WEEKS_12 = 84

# A small office: a third of the visitors, with the source's shares (and the
# assumed no-show rate).
SMALL = dataclasses.replace(Assumptions(), visitors_per_day=50.0)

# Capacity below demand for the 12 weeks simulated, no session cancelled, and
# each run filling next week's sessions only, so that the queue, not the
# calendar booked weeks ahead, decides who waits: strict priority keeps serving
# every new urgent and heavier request first and the general ones pile up, while
# aging keeps every request moving. (Over 200 seeds MAJLIS's share of normal
# requests seen within 30 days beat STRICT's by at least 9 points, and FCFS's
# critical median exceeded MAJLIS's by at least 3 days.) Without no-shows, as
# those seeds were tried.
SHORTFALL = dataclasses.replace(
    Assumptions(),
    visitors_per_day=100.0,
    capacity_factor=0.8,
    cancel_probability=0.0,
    horizon_weeks=1,
    no_show_rate=0.0,
)

# A deep shortfall for 16 weeks: old normal requests outscore new urgent ones
# (after 10 to 13 days' wait) but not new critical ones (23 days), so each band
# waits visibly longer than the one above. More critical requests than the
# source's mix, so that their median rests on some 90 of them. (Over 200 seeds
# the urgent median exceeded the critical one by at least 2 days, and the normal
# one the urgent one by at least 9.)
OVERLOAD = dataclasses.replace(
    Assumptions(),
    visitors_per_day=60.0,
    capacity_factor=0.7,
    cancel_probability=0.0,
    horizon_weeks=1,
    urgency_shares=((Urgency.CRITICAL, 0.1), (Urgency.URGENT, 0.3), (Urgency.NORMAL, 0.6)),
    no_show_rate=0.0,
)


def test_the_same_seed_gives_the_same_arrivals_and_the_same_result() -> None:
    assert arrivals(SMALL, WEEKS_12, SEED) == arrivals(SMALL, WEEKS_12, SEED)
    assert arrivals(SMALL, WEEKS_12, SEED) != arrivals(SMALL, WEEKS_12, SEED + 1)
    first = simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED)
    assert simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED) == first
    assert first.overall.submitted > 0


def test_every_policy_runs_on_the_same_arrivals_and_the_same_cancellations() -> None:
    drawn = arrivals(SMALL, WEEKS_12, SEED)
    results = {policy: simulate(policy, SMALL, days=WEEKS_12, seed=SEED) for policy in Policy}
    for policy, result in results.items():
        # Drawing them inside simulate or handing them over makes no difference.
        assert simulate(policy, SMALL, days=WEEKS_12, seed=SEED, requests=drawn) == result
    submitted = {policy: [o.submitted for o in result.by_urgency] for policy, result in results.items()}
    expected = Counter(request.urgency for request in drawn)
    assert all(counts == [expected[urgency] for urgency in Urgency] for counts in submitted.values())
    assert len({(r.seats_offered, r.sessions_cancelled, r.runs) for r in results.values()}) == 1


def test_the_policies_score_as_they_say() -> None:
    day = timedelta(days=1)
    assert fcfs_score(urgency=Urgency.CRITICAL, category_weight=30, waited=day) == fcfs_score(
        urgency=Urgency.NORMAL, category_weight=0, waited=day
    )
    assert fcfs_score(urgency=Urgency.NORMAL, category_weight=0, waited=2 * day) > fcfs_score(
        urgency=Urgency.CRITICAL, category_weight=30, waited=day
    )
    assert (
        strict_score(urgency=Urgency.URGENT, category_weight=20, waited=100 * day)
        == URGENCY_POINTS[Urgency.URGENT] + 20
    )
    assert SCORES[Policy.MAJLIS] is priority_score


def test_the_arrivals_follow_the_figures() -> None:
    year = Assumptions()
    drawn = arrivals(year, 364, SEED)
    # 150 visitors × 12 % × 2 centres × 5 days × 52 weeks = 9,360 requests.
    assert len(drawn) == pytest.approx(9360, rel=0.03)
    assert [r.submitted_at for r in drawn] == sorted(r.submitted_at for r in drawn)
    kinds = Counter((r.mode, r.women_section) for r in drawn)
    assert kinds[Mode.VIDEO, True] / len(drawn) == pytest.approx(0.23 * 0.6, abs=0.01)
    urgencies = Counter(r.urgency for r in drawn)
    assert urgencies[Urgency.CRITICAL] / len(drawn) == pytest.approx(0.03, abs=0.005)
    assert urgencies[Urgency.NORMAL] / len(drawn) == pytest.approx(0.80, abs=0.015)
    assert sum(r.wheelchair for r in drawn) / len(drawn) == pytest.approx(0.05, abs=0.01)
    # Nobody arrives on a Friday or a Saturday, nor outside 08:00–16:00 Riyadh.
    assert all(r.submitted_at.isoweekday() not in (5, 6) for r in drawn)
    assert all(5 <= r.submitted_at.hour < 13 for r in drawn)  # in UTC


def test_capacity_is_the_stated_multiple_of_demand() -> None:
    year = Assumptions()
    demand = sum(weekly_demand(year).values())
    seats = sum(weekly_seats(year).values())
    assert demand == pytest.approx(150 * 5 * 0.12)
    assert 1.0 < seats / demand < 1.1
    assert slot_capacities(64, 15) == [5] * 4 + [4] * 11
    assert slot_capacities(3, 0) == []


def test_under_majlis_more_urgent_requests_wait_less() -> None:
    result = simulate(Policy.MAJLIS, OVERLOAD, days=16 * 7, seed=SEED)
    critical, urgent, normal = (result.outcome(urgency).median_wait_days for urgency in Urgency)
    assert critical is not None and urgent is not None and normal is not None
    assert critical <= urgent <= normal


def test_aging_keeps_normal_requests_within_the_target_where_strict_priority_starves_them() -> None:
    drawn = arrivals(SHORTFALL, WEEKS_12, SEED)
    results = {
        policy: simulate(policy, SHORTFALL, days=WEEKS_12, seed=SEED, requests=drawn)
        for policy in (Policy.STRICT, Policy.MAJLIS)
    }
    majlis = results[Policy.MAJLIS].outcome(Urgency.NORMAL).within_target
    strict = results[Policy.STRICT].outcome(Urgency.NORMAL).within_target
    assert majlis is not None and strict is not None
    assert majlis >= strict


def test_first_come_first_served_makes_critical_requests_wait_at_least_as_long() -> None:
    drawn = arrivals(SHORTFALL, WEEKS_12, SEED)
    fcfs = simulate(Policy.FCFS, SHORTFALL, days=WEEKS_12, seed=SEED, requests=drawn)
    majlis = simulate(Policy.MAJLIS, SHORTFALL, days=WEEKS_12, seed=SEED, requests=drawn)
    fcfs_critical = fcfs.outcome(Urgency.CRITICAL).median_wait_days
    majlis_critical = majlis.outcome(Urgency.CRITICAL).median_wait_days
    assert fcfs_critical is not None and majlis_critical is not None
    assert fcfs_critical >= majlis_critical


def test_a_cancelled_session_sends_its_applicants_back_to_wait() -> None:
    always = dataclasses.replace(SMALL, cancel_probability=1.0, horizon_weeks=5)
    booked_ahead = simulate(Policy.MAJLIS, always, days=WEEKS_12, seed=SEED)
    # Weeks 2 to 12 each lose a session (week 1's come before the first run).
    assert booked_ahead.sessions_cancelled == 11
    assert booked_ahead.requests_bumped > 0
    # Filling next week's sessions only, a weekly run already knows which is cancelled (the runs at
    # routing fill up to ten days ahead, beyond what is known: they are left out here).
    weekly_only = dataclasses.replace(always, horizon_weeks=1, urgent_on_routing=False, directive_share=0.0)
    week_by_week = simulate(Policy.MAJLIS, weekly_only, days=WEEKS_12, seed=SEED)
    assert week_by_week.requests_bumped == 0
    never = simulate(Policy.MAJLIS, dataclasses.replace(SMALL, cancel_probability=0.0), days=WEEKS_12, seed=SEED)
    assert never.seats_offered > booked_ahead.seats_offered
    for result in (booked_ahead, week_by_week, never):
        assert 0 < result.seats_used <= result.seats_offered
        overall = result.overall
        assert overall.seen + overall.still_waiting + overall.closed == overall.submitted


def test_the_comparison_table_has_every_policy_and_urgency() -> None:
    results = {policy: simulate(policy, SMALL, days=WEEKS_12, seed=SEED) for policy in Policy}
    table = comparison_table(results)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(Policy) * (len(Urgency) + 1)
    for policy in Policy:
        for label in (*Urgency, "all"):
            assert any(row.startswith(f"| {policy.label} | {label} |") for row in rows), (policy, label)
        all_row = next(row for row in rows if row.startswith(f"| {policy.label} | all |"))
        assert f"{100 * results[policy].slot_use:.1f} %" in all_row


def test_the_progress_bar_follows_the_weeks() -> None:
    out = io.StringIO()
    calls: list[tuple[int, int]] = []
    bar = progress_bar(out, label="majlis", width=10)

    def both(done: int, total: int) -> None:
        calls.append((done, total))
        bar(done, total)

    simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED, progress=both)
    assert calls == [(week, 12) for week in range(13)]
    assert out.getvalue().endswith("\rmajlis [##########] 12/12 weeks\n")
    assert "\rmajlis [#####.....] 6/12 weeks" in out.getvalue()


def test_assumptions_that_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        dataclasses.replace(Assumptions(), women_share=1.2)
    with pytest.raises(ValueError, match="Sunday"):
        dataclasses.replace(Assumptions(), start=Assumptions().start + timedelta(days=1))
    with pytest.raises(ValueError, match="add up"):
        dataclasses.replace(Assumptions(), urgency_shares=((Urgency.CRITICAL, 0.5),))
    with pytest.raises(ValueError, match="days before"):
        dataclasses.replace(Assumptions(), run_weekday=4, run_time=Assumptions().run_time.replace(hour=12))


# Ample seats, no cancellation, next week's sessions only: a request is placed
# at the first Thursday run after its submission, in the next week's sessions.
AMPLE = dataclasses.replace(SMALL, capacity_factor=3.0, cancel_probability=0.0, horizon_weeks=1)


def test_no_shows_at_a_rate_of_0_change_nothing() -> None:
    # The figures of SMALL over 12 weeks as the simulation gave them before it
    # modelled no-shows (commit 5ac0805), at both horizons; the weekly runs alone, as
    # then (without the live rules for urgent and critical requests, issue 18).
    before = {
        1: (635, 0, 108, 8.88876528951389, 22.046358265000002, 0.9822485207100592),
        5: (635, 9, 108, 8.960882321620371, 23.025140560497686, 0.9881656804733728),
    }
    for horizon, (used, bumped, waiting, median, p95, within) in before.items():
        none = dataclasses.replace(
            SMALL, horizon_weeks=horizon, no_show_rate=0.0, urgent_on_routing=False, directive_share=0.0
        )
        result = simulate(Policy.MAJLIS, none, days=WEEKS_12, seed=SEED)
        assert (result.seats_used, result.requests_bumped, result.overall.still_waiting) == (used, bumped, waiting)
        assert result.overall.median_wait_days == pytest.approx(median, abs=1e-9)
        assert result.overall.p95_wait_days == pytest.approx(p95, abs=1e-9)
        assert result.overall.within_target == pytest.approx(within, abs=1e-9)
        assert (result.overall.no_shows, result.overall.returned, result.overall.closed) == (0, 0, 0)
        assert result.overall.returned_median_wait_days is None
        # Nobody returns, so the setting has nothing to act on.
        new_priority = dataclasses.replace(none, no_show_keeps_priority=False)
        assert simulate(Policy.MAJLIS, new_priority, days=WEEKS_12, seed=SEED) == result
    # The assumed rate does change the waits.
    assert simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED).overall.no_shows > 0


def test_at_a_rate_of_1_every_request_is_closed_after_two_no_shows() -> None:
    everyone = dataclasses.replace(AMPLE, no_show_rate=1.0)
    drawn = arrivals(everyone, WEEKS_12, SEED)
    result = simulate(Policy.MAJLIS, everyone, days=WEEKS_12, seed=SEED, requests=drawn)
    overall = result.overall
    assert overall.seen == 0 and result.seats_used == 0
    assert overall.no_shows == overall.returned + overall.closed
    # Submitted by the Thursday run of week w: placed for week w + 1, missed,
    # placed again for week w + 2, missed, closed. So everything submitted three
    # weeks before the end is closed, and nothing is placed a third time.
    end = drawn[0].submitted_at.replace(hour=0) + timedelta(days=WEEKS_12)
    early = sum(1 for r in drawn if r.submitted_at < end - timedelta(weeks=3))
    assert early > 0
    assert overall.closed >= early
    assert overall.closed + overall.still_waiting == overall.submitted
    assert result.seats_offered > 0 and overall.within_target is None


def test_a_higher_rate_only_adds_no_shows_and_each_is_returned_once() -> None:
    drawn = arrivals(AMPLE, WEEKS_12, SEED)
    low = simulate(Policy.MAJLIS, dataclasses.replace(AMPLE, no_show_rate=0.05), days=WEEKS_12, requests=drawn)
    high = simulate(Policy.MAJLIS, dataclasses.replace(AMPLE, no_show_rate=0.30), days=WEEKS_12, requests=drawn)
    assert 0 < low.overall.returned < high.overall.returned
    assert high.overall.closed > 0
    for result in (low, high):
        overall = result.overall
        assert overall.no_shows == overall.returned + overall.closed
        assert overall.closed <= overall.returned
        # Every no-show wasted its seat: the seats used are those who came.
        assert result.seats_used == overall.seen
    # With seats to spare, a returned request is seen in a later week.
    assert high.overall.returned_median_wait_days is not None
    assert high.overall.median_wait_days is not None
    assert high.overall.returned_median_wait_days > high.overall.median_wait_days


def test_the_no_show_record_follows_the_rule() -> None:
    draws = {1: (0.5, 0.5), 2: (0.01, 0.9), 3: (0.01, 0.01)}
    ended = Assumptions().start
    moment = datetime.combine(ended, datetime.min.time(), tzinfo=UTC)
    kept = NoShowRecord(rate=0.1, keeps_priority=True, draws=draws)
    assert kept.after_audience(1, moment) is Attendance.CAME
    assert kept.after_audience(2, moment) is Attendance.RETURNED
    assert kept.after_audience(2, moment) is Attendance.CAME
    assert kept.after_audience(3, moment) is Attendance.RETURNED
    assert kept.after_audience(3, moment) is Attendance.CLOSED
    assert (kept.returned(2), kept.closed(2), kept.closed(3), kept.returned(1)) == (True, False, True, False)
    assert kept.waits_since == {}
    new = NoShowRecord(rate=0.1, keeps_priority=False, draws=draws)
    assert new.after_audience(3, moment) is Attendance.RETURNED
    assert new.waits_since == {3: moment}
    with pytest.raises(ValueError, match="no-show rate"):
        NoShowRecord(rate=1.5, keeps_priority=True, draws=draws)
    with pytest.raises(ValueError, match="share"):
        dataclasses.replace(Assumptions(), no_show_rate=-0.1)


def test_a_returned_request_keeps_its_priority_unless_the_setting_says_not() -> None:
    # Seats short of demand, so that the order of the queue decides who waits;
    # a high rate, so that many requests return.
    # The weekly runs alone: the setting is about their order (the live rules for urgent
    # requests, which place a returned urgent request at once, are tested with them).
    crowded = dataclasses.replace(
        SHORTFALL, no_show_rate=0.3, urgent_on_routing=False, critical_may_displace=False, directive_share=0.0
    )
    drawn = arrivals(crowded, WEEKS_12, SEED)
    kept = simulate(Policy.MAJLIS, crowded, days=WEEKS_12, seed=SEED, requests=drawn)
    as_new = simulate(
        Policy.MAJLIS,
        dataclasses.replace(crowded, no_show_keeps_priority=False),
        days=WEEKS_12,
        seed=SEED,
        requests=drawn,
    )
    assert kept != as_new
    kept_wait = kept.overall.returned_median_wait_days
    new_wait = as_new.overall.returned_median_wait_days
    assert kept_wait is not None and new_wait is not None
    # Counting from its submission, a returned request outscores the newer ones
    # and is placed again sooner than when it starts again from its no-show.
    assert kept_wait + 3 < new_wait
    assert kept.overall.returned > 20 and as_new.overall.returned > 20


def test_no_shows_are_drawn_from_the_seed_alone() -> None:
    ids = [r.case_id for r in arrivals(SMALL, WEEKS_12, SEED)]
    assert no_show_draws(SEED, ids) == no_show_draws(SEED, ids)
    assert no_show_draws(SEED, ids) != no_show_draws(SEED + 1, ids)
    first = simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED)
    assert simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED) == first
    assert first.overall.no_shows > 0
    # Another seed on the same arrivals: other applicants miss.
    drawn = arrivals(SMALL, WEEKS_12, SEED)
    other = simulate(Policy.MAJLIS, SMALL, days=WEEKS_12, seed=SEED + 1, requests=drawn)
    assert other.overall.no_shows > 0 and other != first


def test_the_no_show_table_sets_the_waits_side_by_side() -> None:
    drawn = arrivals(SMALL, WEEKS_12, SEED)
    none = dataclasses.replace(SMALL, no_show_rate=0.0)
    reference = {policy: simulate(policy, none, days=WEEKS_12, seed=SEED, requests=drawn) for policy in Policy}
    observed = {policy: simulate(policy, SMALL, days=WEEKS_12, seed=SEED, requests=drawn) for policy in Policy}
    table = no_show_table(reference, observed, observed_label="8 %")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert "median wait 0 % → 8 %" in rows[0] and "| no-shows | returned | closed |" in rows[0]
    assert len(rows) - 1 == len(Policy) * (len(Urgency) + 1)
    for policy in Policy:
        before, after = reference[policy].overall, observed[policy].overall
        row = next(row for row in rows if row.startswith(f"| {policy.label} | all |"))
        assert before.median_wait_days is not None and after.median_wait_days is not None
        ratio = after.median_wait_days / before.median_wait_days
        assert f"| {before.median_wait_days:.1f} → {after.median_wait_days:.1f} ({ratio:.2f}×) |" in row
        assert f"| {after.no_shows:,} | {after.returned:,} | {after.closed:,} |" in row
