"""Registering a citizen's emergency report, and finding reports: by id, by number, the open queue, an agent's
own, and the citizen's by number and phone. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.digits import ascii_digits
from cases.phones import to_e164
from emergency import alerts, timers
from emergency.checks import phone_abroad
from emergency.intake import ReportDetails
from emergency.models import (
    EmergencyReport,
    Mission,
    ReportEvent,
    ReportEventKind,
    ReportSource,
    ReportState,
    Severity,
)
from emergency.numbers import next_report_number, parse_report_number
from emergency.routing import route
from majlis import paging
from majlis.clock import Clock
from majlis.errors import N_, DomainError
from notify import outbox
from notify.links import Links
from notify.texts import Text

# The outbox purpose of the citizen's SMS with the report number.
REGISTERED_SMS = "emergency_registered"
# States still waiting for the mission: in the open queue.
OPEN_STATES = (ReportState.OPEN, ReportState.ACKNOWLEDGED)
# Tries at a free number before giving up: each retry follows another registration's commit, so a few suffice
# unless many agents register in the same instant.
_NUMBER_ATTEMPTS = 20

# The SMS sent to the citizen as soon as the report is registered. The number sits between isolates
# (U+2066 … U+2069) so that its dashes keep their order inside Arabic.
registered_sms = Text(
    N_("Your emergency report {number} is registered. Follow it with this number and your phone: {status_url}")
)


class NumbersBusy(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "numbers_busy", N_("Too many reports are being registered at this moment. Register this one again.")
        )


def isolated(value: str) -> str:
    """A number between left-to-right isolates, so it reads the same inside Arabic text."""
    return f"\u2066{value}\u2069"


async def _insert_numbered(*, session: AsyncSession, clock: Clock, report: EmergencyReport) -> EmergencyReport:
    """The report saved under the next free number of the year.

    Each try runs in a savepoint: when another registration took the number first (PostgreSQL, READ COMMITTED)
    the unique index makes this insert wait for it to commit, then fail; the next read sees its number.
    """
    for _ in range(_NUMBER_ATTEMPTS):
        report.number = await next_report_number(session=session, clock=clock)
        try:
            async with session.begin_nested():
                session.add(report)
                await session.flush()
        except IntegrityError:
            # The savepoint's rollback expunged the report: it is added again with the next number.
            continue
        return report
    raise NumbersBusy()


async def register(
    *,
    session: AsyncSession,
    clock: Clock,
    details: ReportDetails,
    actor_id: int | None,
    source: ReportSource,
    levels: timers.Levels,
    links: Links,
    status_url: str,
) -> EmergencyReport:
    """The report routed, numbered, given its deadlines, its citizen told by SMS and its duty officer alerted,
    all in the caller's transaction. A refusal (the place covered by no mission, no central desk) comes before
    anything is written."""
    routing = await route(session=session, country=details.country, city=details.city)
    now = clock.now()
    due = await timers.deadlines(
        session=session, mission=routing.mission, severity=details.severity, registered_at=now, levels=levels
    )
    report = await _insert_numbered(
        session=session,
        clock=clock,
        report=EmergencyReport(
            national_id=details.national_id,
            caller_name=details.caller_name,
            phone=details.phone,
            language=details.language.value,
            country=details.country,
            city=details.city,
            type=details.type,
            severity=details.severity,
            account=details.account,
            source=source,
            mission_id=routing.mission.id,
            covering_mission_id=routing.covering.id if routing.covering else None,
            state=ReportState.OPEN,
            generation=1,
            created_at=now,
            registered_by_id=actor_id,
            acknowledge_due_at=due.acknowledge_due_at,
            solve_due_at=due.solve_due_at,
            escalation_level=0,
            next_escalation_at=due.next_escalation_at,
        ),
    )
    params = {"mission": routing.mission.code}
    if routing.covering is not None:
        params["covering"] = routing.covering.code
    session.add(
        ReportEvent(report_id=report.id, kind=ReportEventKind.REGISTERED, at=now, actor_id=actor_id, params=params)
    )
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=REGISTERED_SMS,
        channel="sms",
        recipient=report.phone,
        language=report.language,
        body=registered_sms(language=report.language, number=isolated(report.number), status_url=status_url),
        payload={"emergency_report_id": report.id},
    )
    await alerts.alert_registered(session=session, clock=clock, report=report, links=links)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="emergency.register",
        target_type="emergency_report",
        target_id=report.number,
        details={"source": source.value, "mission": routing.mission.code, "severity": details.severity.value},
    )
    return report


async def get(*, session: AsyncSession, report_id: int) -> EmergencyReport | None:
    return await session.get(EmergencyReport, report_id)


async def get_by_number(*, session: AsyncSession, number: str) -> EmergencyReport | None:
    """The report with this number, typed any way (a small e, Arabic-Indic digits, spaces), or None."""
    canonical = parse_report_number(number)
    if canonical is None:
        return None
    return await session.scalar(select(EmergencyReport).where(EmergencyReport.number == canonical))


async def lock(*, session: AsyncSession, report_id: int) -> EmergencyReport | None:
    """The report read afresh and locked until the transaction ends (PostgreSQL; SQLite's write lock is the
    whole database), so two changes to it run one after the other."""
    return await session.scalar(
        select(EmergencyReport)
        .where(EmergencyReport.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# Life-threatening first, then urgent, then normal.
_SEVERITY_ORDER = case(
    {Severity.LIFE_THREATENING.value: 0, Severity.URGENT.value: 1, Severity.NORMAL.value: 2},
    value=EmergencyReport.severity,
    else_=3,
)


async def list_open(*, session: AsyncSession, mission_id: int | None = None) -> list[EmergencyReport]:
    """The reports not yet solved or handed over, the most severe first and then the oldest, of one mission or
    of all."""
    query = select(EmergencyReport).where(EmergencyReport.state.in_(OPEN_STATES))
    if mission_id is not None:
        query = query.where(EmergencyReport.mission_id == mission_id)
    rows = await session.scalars(query.order_by(_SEVERITY_ORDER, EmergencyReport.created_at, EmergencyReport.id))
    return list(rows)


def _newest(mission_id: int | None) -> Select[EmergencyReport]:
    query = select(EmergencyReport)
    if mission_id is not None:
        query = query.where(EmergencyReport.mission_id == mission_id)
    return query.order_by(EmergencyReport.created_at.desc(), EmergencyReport.id.desc())


async def list_all(*, session: AsyncSession, mission_id: int | None = None, limit: int = 200) -> list[EmergencyReport]:
    """The newest reports, of one mission or of all, whatever their state."""
    rows = await session.scalars(_newest(mission_id).limit(limit))
    return list(rows)


async def newest_page(
    *, session: AsyncSession, mission_id: int | None = None, page: int, per_page: int = paging.PER_PAGE
) -> paging.Paged[EmergencyReport]:
    """Every report, of one mission or of all, newest first, a page at a time (majlis/paging.py)."""
    return await paging.page_of(session, _newest(mission_id), page=page, per_page=per_page)


def _registered_by(agent_id: int) -> Select[EmergencyReport]:
    return (
        select(EmergencyReport)
        .where(EmergencyReport.registered_by_id == agent_id)
        .order_by(EmergencyReport.created_at.desc(), EmergencyReport.id.desc())
    )


async def registered_by_page(
    *, session: AsyncSession, agent_id: int, page: int, per_page: int = paging.PER_PAGE
) -> paging.Paged[EmergencyReport]:
    """The reports an agent registered, newest first, a page at a time (majlis/paging.py)."""
    return await paging.page_of(session, _registered_by(agent_id), page=page, per_page=per_page)


async def events(*, session: AsyncSession, report_id: int) -> list[ReportEvent]:
    """The report's steps in the order they happened."""
    rows = await session.scalars(
        select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.at, ReportEvent.id)
    )
    return list(rows)


