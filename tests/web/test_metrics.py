"""/metrics: the requests counted by route pattern, the outbox, video and deadlines read from the database; who may
scrape it (internal addresses, or the token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from accounts.roles import Role
from emergency.models import EmergencyReport, ReportSource, ReportState, ReportType, Severity
from followup.models import Referral, ReferralState
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import enqueue
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.emergency.arrange import add_missions
from tests.factories import Client, make_staff
from tests.followup.arrange import add_department
from tests.followup.team_arrange import referred
from tests.quality.test_review import rate
from tests.video.arrange import Sessions, video_audiences
from video.models import VideoAudience, VideoEvent, VideoEventKind, VideoState

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TOKEN = "metrics-token-for-the-tests-0123456789"


async def scraped(client: Client, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def add_message(sessions: Sessions, clock: FrozenClock, channel: str, status: MessageStatus, **due: int) -> None:
    async with transaction(sessions) as session:
        message = await enqueue(
            session=session,
            clock=clock,
            purpose="test",
            channel=channel,
            recipient="+966501234567",
            language="ar",
            body="نص",
            due_at=clock.now() + timedelta(minutes=due.get("minutes", 0)),
        )
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(status=status))


async def test_requests_are_counted_by_route_pattern_and_the_outbox_read_from_the_database(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    assert (await client.get("/")).status == 200
    assert (await client.get("/")).status == 200
    # A signed link's path carries its token, and an address that matches nothing is anything a client typed.
    await client.get("/a/not-a-real-token-26-000001-0")
    assert (await client.get("/no/such/page/26-000777-1")).status == 404
    await add_message(sessions, clock, "sms", MessageStatus.PENDING, minutes=-12)
    await add_message(sessions, clock, "sms", MessageStatus.PENDING, minutes=-3)
    await add_message(sessions, clock, "sms", MessageStatus.PENDING, minutes=30)  # not due yet
    await add_message(sessions, clock, "sms", MessageStatus.SENT)
    await add_message(sessions, clock, "whatsapp", MessageStatus.SENT)
    await add_message(sessions, clock, "whatsapp", MessageStatus.FAILED)

    samples = await scraped(client)

    requests = "majlis_http_requests_total"
    assert value(samples, requests, method="GET", route="/", status="200", status_class="2xx") == 2
    assert value(samples, requests, method="GET", route="unmatched", status="404", status_class="4xx") == 1
    assert sum(v for (name, labels), v in samples.items() if name == requests and ("route", "/a/{token}") in labels)
    assert value(samples, "majlis_http_request_duration_seconds_count", route="/") == 2
    # No label anywhere holds a path's token or tracking number.
    every_label = " ".join(v for (_, labels) in samples for _, v in labels)
    assert "26-000" not in every_label and "not-a-real-token" not in every_label
    assert value(samples, "majlis_outbox_messages", channel="sms", status="pending") == 3
    assert value(samples, "majlis_outbox_messages", channel="sms", status="sent") == 1
    assert value(samples, "majlis_outbox_messages", channel="whatsapp", status="sent") == 1
    assert value(samples, "majlis_outbox_messages", channel="whatsapp", status="failed") == 1
    assert value(samples, "majlis_outbox_due_messages") == 2
    assert value(samples, "majlis_outbox_oldest_due_age_seconds") == 12 * 60
    # Nothing past a deadline, no allocation run yet in this process.
    assert value(samples, "majlis_sla_breaches", area="followup", deadline="solution") == 0
    assert value(samples, "majlis_sla_breaches", area="emergency", deadline="acknowledge") == 0
    assert value(samples, "majlis_allocation_run_seconds_count") == 0

    # The scrape itself is counted on the next one.
    again = await scraped(client)
    assert value(again, requests, method="GET", route="/metrics", status="200", status_class="2xx") == 1

    # Staff send the failed message again: it leaves failed, so the figure falls. It is published as a gauge (the
    # alerts take delta() of it), never as a counter whose fall Prometheus would read as a restart.
    async with transaction(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.FAILED)
            .values(status=MessageStatus.PENDING, sent_at=None)
        )
    after = await client.get("/metrics")
    families = {family.name: family for family in text_string_to_metric_families(await after.text())}
    assert families["majlis_outbox_messages"].type == "gauge" and families["majlis_sla_breaches"].type == "gauge"
    outbox = {tuple(sorted(s.labels.items())): s.value for s in families["majlis_outbox_messages"].samples}
    assert outbox.get((("channel", "whatsapp"), ("status", "failed")), 0) == 0


async def test_video_audiences_in_progress_and_bridged_calls(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second, third = await video_audiences(sessions, clock, count=3)
    async with transaction(sessions) as session:
        await session.execute(
            update(VideoAudience)
            .where(VideoAudience.id.in_((first, second)))
            .values(state=VideoState.IN_CALL, started_at=clock.now())
        )
        session.add(VideoEvent(audience_id=first, at=clock.now(), kind=VideoEventKind.BRIDGED, detail="settings"))
        # An ended call that went through the bridge is history, not load.
        await session.execute(update(VideoAudience).where(VideoAudience.id == third).values(state=VideoState.ENDED))
        session.add(VideoEvent(audience_id=third, at=clock.now(), kind=VideoEventKind.BRIDGED, detail="room"))

    samples = await scraped(client)

    assert value(samples, "majlis_video_audiences", state="in_call") == 2
    assert value(samples, "majlis_video_audiences", state="waiting") == 0
    assert value(samples, "majlis_video_bridged_calls") == 1


@pytest.fixture
async def behind_proxy(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> AsyncIterator[Client]:
    """An app behind a trusted proxy on loopback, with a metrics token: X-Forwarded-For says who the client is."""
    settings = make_settings(database_url, trusted_proxies=["127.0.0.1"], metrics_token=TOKEN)
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    yield client
    await client.close()


async def test_an_outside_address_is_refused_without_the_token(behind_proxy: Client) -> None:
    outside = {"X-Forwarded-For": "203.0.113.9"}
    assert (await behind_proxy.get("/metrics", headers=outside)).status == 403
    wrong = {**outside, "Authorization": f"Bearer {TOKEN[:-1]}x"}
    assert (await behind_proxy.get("/metrics", headers=wrong)).status == 403
    assert (await behind_proxy.get("/metrics", headers={**outside, "Authorization": TOKEN})).status == 403

    samples = await scraped(behind_proxy, **outside, Authorization=f"Bearer {TOKEN}")
    # The refusals were counted too, under the route's pattern.
    assert (
        value(samples, "majlis_http_requests_total", method="GET", route="/metrics", status="403", status_class="4xx")
        == 3
    )
    # A client the proxy reports from inside the loopback network needs no token; a forged header before the
    # proxy's own entry is not believed.
    assert (await behind_proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.5"})).status == 200
    forged = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}
    assert (await behind_proxy.get("/metrics", headers=forged)).status == 403


async def test_a_proxy_not_trusted_opens_metrics_only_with_the_token(
    database_url: str, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    """nginx on loopback but MAJLIS_TRUSTED_PROXIES unset: every visitor's peer is 127.0.0.1, so a request naming a
    client (X-Forwarded-For, or Forwarded that Majlis never reads) is not let in by the loopback network."""
    settings = make_settings(database_url, metrics_token=TOKEN)
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    try:
        assert (await client.get("/metrics")).status == 200  # the machine itself, no proxy in between
        for named in (
            {"X-Forwarded-For": "203.0.113.9"},
            {"X-Forwarded-For": "127.0.0.1"},
            {"Forwarded": "for=1.2.3.4"},
        ):
            assert (await client.get("/metrics", headers=named)).status == 403, named
            assert (await client.get("/metrics", headers={**named, "Authorization": f"Bearer {TOKEN}"})).status == 200
    finally:
        await client.close()


async def test_metrics_networks_are_settings(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> None:
    # Loopback is not among them: the test client's own address is refused, and no token is set to let it in.
    settings = make_settings(database_url, metrics_networks="10.0.0.0/8, 192.168.0.0/16")
    assert settings.metrics_networks == ("10.0.0.0/8", "192.168.0.0/16")
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    try:
        assert (await client.get("/metrics")).status == 403
        assert (await client.get("/metrics", headers={"Authorization": "Bearer "})).status == 403
    finally:
        await client.close()


def emergency_report(
    mission_id: int, clock: FrozenClock, state: ReportState, serial: int, **due: int
) -> EmergencyReport:
    """A report whose acknowledgement and solution were due this many hours from now (negative: past)."""
    return EmergencyReport(
        number=f"E26-{serial:06d}-0",
        national_id="1000000008",
        caller_name="test",
        phone="+971501234567",
        country="AE",
        city="Dubai",
        type=ReportType.ACCIDENT,
        severity=Severity.URGENT,
        account="test",
        source=ReportSource.AGENT,
        mission_id=mission_id,
        state=state,
        created_at=clock.now() - timedelta(days=5),
        acknowledge_due_at=clock.now() + timedelta(hours=due["ack"]),
        solve_due_at=clock.now() + timedelta(hours=due["solve"]),
    )


async def test_deadlines_passed_and_reviews_overdue(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    world = await add_missions(sessions)
    async with transaction(sessions) as session:
        session.add(emergency_report(world.dubai, clock, ReportState.OPEN, 1, ack=-1, solve=48))
        session.add(emergency_report(world.dubai, clock, ReportState.ACKNOWLEDGED, 2, ack=-50, solve=-2))
        session.add(emergency_report(world.dubai, clock, ReportState.OPEN, 3, ack=1, solve=48))  # in time
        session.add(emergency_report(world.dubai, clock, ReportState.SOLVED, 4, ack=-50, solve=-2))  # met
    await add_department(sessions, "health")
    await add_department(sessions, "housing")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    now = clock.now()
    [silent, late] = await referred(sessions, clock, auditor, now - timedelta(days=2), "health,housing")
    [paused] = await referred(sessions, clock, auditor, now - timedelta(days=2), "health")
    clock.set(now)
    async with transaction(sessions) as session:
        past = now - timedelta(hours=1)
        # Never acknowledged: past its first response and its solution; acknowledged: past its solution only.
        await session.execute(
            update(Referral).where(Referral.id == silent).values(first_response_due_at=past, solution_due_at=past)
        )
        await session.execute(
            update(Referral)
            .where(Referral.id == late)
            .values(state=ReferralState.ACKNOWLEDGED, first_response_due_at=past, solution_due_at=past)
        )
        # Waiting for the applicant, its clocks stopped: no breach.
        await session.execute(
            update(Referral)
            .where(Referral.id == paused)
            .values(
                state=ReferralState.AWAITING_APPLICANT,
                paused_since=past,
                first_response_due_at=past,
                solution_due_at=past,
            )
        )
    # A negative rating of a week ago, never reviewed; a positive one needs no review.
    await rate(sessions, clock, 1, at=clock.now() - timedelta(days=7))
    await rate(sessions, clock, 5, at=clock.now() - timedelta(days=7))

    samples = await scraped(client)

    assert value(samples, "majlis_sla_breaches", area="emergency", deadline="acknowledge") == 1
    # The open report past its acknowledgement is not yet past its solution; the acknowledged one is.
    assert value(samples, "majlis_sla_breaches", area="emergency", deadline="solve") == 1
    assert value(samples, "majlis_sla_breaches", area="followup", deadline="first_response") == 1
    assert value(samples, "majlis_sla_breaches", area="followup", deadline="solution") == 2
    assert value(samples, "majlis_quality_overdue_reviews") == 1
