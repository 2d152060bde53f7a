"""Calls to the emergency line that chose the emergency option: waiting in the agents' queue, answered, or
missed and owed a callback, which an agent takes, makes and records (with the report it gave, if any).

Twilio's webhooks may come more than once and in any order (the queue's result for a bridged call comes only
after both sides hung up; the call's own status may come before it), so every step here is idempotent and
moves a call only forward: a call is recorded once per CallSid, a missed call is never missed twice, and a
call an agent answered is never made a callback by a late status. In doubt a call counts as missed: a
callback too many is better than a caller in trouble left without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from emergency.models import EmergencyReport, LineCall, LineCallState
from emergency.numbers import parse_report_number
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, too_long
from majlis.i18n import known_language

AUDITED = "emergency_line_call"
MAX_NOTE = 1000
# Twilio's CallSid is 34 characters; the column holds 64.
MAX_SID = 64
# Calls called back shown under the lists, newest first: what the shift did, not an archive.
RECENT_DONE = 20


class LineCallNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("line_call_not_found", N_("There is no such call to the emergency line."))


class CallbackRefused(DomainError):
    """A step the call cannot take now (not owed a callback, taken by another agent, already called back)."""


def callback_number(raw: str) -> str:
    """The caller's number in E.164 when the network gave a valid one (any country), else "" (withheld).

    Twilio sends "anonymous", "+266696687" or a client name for a withheld caller: nobody to call back.
    """
    text = raw.strip()
    if not text.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def record_call(*, session: AsyncSession, clock: Clock, call_sid: str, caller: str, language: str) -> LineCall:
    """The call, waiting in the agents' queue; recorded once per CallSid (a repeated webhook finds the first).

    One INSERT … ON CONFLICT DO NOTHING: two posts of the same call at once cannot both insert it.
    """
    insert = pg_insert if _is_postgresql(session) else sqlite_insert
    await session.execute(
        insert(LineCall)
        .values(
            call_sid=call_sid[:MAX_SID],
            caller=callback_number(caller),
            language=known_language(language),
            state=LineCallState.WAITING,
            arrived_at=clock.now(),
            note="",
        )
        .on_conflict_do_nothing(index_elements=[LineCall.call_sid])
    )
    found = await _by_sid(session, call_sid[:MAX_SID], lock=True)
    if found is None:
        raise RuntimeError(f"line call {call_sid!r} neither inserted nor found")
    return found


async def _by_sid(session: AsyncSession, call_sid: str, *, lock: bool) -> LineCall | None:
    query = select(LineCall).where(LineCall.call_sid == call_sid).execution_options(populate_existing=True)
    if lock and _is_postgresql(session):
        query = query.with_for_update()
    return await session.scalar(query)


async def _by_id(session: AsyncSession, call_id: int) -> LineCall:
    query = select(LineCall).where(LineCall.id == call_id).execution_options(populate_existing=True)
    if _is_postgresql(session):
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise LineCallNotFound()
    return found


async def call_answered(*, session: AsyncSession, clock: Clock, call_sid: str) -> LineCall | None:
    """An agent is put through to the caller: the call is answered (None for a CallSid never recorded).

    A call marked missed by a status that came first is answered after all, unless an agent already took
    its callback; an answered call stays answered.
    """
    call = await _by_sid(session, call_sid[:MAX_SID], lock=True)
    if call is None:
        return None
    if call.state is LineCallState.WAITING or (call.state is LineCallState.MISSED and call.handled_by_id is None):
        call.state = LineCallState.ANSWERED
        call.ended_at = call.ended_at or clock.now()
        await session.flush()
    return call


async def call_missed(*, session: AsyncSession, clock: Clock, call_sid: str) -> LineCall | None:
    """The caller left the queue without an agent (hung up, the queue gave up or failed): a callback is owed.

    Only a waiting call is missed: a repeat, or a late status after the call was answered, changes nothing.
    """
    call = await _by_sid(session, call_sid[:MAX_SID], lock=True)
    if call is None:
        return None
    if call.state is LineCallState.WAITING:
        call.state = LineCallState.MISSED
        call.ended_at = clock.now()
        await session.flush()
    return call


@dataclass(frozen=True)
class AgentQueue:
    """What the agents see: callers waiting now and callbacks owed (oldest first), and the latest called back."""

    waiting: list[LineCall]
    callbacks: list[LineCall]
    called_back: list[LineCall]
    # Names of the agents who took or made a callback.
    names: dict[int, str]
    # Numbers of the reports registered from calls.
    report_numbers: dict[int, str]


async def agent_queue(*, session: AsyncSession) -> AgentQueue:
    """The callers waiting and the callbacks owed, each oldest first, and the calls called back most recently."""

    async def listed(state: LineCallState) -> list[LineCall]:
        rows = await session.scalars(
            select(LineCall).where(LineCall.state == state).order_by(LineCall.arrived_at, LineCall.id)
        )
        return list(rows)

    done = list(
        await session.scalars(
            select(LineCall)
            .where(LineCall.state == LineCallState.CALLED_BACK)
            .order_by(LineCall.handled_at.desc(), LineCall.id.desc())
            .limit(RECENT_DONE)
        )
    )
    waiting, callbacks = await listed(LineCallState.WAITING), await listed(LineCallState.MISSED)
    every = [*waiting, *callbacks, *done]
    names = await accounts.names_by_id(session=session, ids={c.handled_by_id for c in every if c.handled_by_id})
    report_ids = {c.report_id for c in every if c.report_id is not None}
    numbers: dict[int, str] = {}
    if report_ids:
        rows = await session.execute(
            select(EmergencyReport.id, EmergencyReport.number).where(EmergencyReport.id.in_(report_ids))
        )
        numbers = {i: n for i, n in rows.all()}
    return AgentQueue(waiting=waiting, callbacks=callbacks, called_back=done, names=names, report_numbers=numbers)


async def get_call(*, session: AsyncSession, call_id: int) -> LineCall:
    found = await session.get(LineCall, call_id)
    if found is None:
        raise LineCallNotFound()
    return found


def _owed(call: LineCall) -> None:
    if call.state is LineCallState.CALLED_BACK:
        raise CallbackRefused("already_called_back", N_("This caller has already been called back."))
    if call.state is not LineCallState.MISSED:
        raise CallbackRefused(
            "no_callback_owed", N_("No callback is owed for this call: the caller is waiting or was answered.")
        )


async def _not_anothers(session: AsyncSession, call: LineCall, actor_id: int) -> None:
    """Refuses a callback another agent has taken, naming them."""
    if call.handled_by_id is not None and call.handled_by_id != actor_id:
        names = await accounts.names_by_id(session=session, ids={call.handled_by_id})
        raise CallbackRefused(
            "taken_by_another",
            N_("{name} has already taken this callback."),
            name=names.get(call.handled_by_id, ""),
        )


async def take_callback(*, session: AsyncSession, clock: Clock, call_id: int, actor_id: int) -> LineCall:
    """The agent takes the callback owed, so no other agent calls the same caller (taking it again: no change)."""
    call = await _by_id(session, call_id)
    _owed(call)
    await _not_anothers(session, call, actor_id)
    if call.handled_by_id is None:
        call.handled_by_id = actor_id
        call.handled_at = clock.now()
        await session.flush()
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="emergency_call.callback_taken",
            target_type=AUDITED,
            target_id=call.id,
        )
    return call


async def _report_by_number(session: AsyncSession, number: str) -> EmergencyReport:
    # As the citizen's status page reads it: a small e, Arabic-Indic digits, missing dashes, pasted marks.
    text = parse_report_number(number)
    found = await session.scalar(select(EmergencyReport).where(EmergencyReport.number == text)) if text else None
    if found is None:
        raise InvalidInput(
            [FieldError("report_number", "unknown_report", N_("There is no emergency report with this number."))]
        )
    return found


async def called_back(
    *,
    session: AsyncSession,
    clock: Clock,
    call_id: int,
    actor_id: int,
    note: str,
    report_number: str = "",
) -> LineCall:
    """The agent called the caller back: the callback is done, with what came of it and the report it gave.

    The note is required (it is all that is kept of the call). A report number, if given, must name a
    report: the call is linked to it.

    Only the agent who took the callback records it (one not yet taken is taken by recording it): the note says
    what that agent heard on the call, and another agent closing it would end a callback still being made, in
    someone else's name. Supervisors are no exception: they do not make the calls.
    """
    text = note.strip()
    errors = []
    if not text:
        errors.append(FieldError("note", "missing", N_("Write what came of the callback.")))
    elif len(text) > MAX_NOTE:
        errors.append(too_long("note", MAX_NOTE))
    report = None
    try:
        if report_number.strip():
            report = await _report_by_number(session, report_number)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    call = await _by_id(session, call_id)
    _owed(call)
    await _not_anothers(session, call, actor_id)
    call.state = LineCallState.CALLED_BACK
    call.handled_by_id = actor_id
    call.handled_at = clock.now()
    call.note = text
    if report is not None:
        call.report_id = report.id
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="emergency_call.called_back",
        target_type=AUDITED,
        target_id=call.id,
        details={"report_id": call.report_id},
    )
    return call


async def link_report(*, session: AsyncSession, clock: Clock, call_id: int, report_id: int, actor_id: int) -> LineCall:
    """Links the report registered from this call (the agent screen calls it after registering with source
    CALLBACK); a callback still owed is done by it."""
    call = await _by_id(session, call_id)
    if await session.get(EmergencyReport, report_id) is None:
        raise InvalidInput(
            [FieldError("report_id", "unknown_report", N_("There is no emergency report with this number."))]
        )
    if call.report_id is not None and call.report_id != report_id:
        # Another agent recorded this callback, with its report, after the screen looked: the call is theirs,
        # and this registration must not take it from them (its transaction is refused whole).
        raise CallbackRefused(
            "called_back_elsewhere",
            N_("Another agent has already recorded this call with another report. Nothing was registered."),
        )
    call.report_id = report_id
    if call.state is LineCallState.MISSED:
        call.state = LineCallState.CALLED_BACK
        call.handled_by_id = actor_id
        call.handled_at = clock.now()
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="emergency_call.report_linked",
        target_type=AUDITED,
        target_id=call.id,
        details={"report_id": report_id},
    )
    return call
