"""Reception centres as data: an administrator adds and edits branches. Services flush, never commit.

A branch's code is what requests, rooms and kiosks refer to, so it is chosen once and never changes; a centre
that closes is made inactive (it takes no new requests) while its past requests keep naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput, required, too_long
from rooms.models import BranchSite

CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?")
NAME_LIMIT = 120
ADDRESS_LIMIT = 500
URL_LIMIT = 2000


@dataclass(frozen=True)
class BranchInput:
    """A branch as the form gives it, every field as typed."""

    name_ar: str
    name_en: str
    address_ar: str
    address_en: str
    time_zone: str
    official_calendar_url: str
    active: bool = True


def valid_zone(name: str) -> bool:
    """Whether zoneinfo knows the name (an IANA zone such as Asia/Riyadh); paths and odd input are refused."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _name(field: str, value: str, errors: list[FieldError]) -> str:
    value = " ".join(value.split())
    if not value:
        errors.append(required(field))
    elif len(value) > NAME_LIMIT:
        errors.append(too_long(field, NAME_LIMIT))
    return value


def _address(field: str, value: str, errors: list[FieldError]) -> str:
    value = value.strip()
    if len(value) > ADDRESS_LIMIT:
        errors.append(too_long(field, ADDRESS_LIMIT))
    return value


def _checked(data: BranchInput, errors: list[FieldError]) -> dict[str, object]:
    zone = data.time_zone.strip()
    if not zone:
        errors.append(required("time_zone"))
    elif not valid_zone(zone):
        errors.append(FieldError("time_zone", "unknown_zone", N_("{field} must be a time zone such as Asia/Riyadh.")))
    url = data.official_calendar_url.strip()
    if len(url) > URL_LIMIT:
        errors.append(too_long("official_calendar_url", URL_LIMIT))
    elif url and (not url.startswith(("https://", "http://")) or any(c.isspace() for c in url)):
        errors.append(
            FieldError(
                "official_calendar_url",
                "invalid_url",
                N_("{field} must be an address starting with https:// or be left empty."),
            )
        )
    return {
        "name_ar": _name("name_ar", data.name_ar, errors),
        "name_en": _name("name_en", data.name_en, errors),
        "address_ar": _address("address_ar", data.address_ar, errors),
        "address_en": _address("address_en", data.address_en, errors),
        "time_zone": zone,
        "official_calendar_url": url,
        "active": data.active,
    }


async def add_branch(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, data: BranchInput
) -> BranchSite:
    """A new reception centre; InvalidInput names every bad field and nothing is written."""
    errors: list[FieldError] = []
    code = code.strip().lower()
    if not code:
        errors.append(required("code"))
    elif not CODE.fullmatch(code):
        errors.append(
            FieldError(
                "code",
                "invalid_code",
                N_("{field} must be 1 to 16 small Latin letters, digits or hyphens, such as dammam."),
            )
        )
    elif await session.get(BranchSite, code) is not None:
        errors.append(FieldError("code", "taken", N_("There is already a branch with this code.")))
    values = _checked(data, errors)
    if errors:
        raise InvalidInput(errors)
    # A new centre is never the official's seat: that stays with the centre the schema was seeded with.
    site = BranchSite(code=code, is_official_seat=False, **values)
    try:
        # In a savepoint: two administrators adding the same code at once meet at the primary key, and the
        # second gets the same field error as if it had been taken before, with the rest of its transaction intact.
        async with session.begin_nested():
            session.add(site)
            await session.flush()
    except IntegrityError:
        raise InvalidInput([FieldError("code", "taken", N_("There is already a branch with this code."))]) from None
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="branch.add",
        target_type="branch",
        target_id=code,
        details={"time_zone": site.time_zone},
    )
    return site


async def edit_branch(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, data: BranchInput
) -> BranchSite:
    """Changes a centre's names, addresses, time zone, official's calendar and whether it is open."""
    site = await session.get(BranchSite, code)
    if site is None:
        raise InvalidInput([FieldError("code", "unknown", N_("{field} is not one of the branches."))])
    errors: list[FieldError] = []
    values = _checked(data, errors)
    if site.is_official_seat and not data.active:
        errors.append(FieldError("active", "official_seat", N_("The official's seat cannot be closed.")))
    if errors:
        raise InvalidInput(errors)
    changed = sorted(name for name, value in values.items() if getattr(site, name) != value)
    for name, value in values.items():
        setattr(site, name, value)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="branch.edit",
        target_type="branch",
        target_id=code,
        details={"changed": changed},
    )
    return site
