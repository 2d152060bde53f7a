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

Every number, phone, place and moment in an Arabic message sits between Unicode isolates (notify.texts.isolated,
where every message's placeholders are filled), so it reads in its own order; an English one goes without them,
as an isolate would make its SMS UCS-2. A voice call says them without the marks.

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
# To the deputy who already has the report: at its solution deadline, then every day it stays unsolved.
REMINDER_SMS = N_("Still open: {severity} emergency report {number} ({type}, {place}), {why}. {link}")
REMINDER_SUBJECT = N_("Still open: emergency report {number} ({place}), {why}")
REMINDER_INTRO = N_("Emergency report {number} to {mission}, escalated to you earlier, is still open: {why}.")
CALL_REMINDER = N_(
    "It was escalated to you earlier and is still open: {why}. The link is in the text message sent to you."
)
STILL_NOT_SOLVED = N_("still not solved, its solution was due {due}")
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
        "number": report.number,
        "severity": wording.severity(report.severity, language),
        "type": wording.report_type(report.type, language),
        "place": wording.place(report.city, report.country, language),
        "mission": mission.name_in(language),
        "link": EMERGENCY_LINK,
    }


def moment_at(moment: datetime, mission: Mission, language: str) -> str:
    return wording.at_mission_and_riyadh(moment, mission.time_zone, language)


def _details(report: EmergencyReport, mission: Mission, language: str, values: dict[str, str]) -> str:
    def when(moment: datetime) -> str:
        return moment_at(moment, mission, language)

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
    why_said: str = "",
    reminder: bool = False,
    flush: bool,
) -> list[str]:
    """Writes the person's messages to the outbox; gives back the channels used (none without an address).

    `rung` 0 is the alert, above it a step of the ladder; a `reminder` goes to someone who has the report already.
    """
    language = person.language
    values = _values(report, mission, language)
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
            text = REMINDER_SMS if reminder else ESCALATION_SMS if rung else ALERT_SMS
            await write("sms", person.phone, say(language, text, **values, why=why_said), {})
        elif channel == "voice" and person.phone:
            step_text = CALL_REMINDER if reminder else CALL_ESCALATED
            step = say(language, step_text, why=why_said) if rung else say(language, CALL_ACKNOWLEDGE)
            # Numbers read digit by digit; the whole said twice, since a call is often picked up mid-sentence.
            spoken = _unmarked(say(language, CALL, **{**values, "number": _spoken(report.number)}, step=step))
            await write("voice", person.phone, f"{spoken} {spoken}", {ANY_HOUR: True})
        elif channel == "email" and person.email:
            subject_text = REMINDER_SUBJECT if reminder else ESCALATION_SUBJECT if rung else ALERT_SUBJECT
            subject = say(language, subject_text, **values, why=why_said)
            body = f"{intro}\n\n{_details(report, mission, language, values)}"
            await write("email", person.email, body, {"subject": subject})
    return used


def _spoken(number: str) -> str:
    """A report number as a voice should read it: letter and digits one by one, a pause at each dash."""
    return ", ".join(" ".join(part) for part in number.split("-"))


def _unmarked(text: str) -> str:
    """Without the direction marks, which a voice has no use for."""
    return text.translate(_ISOLATES)


_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))


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
    ESCALATED event with who was told and how. Above the deputy's rung the steps tell the deputy again (the
    solution overdue, then a daily reminder), in words that say so. The caller has locked the report."""
    reached = timers.step_person(rung.level)
    if reached == timers.HEAD_OF_MISSION:
        person = head_of(mission)
    else:
        person = Person(deputy.name, CONSULAR_DEPUTY, deputy.phone, deputy.email, "ar")
    language = person.language
    # The deputy has the report already (told it was not acknowledged, or overdue the day before).
    reminder = report.escalation_level >= timers.CONSULAR_DEPUTY
    if rung.level > timers.SOLUTION_OVERDUE_STEP:
        why_said = say(language, STILL_NOT_SOLVED, due=moment_at(report.solve_due_at, mission, language))
    else:
        why_said = say(language, NOT_SOLVED if rung.reason == timers.SOLUTION_OVERDUE else NOT_ACKNOWLEDGED)
    values = _values(report, mission, language)
    intro = say(language, REMINDER_INTRO if reminder else ESCALATION_INTRO, **values, why=why_said)
    channels = await _tell(
        session=session,
        clock=clock,
        report=report,
        mission=mission,
        person=person,
        rung=rung.level,
        intro=intro,
        why_said=why_said,
        reminder=reminder,
        flush=False,
    )
    report.escalation_level = rung.level
    # "rung": who was reached (1 the head of mission, 2 the consular deputy), what the monthly report counts by;
    # "step": the ladder's step (3 the deputy told the solution is overdue, each above a daily reminder).
    params: dict[str, Any] = {
        "rung": reached,
        "step": rung.level,
        "reason": rung.reason,
        "mission": mission.code,
        "told": [_told(person, channels)],
    }
    if rung.level > timers.SOLUTION_OVERDUE_STEP:
        params["reminder"] = True
    event = ReportEvent(report_id=report.id, kind=ReportEventKind.ESCALATED, at=clock.now(), by=by, params=params)
    session.add(event)
    if flush:
        await session.flush()
    return event
