"""Departments as the pages offer and show them: checkboxes of those in service, each under its parent, in the
reader's language; and the codes a form sends, joined into the one string the domain reads.

A written referral (the audit desk) and the official's referral outcome name
departments by code. Forms send one value per ticked box; the domain takes the
codes as one string (followup.referrals.department_codes splits it again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from followup import directory, referrals
from followup.notices import LIST_SEPARATOR
from majlis.errors import FieldError, InvalidInput, too_long
from notify.texts import say

# Codes are at most 40 characters: this is room for some fifty departments, and keeps a forged form from
# sending the database thousands of names to look up.
MAX_CODES_TEXT = 2000


@dataclass(frozen=True)
class DepartmentChoice:
    code: str
    name: str
    # 0 at the top of the tree; the page indents each level.
    depth: int


async def department_choices(*, session: AsyncSession, language: str) -> list[DepartmentChoice]:
    """The departments in service, each after its parent (a retired parent's children keep their depth)."""
    rows = await directory.tree(session=session)
    return [
        DepartmentChoice(code=row.department.code, name=row.department.name_in(language), depth=min(row.depth, 4))
        for row in rows
        if row.department.active
    ]


def joined_codes(values: Iterable[object], field: str = "referred_to") -> str:
    """The ticked boxes (or a typed list) as one string of codes, as the domain reads them; too much is refused."""
    text = ", ".join(str(value).strip() for value in values if str(value).strip())
    if len(text) > MAX_CODES_TEXT:
        raise InvalidInput([too_long(field, MAX_CODES_TEXT)])
    return text


def chosen(codes_text: str) -> list[str]:
    """The codes in a string the domain would read, for ticking the boxes again after a refusal."""
    return referrals.department_codes(codes_text)


async def names_by_code(*, session: AsyncSession, language: str) -> dict[str, str]:
    """Every department's name by its code, retired ones too (an old referral still names them)."""
    return {d.code: d.name_in(language) for d in await directory.departments(session=session)}


def named(codes_text: str, names: Mapping[str, str], language: str) -> str:
    """The departments of a string of codes by name, as a sentence lists them; an unknown code stays as it is."""
    listed = [names.get(code, code) for code in referrals.department_codes(codes_text)]
    return say(language, LIST_SEPARATOR).join(listed)


def renamed(errors: list[FieldError], old: str, new: str) -> InvalidInput:
    """The same errors with one field's name changed, for a form whose field is called otherwise."""
    return InvalidInput([FieldError(new, e.code, e.message, e.params) if e.field == old else e for e in errors])
