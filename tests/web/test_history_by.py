"""Who took each status change in a request's staff history, on SQLite and PostgreSQL: a member of staff by name,
the applicant (their request through its channel, their own answers), or Majlis by rule — a repeat cancelled, a
no-show — never the applicant for a decision the system took."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import CaseStatus, Channel, StatusChange
from followup import information
from majlis.clock import FrozenClock
from tests.whatsapp_desk.test_repeats import REPEATED_TEXT, case_of, submitted, whatsapp_request
from web.case_history import merged, staff_history
from web.i18n import Catalogs

Sessions = async_sessionmaker[AsyncSession]
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
BY_RULE = "Majlis, by rule (no member of staff)"


def change(
    n: int, to: CaseStatus, *, before: CaseStatus | None, actor: int | None = None, key: str = ""
) -> StatusChange:
    return StatusChange(
        id=n,
        case_id=1,
        from_status=before,
        to_status=to,
        at=AT + timedelta(minutes=n),
        actor_id=actor,
        note="",
        note_key=key,
        note_params={},
    )


def by(steps: list[StatusChange], channel: Channel, language: str = "en") -> list[str]:
    entries = merged(
        steps,
        [],
        catalogs=Catalogs(),
        language=language,
        actors={7: "Staff triage"},
        departments={},
        names={},
        channel=channel,
    )
    return [e.by for e in entries]


def test_each_change_names_who_took_it() -> None:
    received, waiting, scheduled, confirmed = (
        CaseStatus.RECEIVED,
        CaseStatus.AWAITING_AUDIENCE,
        CaseStatus.SCHEDULED,
        CaseStatus.CONFIRMED,
    )
    steps = [
        change(1, received, before=None),
        change(2, waiting, before=received, actor=7),
        # The allocation gives a date; the applicant confirms it, then asks for another date.
        change(3, scheduled, before=waiting),
        change(4, confirmed, before=scheduled),
        change(5, waiting, before=confirmed, key="The applicant asked for another date."),
        change(6, scheduled, before=waiting),
        change(
            7,
            waiting,
            before=scheduled,
            key="The applicant did not attend the audience; the request waits again with its priority.",
        ),
        change(8, CaseStatus.NEEDS_INFORMATION, before=waiting, actor=7),
        change(9, waiting, before=CaseStatus.NEEDS_INFORMATION, key=information.ANSWERED),
    ]
    applicant = "The applicant themselves"
    assert by(steps, Channel.PORTAL) == [
        "The applicant (Portal)",
        "Staff triage",
        BY_RULE,
        applicant,
        applicant,
        BY_RULE,
        BY_RULE,
        "Staff triage",
        applicant,
    ]
    # The request's own channel, in the reader's language.
    assert by(steps[:1], Channel.WHATSAPP) == ["The applicant (WhatsApp)"]
    assert by(steps[:1], Channel.WHATSAPP, "ar") == ["مقدم الطلب (واتساب)"]
    assert by(steps[6:7], Channel.PORTAL, "ar") == ["النظام وفق قاعدة مقرّرة (دون تدخّل موظف)"]


async def test_a_repeat_cancelled_by_rule_reads_as_majlis_not_the_applicant(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await submitted(sessions, clock)
    clock.advance(timedelta(days=2))
    repeat, earlier = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    assert earlier is not None
    case = await case_of(sessions, repeat)
    async with sessions() as session:
        history = await staff_history(
            session=session, case_id=case.id, catalogs=Catalogs(), language="en", now=clock.now()
        )
    assert [(e.step, e.by) for e in history.entries if e.status is not None] == [
        ("Received", "The applicant (WhatsApp)"),
        ("Closed as a duplicate", BY_RULE),
    ]
    assert earlier in history.entries[-1].note
