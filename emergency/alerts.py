"""Alerts: the duty officer on shift told at once (SMS and a call for life-threatening reports, e-mail otherwise),
with an acknowledgement link; each rung of the ladder told the same way.

How each severity reaches a person, at any hour of the mission's day or night:
- life-threatening: SMS, a voice call that says the number and the place, and e-mail;
- urgent: SMS and e-mail. The issue asks for e-mail; but an urgent report must be acknowledged within two
  hours around the clock, and an e-mail at 03:00 is read at 08:00, after the head of mission has already
  been woken. The SMS (with the link) is what makes the two hours possible at night;
- normal: e-mail only, sent at once. It waits in the mailbox for the working morning by itself, and the
  deadline (the end of the next working day) already counts in the mission's working time.

The calls ring at any hour (notify.outbox ANY_HOUR), unlike calls to applicants. The link in SMS and e-mail
is signed when the message is sent (notify.outbox EMERGENCY_LINK), so the outbox holds no way in. A call
carries no link: it says the number and the place, and points to the SMS.

Who is on duty is the roster's answer (emergency.roster.on_duty: the shift that began last). Nobody on the
roster now: the head of mission is told instead, and the ALERTED event says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emergency import roster, timers, wording
from emergency.models import EmergencyReport, Mission, ReportEvent, ReportEventKind, Severity
from majlis.clock import Clock
from majlis.errors import N_
from majlis.settings import Settings
from notify import outbox
from notify.links import Links
from notify.outbox import ANY_HOUR, EMERGENCY_LINK, emergency_link_payload
from notify.texts import say

# Who a person is on the ladder, as the events' params name them.
DUTY_OFFICER = "duty_officer"
HEAD_OF_MISSION = "head_of_mission"
CONSULAR_DEPUTY = "consular_deputy"

CHANNELS: dict[Severity, tuple[str, ...]] = {
    Severity.LIFE_THREATENING: ("sms", "voice", "email"),
    Severity.URGENT: ("sms", "email"),
    Severity.NORMAL: ("email",),
}

ALERT_SMS = N_("{severity} emergency report {number}: {type} in {place}. Acknowledge: {link}")
ESCALATION_SMS = N_("Escalated to you: {severity} emergency report {number} ({type}, {place}), {why}. {link}")
CALL = N_(
    "This is the emergency line of the Ministry of Foreign Affairs. {severity} emergency report, number {number}: "
    "{type} in {place}. {step}"
)
CALL_ACKNOWLEDGE = N_("Please acknowledge it with the link in the text message sent to you.")
CALL_ESCALATED = N_("It is escalated to you: {why}. The link is in the text message sent to you.")
NOT_ACKNOWLEDGED = N_("not acknowledged in time")
NOT_SOLVED = N_("not solved in time")
ALERT_SUBJECT = N_("{severity} emergency report {number}: {place}")
ESCALATION_SUBJECT = N_("Escalated to you: emergency report {number} ({place}), {why}")
ALERT_INTRO = N_("An emergency report has come to {mission}. You are on duty: acknowledge it as soon as you can.")
NOBODY_ON_DUTY_INTRO = N_(
    "An emergency report has come to {mission}, and nobody is on its duty roster now: it comes to you as head "
    "of mission. Acknowledge it as soon as you can."
)
ESCALATION_INTRO = N_("Emergency report {number} to {mission} is escalated to you: {why}.")
DETAILS = N_(
    "Number: {number}\nSeverity: {severity}\nType: {type}\nPlace: {place}\nCitizen: {name}, phone {phone}\n"
    "Registered: {registered}\nAcknowledgement due: {acknowledge_due}\nSolution due: {solve_due}\n\n"
    "What the citizen said: {account}\n\nAcknowledge the report and follow it: {link}"
)


@dataclass(frozen=True)
class Person:
    """Someone an alert goes to, and how to reach them."""

    name: str
    role: str
    phone: str
    email: str
    language: str


@dataclass(frozen=True)
class Deputy:
    """The ministry's consular deputy: the last rung of every ladder (from the settings)."""

    name: str
    email: str
    phone: str


def deputy_from(settings: Settings) -> Deputy:
    return Deputy(
        name=settings.emergency_consular_deputy_name,
        email=settings.emergency_consular_deputy_email,
        phone=settings.emergency_consular_deputy_phone,
    )


def head_of(mission: Mission) -> Person:
    # Heads of mission are the ministry's diplomats: written to in Arabic.
    return Person(mission.head_name, HEAD_OF_MISSION, mission.head_phone, mission.head_email, "ar")


def _values(report: EmergencyReport, mission: Mission, language: str) -> dict[str, str]:
    return {
        # Between isolates, so its dashes keep their order inside Arabic.
        "number": f"\u2066{report.number}\u2069",
        "severity": wording.severity(report.severity, language),
        "type": wording.report_type(report.type, language),
        "place": wording.place(report.city, report.country, language),
        "mission": mission.name_in(language),
        "link": EMERGENCY_LINK,
    }


def _details(report: EmergencyReport, mission: Mission, language: str, values: dict[str, str]) -> str:
    def when(moment: datetime) -> str:
        return wording.at_mission_and_riyadh(moment, mission.time_zone, language)

    return say(
        language,
        DETAILS,
        **values,
        name=report.caller_name,
        phone=report.phone,
        registered=when(report.created_at),
        acknowledge_due=when(report.acknowledge_due_at),
        solve_due=when(report.solve_due_at),
        account=report.account,
    )


