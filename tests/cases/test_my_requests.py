""" "My requests" in the domain (cases/my_requests.py), on SQLite and PostgreSQL: a code goes only to a phone that
has requests, in its holder's language, through the outbox; codes are limited per phone and per address, expire
with the clock, and take limited tries; a phone sees its own requests and never another's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import my_requests
from cases import service as cases
from cases.models import CaseStatus, PhoneCode
from cases.one_time_codes import CodeExpired, CodePolicy, NoCode, TooManyTries, WrongCode
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from tests.priority.test_triage import new_case
from tests.scheduler.test_runs import IDS

Sessions = async_sessionmaker[AsyncSession]
MINE = "+966501234567"
OTHER = "+966501234568"
NOBODY = "+966501234569"
CODES = CodePolicy(lifetime=timedelta(minutes=10), per_hour=3, max_tries=3)
LOOKUPS = cases.LookupPolicy(max_misses=20, window=timedelta(minutes=15))
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def send(
    sessions: Sessions,
    clock: FrozenClock,
    phone: str,
    address: str = "192.0.2.1",
    lookups: cases.LookupPolicy = LOOKUPS,
) -> int:
    async with transaction(sessions) as session:
        row = await my_requests.send_code(
            session=session, clock=clock, phone=phone, address=address, policy=lookups, codes=CODES
        )
        return row.id


async def code_sent(sessions: Sessions, row_id: int) -> OutboxMessage | None:
    async with sessions() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == f"my_requests_code:{row_id}"))


def code_in(message: OutboxMessage) -> str:
    found = re.search(r"\d{6}", message.body.replace("\u2066", "").replace("\u2069", ""))
    assert found is not None, message.body
    return found.group(0)


async def check(sessions: Sessions, clock: FrozenClock, phone: str, code: str) -> None:
    """Checks the code and commits whatever it counted, as the page does."""
    async with sessions() as session:
        try:
            await my_requests.check_code(session=session, clock=clock, phone=phone, code=code, codes=CODES)
        finally:
            await session.commit()


async def test_the_code_goes_by_sms_to_the_phone_in_its_latest_requests_language(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await new_case(sessions, clock, applicant_phone=MINE, applicant_language="ar")
    clock.advance(timedelta(minutes=5))
    await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=MINE, applicant_language="en")
    message = await code_sent(sessions, await send(sessions, clock, MINE))
    assert message is not None
    assert (message.channel, message.recipient, message.language) == ("sms", MINE, "en")
    assert "to see your requests" in message.body and "Do not share it" in message.body
    # No request's number or words in it: the code alone.
    assert "26-" not in message.body
    await check(sessions, clock, MINE, code_in(message))


async def test_a_phone_without_requests_gets_no_sms_and_its_code_never_works(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    row_id = await send(sessions, clock, NOBODY)
    assert await code_sent(sessions, row_id) is None
    async with sessions() as session:
        # A row all the same: the limit per phone counts alike, so it says nothing of the phone.
        assert await session.get(PhoneCode, row_id) is not None
        assert (
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient == NOBODY)
            )
            == 0
        )
    with pytest.raises(WrongCode):
        await check(sessions, clock, NOBODY, "123456")


async def test_codes_are_limited_per_phone_per_hour(sessions: Sessions, clock: FrozenClock) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    for _ in range(CODES.per_hour):
        await send(sessions, clock, MINE, address="192.0.2.7")
    with pytest.raises(my_requests.TooManyCodes):
        await send(sessions, clock, MINE, address="198.51.100.9")  # another address changes nothing
    # Another phone is not held back by this one.
    await send(sessions, clock, OTHER)
    clock.advance(timedelta(hours=1, seconds=1))
    await send(sessions, clock, MINE)


async def test_codes_are_limited_per_address(sessions: Sessions, clock: FrozenClock) -> None:
    strict = cases.LookupPolicy(max_misses=2, window=timedelta(minutes=15))
    await send(sessions, clock, MINE, lookups=strict)
    await send(sessions, clock, OTHER, lookups=strict)
    with pytest.raises(cases.TooManyLookups):
        await send(sessions, clock, NOBODY, lookups=strict)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PhoneCode).where(PhoneCode.phone == NOBODY)) == 0
    await send(sessions, clock, NOBODY, address="203.0.113.5", lookups=strict)


async def test_a_code_is_checked_once_in_time_with_limited_tries(sessions: Sessions, clock: FrozenClock) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    message = await code_sent(sessions, await send(sessions, clock, MINE))
    assert message is not None
    code = code_in(message)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(WrongCode) as caught:
        await check(sessions, clock, MINE, wrong)
    assert caught.value.params == {"left": "2"}
    # Another phone's code is not this phone's, even the right digits.
    with pytest.raises(NoCode):
        await check(sessions, clock, OTHER, code)
    # Typed in Arabic-Indic digits, with a space.
    await check(sessions, clock, MINE, code[:3] + " " + code[3:].translate(ARABIC_INDIC))
    with pytest.raises(NoCode):  # used
        await check(sessions, clock, MINE, code)

    message = await code_sent(sessions, await send(sessions, clock, MINE))
    assert message is not None
    code = code_in(message)
    clock.advance(CODES.lifetime)
    with pytest.raises(CodeExpired):
        await check(sessions, clock, MINE, code)

    message = await code_sent(sessions, await send(sessions, clock, MINE))
    assert message is not None
    code = code_in(message)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(WrongCode):
        await check(sessions, clock, MINE, wrong)
    with pytest.raises(WrongCode):
        await check(sessions, clock, MINE, wrong)
    with pytest.raises(TooManyTries):
        await check(sessions, clock, MINE, wrong)
    with pytest.raises(TooManyTries):  # the right code no longer helps
        await check(sessions, clock, MINE, code)


async def test_empty_or_wrong_input_names_its_field(sessions: Sessions, clock: FrozenClock) -> None:
    for typed, code in (("", "missing"), ("12345", "invalid"), ("0112345678", "invalid")):
        with pytest.raises(InvalidInput) as caught:
            my_requests.phone_of(typed)
        assert [(e.field, e.code) for e in caught.value.errors] == [("phone", code)]
    assert my_requests.phone_of("٠٥٠١٢٣٤٥٦٧") == MINE
    with pytest.raises(InvalidInput) as typed_nothing:
        await check(sessions, clock, MINE, " ")
    assert [e.field for e in typed_nothing.value.errors] == ["code"]


async def test_a_phone_sees_its_own_requests_and_never_anothers(sessions: Sessions, clock: FrozenClock) -> None:
    first = await new_case(sessions, clock, applicant_phone=MINE)
    clock.advance(timedelta(minutes=1))
    second = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=MINE, subject="طلب ثان")
    theirs = await new_case(sessions, clock, applicant_national_id=IDS[2], applicant_phone=OTHER)
    async with sessions() as session:
        mine = await my_requests.requests_of_phone(session=session, clock=clock, phone=MINE)
        assert [m.case.tracking_number for m in mine] == [second, first]
        assert all(m.case.status is CaseStatus.RECEIVED and m.upcoming is None for m in mine)
        assert mine[0].progress.current is not None and mine[0].progress.current.value == "received"
        assert await my_requests.request_of_phone(session=session, phone=MINE, tracking_number=theirs) is None
        found = await my_requests.request_of_phone(session=session, phone=MINE, tracking_number=first)
        assert found is not None and found.tracking_number == first