async def missions_by_id(*, session: AsyncSession, ids: Sequence[int | None]) -> dict[int, Mission]:
    """The missions named by these ids (None left out), by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(Mission).where(Mission.id.in_(wanted)))
    return {m.id: m for m in rows}


@dataclass(frozen=True)
class CitizenLookup:
    """How many misses an address may make in the window before it must wait (the status page's throttle)."""

    policy: cases.LookupPolicy
    address: str


def _typed_phone(typed: str) -> set[str]:
    """What a citizen's typed phone may stand for in E.164: as written with its country code, its digits with a
    + put before them (the + left out), or a Saudi mobile number written the local way."""
    digits = ascii_digits(typed).lstrip("+")
    return {p for p in (phone_abroad(typed), phone_abroad("+" + digits), to_e164(typed)) if p}


async def find_for_citizen(
    *, session: AsyncSession, clock: Clock, number: str, phone: str, lookup: CitizenLookup
) -> EmergencyReport | None:
    """The report only when the phone is the one given with it; a wrong phone answers as an unknown number does.

    Misses count against the same throttle as requests' status enquiries (one table, one limit per address),
    so trying numbers on both kinds of status gains nothing; too many raise cases.service.TooManyLookups.
    The caller commits the miss even though its answer is an error.
    """
    await cases.check_lookup_throttle(session=session, clock=clock, address=lookup.address, policy=lookup.policy)
    # The same work for a wrong phone and for an unknown number (cases.service.find_for_applicant says why).
    canonical = parse_report_number(number) or ""
    found = (
        await session.execute(
            select(EmergencyReport.id, EmergencyReport.phone).where(EmergencyReport.number == canonical)
        )
    ).first()
    matched = (found.phone if found else "") in _typed_phone(phone) and found is not None
    await cases.record_lookup(session=session, clock=clock, address=lookup.address, matched=matched)
    if not matched or found is None:
        return None
    return await session.get(EmergencyReport, found.id)