async def _tell(
    *,
    session: AsyncSession,
    clock: Clock,
    report: EmergencyReport,
    mission: Mission,
    person: Person,
    rung: int,
    intro: str,
    why: str = "",
    flush: bool,
) -> list[str]:
    """Writes the person's messages to the outbox; gives back the channels used (none without an address)."""
    language = person.language
    values = _values(report, mission, language)
    why_said = say(language, why) if why else ""
    payload: dict[str, Any] = emergency_link_payload(report_id=report.id, generation=report.generation)
    used: list[str] = []

    async def write(channel: str, recipient: str, body: str, extra: dict[str, Any]) -> None:
        await outbox.enqueue(
            session=session,
            clock=clock,
            # Each rung of each generation reaches its person once per channel.
            purpose=f"emergency:{report.id}:{report.generation}:{rung}:{channel}",
            channel=channel,
            recipient=recipient,
            language=language,
            body=body,
            payload={**payload, **extra},
            flush=flush,
        )
        used.append(channel)

    for channel in CHANNELS[report.severity]:
        if channel == "sms" and person.phone:
            text = ESCALATION_SMS if rung else ALERT_SMS
            await write("sms", person.phone, say(language, text, **values, why=why_said), {})
        elif channel == "voice" and person.phone:
            step = say(language, CALL_ESCALATED, why=why_said) if rung else say(language, CALL_ACKNOWLEDGE)
            # Numbers read digit by digit; the whole said twice, since a call is often picked up mid-sentence.
            spoken = say(language, CALL, **{**values, "number": _spoken(report.number)}, step=step)
            await write("voice", person.phone, f"{spoken} {spoken}", {ANY_HOUR: True})
        elif channel == "email" and person.email:
            subject_text = ESCALATION_SUBJECT if rung else ALERT_SUBJECT
            subject = say(language, subject_text, **values, why=why_said)
            body = f"{intro}\n\n{_details(report, mission, language, values)}"
            await write("email", person.email, body, {"subject": subject})
    return used


def _spoken(number: str) -> str:
    """A report number as a voice should read it: letter and digits one by one, a pause at each dash."""
    return ", ".join(" ".join(part) for part in number.split("-"))


def _told(person: Person, channels: list[str]) -> dict[str, Any]:
    return {"name": person.name, "role": person.role, "channels": channels}


async def alert_registered(*, session: AsyncSession, clock: Clock, report: EmergencyReport, links: Links) -> None:
    """Alerts whoever is on duty at the report's mission now (the head of mission when nobody is), writes the
    messages to the outbox and the ALERTED event.

    `links` is not needed: the acknowledgement link is signed when each message is sent.
    """
    del links
    mission = await session.get(Mission, report.mission_id)
    assert mission is not None
    now = clock.now()
    shift = await roster.on_duty(session, mission.id, now)
    if shift is not None:
        person = Person(
            shift.officer_name, DUTY_OFFICER, shift.phone, shift.email, wording.language_of(shift.languages)
        )
    else:
        person = head_of(mission)
    intro_text = ALERT_INTRO if shift is not None else NOBODY_ON_DUTY_INTRO
    intro = say(person.language, intro_text, mission=mission.name_in(person.language))
    channels = await _tell(
        session=session, clock=clock, report=report, mission=mission, person=person, rung=0, intro=intro, flush=False
    )
    session.add(
        ReportEvent(
            report_id=report.id,
            kind=ReportEventKind.ALERTED,
            at=now,
            by="",
            params={
                "rung": 0,
                "mission": mission.code,
                "told": [_told(person, channels)],
                "nobody_on_duty": shift is None,
            },
        )
    )
    await session.flush()


async def alert_rung(
    *,
    session: AsyncSession,
    clock: Clock,
    report: EmergencyReport,
    mission: Mission,
    rung: timers.Rung,
    deputy: Deputy,
    by: str,
    flush: bool = True,
) -> ReportEvent:
    """Takes the report to `rung`: tells that rank (the head of mission, or the consular deputy) and records the
    ESCALATED event with who was told and how. The caller has locked the report."""
    if rung.level == timers.HEAD_OF_MISSION:
        person = head_of(mission)
    else:
        person = Person(deputy.name, CONSULAR_DEPUTY, deputy.phone, deputy.email, "ar")
    why = NOT_SOLVED if rung.reason == timers.SOLUTION_OVERDUE else NOT_ACKNOWLEDGED
    values = _values(report, mission, person.language)
    intro = say(person.language, ESCALATION_INTRO, **values, why=say(person.language, why))
    channels = await _tell(
        session=session,
        clock=clock,
        report=report,
        mission=mission,
        person=person,
        rung=rung.level,
        intro=intro,
        why=why,
        flush=False,
    )
    report.escalation_level = rung.level
    event = ReportEvent(
        report_id=report.id,
        kind=ReportEventKind.ESCALATED,
        at=clock.now(),
        by=by,
        params={"rung": rung.level, "reason": rung.reason, "mission": mission.code, "told": [_told(person, channels)]},
    )
    session.add(event)
    if flush:
        await session.flush()
    return event
