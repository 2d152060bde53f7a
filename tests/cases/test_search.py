"""Finding requests (cases/search.py): what a query is read as, and the search on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import search
from cases.models import Case
from cases.search import QueryKind
from cases.tracking import format_tracking_number
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]
NUMBER = format_tracking_number(2026, 417)  # 26-000417-5


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        (NUMBER, QueryKind.TRACKING_NUMBER, NUMBER),
        ("260004175", QueryKind.TRACKING_NUMBER, NUMBER),
        ("٢٦-٠٠٠٤١٧-٥", QueryKind.TRACKING_NUMBER, NUMBER),
        (" 26 000417 5 ", QueryKind.TRACKING_NUMBER, NUMBER),
        ("1000000008", QueryKind.NATIONAL_ID, "1000000008"),
        ("١٠٠٠٠٠٠٠٠٨", QueryKind.NATIONAL_ID, "1000000008"),
        ("0501234567", QueryKind.PHONE, "+966501234567"),
        ("050 123 4567", QueryKind.PHONE, "+966501234567"),
        ("966501234567", QueryKind.PHONE, "+966501234567"),
        ("+966501234567", QueryKind.PHONE, "+966501234567"),
        ("00966501234567", QueryKind.PHONE, "+966501234567"),
        ("٠٥٠١٢٣٤٥٦٧", QueryKind.PHONE, "+966501234567"),
        ("501234567", QueryKind.PHONE, "+966501234567"),
        ("فاطِمَة  الزهراء", QueryKind.NAME, "فاطمه الزهراء"),
        ("Noura", QueryKind.NAME, "noura"),
    ],
)
def test_a_query_is_read_by_its_shape(typed: str, kind: QueryKind, value: str) -> None:
    query = search.recognise(typed)
    assert (query.kind, query.value) == (kind, value)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ("ن", "too_short"),
        ("26-000417-4", "unclear"),  # a wrong check digit
        ("12345", "unclear"),
        ("0512", "invalid_phone"),
        ("+1 202", "invalid_phone"),
    ],
)
def test_a_query_that_reads_as_nothing_is_refused_naming_the_box(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        search.recognise(typed)
    assert [(e.field, e.code) for e in refused.value.errors] == [("q", code)]


def test_the_caller_screen_names_its_phone_field() -> None:
    assert search.phone_query("0501234567").value == "+966501234567"
    for typed, code in (("", "missing"), ("12", "invalid_phone"), ("0112345678", "invalid_phone")):
        with pytest.raises(InvalidInput) as refused:
            search.phone_query(typed)
        assert [(e.field, e.code) for e in refused.value.errors] == [("phone", code)]


async def _found(sessions: Sessions, typed: str, **options: object) -> search.SearchPage:
    async with transaction(sessions) as session:
        return await search.search(session=session, query=search.recognise(typed), **options)  # type: ignore[arg-type]


async def test_every_kind_finds_its_requests_newest_first(sessions: Sessions, clock: FrozenClock) -> None:
    first = await new_case(sessions, clock, applicant_name="فاطمة الزهراء", applicant_phone="0551112233")
    clock.advance(timedelta(minutes=5))
    second = await new_case(
        sessions, clock, applicant_name="فاطمه علي", applicant_national_id="1000000016", applicant_phone="0551112233"
    )
    clock.advance(timedelta(minutes=5))
    other = await new_case(sessions, clock, applicant_name="سالم", applicant_national_id="1000000024")

    def numbers(page: search.SearchPage) -> list[str]:
        return [case.tracking_number for case in page.cases]

    assert numbers(await _found(sessions, "فاطمة")) == [second, first]
    assert numbers(await _found(sessions, "الزهراء فاطمه")) == [first]
    assert numbers(await _found(sessions, "+966551112233")) == [second, first]
    assert numbers(await _found(sessions, "1000000016")) == [second]
    assert numbers(await _found(sessions, other.replace("-", ""))) == [other]
    assert numbers(await _found(sessions, "محمد")) == []


async def test_percent_and_underscore_are_letters_not_wildcards(sessions: Sessions, clock: FrozenClock) -> None:
    await new_case(sessions, clock, applicant_name="نورة عبدالله")
    for typed in ("ن%", "_ورة", "نو_ة", "نورة%"):
        assert (await _found(sessions, typed)).total == 0, typed
    assert (await _found(sessions, "نورة")).total == 1


async def test_pages_of_twenty_and_a_count_within_reach(sessions: Sessions, clock: FrozenClock) -> None:
    numbers = []
    for _ in range(23):
        numbers.append(await new_case(sessions, clock, applicant_name="خالد الحربي"))
        clock.advance(timedelta(seconds=1))
    newest_first = numbers[::-1]
    first = await _found(sessions, "خالد")
    assert (first.total, first.pages, first.page) == (23, 2, 1)
    assert [c.tracking_number for c in first.cases] == newest_first[:20]
    second = await _found(sessions, "خالد", page=2)
    assert [c.tracking_number for c in second.cases] == newest_first[20:]
    # A page past the last shows the last.
    assert (await _found(sessions, "خالد", page=9)).page == 2
    # What the reader may not see is neither listed nor counted.
    hidden = set(numbers[::2])
    within = Case.tracking_number.not_in(hidden)
    reached = await _found(sessions, "خالد", within=within)
    assert reached.total == 23 - len(hidden) and reached.pages == 1
    assert not hidden & {c.tracking_number for c in reached.cases}


async def test_a_renamed_request_is_found_by_its_new_name(sessions: Sessions, clock: FrozenClock) -> None:
    number = await new_case(sessions, clock, applicant_name="سارة")
    async with transaction(sessions) as session:
        case = (await session.scalars(select(Case).where(Case.tracking_number == number))).one()
        case.applicant_name = "سارة إبراهيم"
    assert [c.tracking_number for c in (await _found(sessions, "ابراهيم")).cases] == [number]
