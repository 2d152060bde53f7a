"""Status on request: the sender's own requests in plain words, never another's, in Arabic and English."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import details
from tests.web.asking import placed
from tests.web.referring import department, refer
from whatsapp_desk import repeats
from whatsapp_desk.status import spoken_number, spoken_status, status_answer

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
PHONE = "+966501234567"  # the phone of tests.factories.details
OTHER_PHONE = "+966551112233"
LRI, PDI = "\u2066", "\u2069"


async def submitted(sessions: Sessions, clock: FrozenClock, **overrides: object) -> str:
    async with transaction(sessions) as session:
        made = await cases.submit(
            session=session, clock=clock, details=details(channel="whatsapp", **overrides), status_url=URL
        )
        return made.case.tracking_number


async def answer(
    sessions: Sessions, clock: FrozenClock, phone: str = PHONE, number: str | None = None, language: str = "en"
) -> str:
    async with sessions() as session:
        return await status_answer(session=session, clock=clock, phone=phone, tracking_number=number, language=language)


async def close(sessions: Sessions, clock: FrozenClock, number: str, status: CaseStatus) -> None:
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        await cases.change_status(session=session, clock=clock, case=case, to_status=status, actor_id=None)


async def test_the_senders_requests_newest_first_in_plain_words(sessions: Sessions, clock: FrozenClock) -> None:
    assert await answer(sessions, clock) == "We found no request made with your phone number."
    assert await answer(sessions, clock, language="ar") == "لم نجد أي طلب مقدَّم برقم جوالكم."
    long_ago = await submitted(sessions, clock, subject="رسوم الكهرباء", text="فاتورة الكهرباء مرتفعة جدًا هذا الشهر.")
    await close(sessions, clock, long_ago, CaseStatus.COMPLETED)
    clock.advance(timedelta(days=40))
    done = await submitted(sessions, clock, subject="منحة دراسية", text="أطلب منحة دراسية لابني في الخارج.")
    await close(sessions, clock, done, CaseStatus.COMPLETED)
    clock.advance(timedelta(days=1))
    latest = await submitted(sessions, clock)
    # Someone else's request is never told, even from the same family's records.
    await submitted(sessions, clock, applicant_phone=OTHER_PHONE, subject="مساعدة سكنية")

    english = await answer(sessions, clock)
    lines = english.split("\n")
    assert lines == [
        "Your requests:",
        f"{LRI}{latest}{PDI} — \u2068طلب مقابلة\u2069: received; the audit desk is reviewing it",
        f"{LRI}{done}{PDI} — \u2068منحة دراسية\u2069: completed",
    ]  # closed 40 days ago: no longer told; newest first
    arabic = await answer(sessions, clock, language="ar")
    assert arabic.split("\n")[0] == "طلباتكم:"
    assert "تم استلامه، ويتولى مكتب التدقيق مراجعته" in arabic and "اكتملت معالجته" in arabic
    assert "مساعدة سكنية" not in english + arabic and long_ago not in english


async def test_at_most_five_are_told(sessions: Sessions, clock: FrozenClock) -> None:
    numbers = []
    for i in range(7):
        numbers.append(await submitted(sessions, clock, subject=f"موضوع {i}"))
        clock.advance(timedelta(minutes=5))
    told = (await answer(sessions, clock)).split("\n")[1:]
    assert [line.split(PDI)[0].removeprefix(LRI) for line in told] == numbers[::-1][:5]


async def test_a_tracking_number_is_told_only_to_its_own_phone(sessions: Sessions, clock: FrozenClock) -> None:
    mine = await submitted(sessions, clock)
    theirs = await submitted(sessions, clock, applicant_phone=OTHER_PHONE)
    assert await answer(sessions, clock, number=mine) == (
        f"{LRI}{mine}{PDI} — \u2068طلب مقابلة\u2069: received; the audit desk is reviewing it"
    )
    # Typed the Arabic way, with Arabic-Indic digits: the same request.
    arabic_digits = mine.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert mine in await answer(sessions, clock, number=arabic_digits)
    # Another's request, a number that does not exist and nonsense get the very same answer.
    refused = {await answer(sessions, clock, number=n) for n in (theirs, "26-999999-9", "hello")}
    assert refused == {"No request was found for this number with your phone."}
    assert await answer(sessions, clock, number=theirs, language="ar") == "لا يوجد طلب بهذا الرقم مقدَّم برقم جوالكم."


async def test_a_repeat_names_the_request_to_follow_and_a_referral_its_departments(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submitted(sessions, clock)
    async with transaction(sessions) as session:
        made = await cases.submit(
            session=session,
            clock=clock,
            details=details(channel="whatsapp", text="أرجو مقابلة المسؤول بخصوص قضية أسرية عاجلة."),
            status_url=URL,
        )
        assert await repeats.cancel_if_repeated(
            session=session, clock=clock, case=made.case, window=timedelta(days=30), status_url=URL
        )
        repeat = made.case.tracking_number
    said = await answer(sessions, clock, number=repeat)
    assert said.endswith(f"cancelled as a repeat of request {LRI}{first}{PDI}; follow that request instead")
    assert f"أُلغي لأنه تكرار للطلب رقم {LRI}{first}{PDI}" in await answer(sessions, clock, number=repeat, language="ar")

    await department(sessions, "housing", "وزارة البلديات والإسكان", "Ministry of Municipalities and Housing")
    await department(sessions, "hr", "وزارة الموارد البشرية", "Ministry of Human Resources")
    await refer(sessions, clock, "housing", "hr", tracking_number=first)
    referred = await answer(sessions, clock, number=first)
    assert referred.endswith(
        "referred to \u2068Ministry of Human Resources\u2069 and \u2068Ministry of Municipalities and Housing\u2069"
    )
    assert "أُحيل إلى \u2068وزارة البلديات والإسكان\u2069 و\u2068وزارة الموارد البشرية\u2069" in await answer(
        sessions, clock, number=first, language="ar"
    )


async def test_a_scheduled_audience_is_told_with_its_date_in_both_calendars(
    sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    english = await answer(sessions, clock, number=number)
    assert "an audience on \u2068" in english and "AH" in english and "we will ask you to confirm it" in english
    arabic = await answer(sessions, clock, number=number, language="ar")
    assert "مقابلة يوم \u2068" in arabic and "هـ" in arabic
    # The voice says it without the marks that order written text, and the number digit by digit.
    voice = await spoken(sessions, clock, PHONE)
    assert voice.startswith(f"Request {spoken_number(number)}: an audience on ") and "\u2068" not in voice


async def spoken(sessions: Sessions, clock: FrozenClock, phone: str, language: str = "en") -> str:
    async with sessions() as session:
        return await spoken_status(session=session, clock=clock, phone=phone, language=language)


async def test_the_spoken_answer_is_short(sessions: Sessions, clock: FrozenClock) -> None:
    assert spoken_number("26-000123-4") == "2 6, 0 0 0 1 2 3, 4"
    assert await spoken(sessions, clock, PHONE) == "We found no request made with your phone number."
    number = await submitted(sessions, clock)
    assert await spoken(sessions, clock, PHONE) == (
        f"Request {spoken_number(number)}: received; the audit desk is reviewing it."
    )
    assert await spoken(sessions, clock, PHONE, "ar") == (
        f"الطلب رقم {spoken_number(number)}: تم استلامه، ويتولى مكتب التدقيق مراجعته."
    )
