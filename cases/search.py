"""Finding requests by whatever the caller gives: a tracking number, a national ID, a mobile number or a name.

One box takes them all; `recognise` tells which it is by its shape, in this order:
- letters anywhere: a name. Every word of it, folded by `cases.names.search_key`, must appear in the request's
  `name_key` (so "Fatima" ending in ha finds it ending in ta marbuta, and an alef without its hamza finds one with
  it); LIKE with % and _ escaped, so they are letters;
- a leading + or 00, a leading 0, or 966 and nine more digits: a mobile number, in any form cases/phones.py reads;
- ten digits: a national ID, iqama or commercial registration number (the applicant's ID number);
- nine digits from 5 without dashes: a mobile number without its 0 (5XXXXXXXX; tracking numbers start so from 2050);
- a tracking number whose check digit holds, with or without its dashes, in Arabic-Indic digits too.
A tracking number runs past ten digits only after a million requests in one year, so ten digits are an ID.

Need to know is the caller's: `search` takes the reader's reach (cases/need_to_know.py) as a condition, so a request
out of reach is never listed and never counted.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cases.digits import ascii_digits
from cases.identity import ApplicantKind
from cases.intake_fields import PHONE_MESSAGE
from cases.models import Applicant, Case
from cases.names import search_key
from cases.phones import to_e164
from cases.tracking import parse_tracking_number
from majlis.errors import N_, FieldError, InvalidInput

PAGE_SIZE: Final = 20
# The box's field name, and the caller screen's.
QUERY_FIELD: Final = "q"
PHONE_FIELD: Final = "phone"
# Fewer letters than this would list nearly every request.
MIN_NAME_LETTERS: Final = 2

EMPTY_MESSAGE: Final = N_("Search: type a tracking number, a national ID or iqama number, a mobile number or a name.")
SHORT_MESSAGE: Final = N_("Search: type at least two letters of the name.")
UNCLEAR_MESSAGE: Final = N_(
    "Search: this is not a tracking number (its check digit fails), a 10-digit ID number or a mobile number. "
    "Read it back to the caller."
)
PHONE_MISSING_MESSAGE: Final = N_("Mobile number: type the caller's number, e.g. 0501234567.")
BOX_PHONE_MESSAGE: Final = N_("Search: this is not a valid mobile number, e.g. 0501234567 or +966501234567.")


class QueryKind(enum.StrEnum):
    TRACKING_NUMBER = "tracking_number"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    NAME = "name"


@dataclass(frozen=True)
class SearchQuery:
    """What was typed, recognised: its kind and its canonical value (the folded words for a name)."""

    kind: QueryKind
    value: str

    @property
    def words(self) -> list[str]:
        return self.value.split()


def _refused(field: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(field, code, message)])


def recognise(raw: str) -> SearchQuery:
    """The query's kind and canonical value; InvalidInput (field "q") when it is empty or reads as nothing."""
    text = raw.strip()
    if not text:
        raise _refused(QUERY_FIELD, "missing", EMPTY_MESSAGE)
    if any(ch.isalpha() for ch in text):
        folded = search_key(text)
        if len(folded.replace(" ", "")) < MIN_NAME_LETTERS:
            raise _refused(QUERY_FIELD, "too_short", SHORT_MESSAGE)
        return SearchQuery(QueryKind.NAME, folded)
    digits = ascii_digits(text).replace("(", "").replace(")", "")
    international = digits.startswith(("+", "00"))
    if international or digits.startswith("0") or (digits.startswith("966") and len(digits) == 12):
        return phone_query(text, field=QUERY_FIELD)
    # Nine digits from 5: a mobile number without its 0 (a tracking number starts so only from 2050).
    if len(digits) == 9 and digits.startswith("5") and "-" not in text and to_e164(digits) is not None:
        return phone_query(digits, field=QUERY_FIELD)
    if len(digits) == 10 and digits.isdigit():
        return SearchQuery(QueryKind.NATIONAL_ID, digits)
    number = parse_tracking_number(text)
    if number is not None:
        return SearchQuery(QueryKind.TRACKING_NUMBER, number)
    raise _refused(QUERY_FIELD, "unclear", UNCLEAR_MESSAGE)


def phone_query(raw: str, *, field: str = PHONE_FIELD) -> SearchQuery:
    """The query for every request of a mobile number; InvalidInput naming `field` when it is not one."""
    if not raw.strip():
        raise _refused(field, "missing", PHONE_MISSING_MESSAGE)
    phone = to_e164(raw)
    if phone is None:
        raise _refused(field, "invalid_phone", PHONE_MESSAGE if field == PHONE_FIELD else BOX_PHONE_MESSAGE)
    return SearchQuery(QueryKind.PHONE, phone)


def _like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition(query: SearchQuery) -> ColumnElement[bool]:
    """The condition on `cases` of the requests the query finds."""
    if query.kind is QueryKind.TRACKING_NUMBER:
        return Case.tracking_number == query.value
    if query.kind is QueryKind.PHONE:
        return Case.phone == query.value
    if query.kind is QueryKind.NATIONAL_ID:
        # Every kind named, so the unique index on (kind, id_number) answers it: on the number alone the databases
        # read every applicant (bench/search.py: 10-16 ms at 60,000 applicants, the index's seek instead).
        known = Applicant.kind.in_(list(ApplicantKind)) & (Applicant.id_number == query.value)
        return Case.applicant_id.in_(select(Applicant.id).where(known))
    return and_(*(Case.name_key.like(f"%{_like_escaped(word)}%", escape="\\") for word in query.words))


@dataclass(frozen=True)
class SearchPage:
    """One page of what a query found, newest first, and how many it found in all."""

    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


async def search(
    *,
    session: AsyncSession,
    query: SearchQuery,
    within: ColumnElement[bool] | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> SearchPage:
    """The requests the query finds among those `within` allows, newest first, one page of them.

    A page past the last gives the last (a list that shrank while someone paged keeps showing something)."""
    where = and_(condition(query), within if within is not None else true())
    total = await session.scalar(select(func.count()).select_from(Case).where(where)) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(1, page), last)
    found = await session.scalars(
        select(Case)
        .where(where)
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return SearchPage(cases=list(found), total=total, page=page, per_page=per_page)
