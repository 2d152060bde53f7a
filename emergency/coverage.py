"""What each mission answers for: whole countries, or cities of a country (a consulate's), one mission each.

A city is kept under its key (`emergency.routing.city_key`: the form routing looks it up by), with its Arabic
and English names for the pages. The table allows one row per (country, city key); a city typed under
another spelling of a covered one (its Arabic name for an English one) is refused too, naming the mission
that has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import checks
from emergency.directory import described_mission, mission_by_code, record
from emergency.models import Mission, MissionCoverage
from emergency.routing import city_key
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, too_long
from majlis.i18n import in_language

CITY_LIMIT = 120


class CoverageNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("coverage_not_found", N_("This mission does not cover that place."))


@dataclass(frozen=True)
class CoverageInput:
    """A country (ISO code), and a city of it by its Arabic and/or English name; no city: the whole country."""

    country: str
    city_ar: str = ""
    city_en: str = ""


@dataclass(frozen=True)
class CoverageRow:
    coverage: MissionCoverage
    mission: Mission


def _keys(row: MissionCoverage) -> set[str]:
    return {row.city_key, city_key(row.city_ar), city_key(row.city_en)} - {""} or {""}


def _taken(field: str, holder: Mission) -> FieldError:
    return FieldError(
        field,
        "already_covered",
        N_("This place is already covered by the mission {mission}."),
        {"mission": described_mission(holder)},
    )


async def add_coverage(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, mission_code: str, data: CoverageInput
) -> MissionCoverage:
    """The mission covers the country (or the city of it) from now on; a place another mission covers is
    refused, naming that mission, and nothing is saved."""
    mission = await mission_by_code(session=session, code=mission_code)
    errors: list[FieldError] = []
    country = checks.clean_country("country", data.country, errors)
    city_ar, city_en = " ".join(data.city_ar.split()), " ".join(data.city_en.split())
    for field, value in (("city_ar", city_ar), ("city_en", city_en)):
        if len(value) > CITY_LIMIT:
            errors.append(too_long(field, CITY_LIMIT))
    if not mission.active:
        errors.append(FieldError("mission", "inactive", N_("{field} has been deactivated.")))
    wanted = {city_key(city_ar), city_key(city_en)} - {""} or {""}
    if not errors:
        rows = await session.execute(
            select(MissionCoverage, Mission)
            .join(Mission, Mission.id == MissionCoverage.mission_id)
            .where(MissionCoverage.country == country)
        )
        for row, holder in rows.all():
            if wanted & _keys(row):
                errors.append(_taken("city_en" if city_en else "city_ar" if city_ar else "country", holder))
                break
    if errors:
        raise InvalidInput(errors)
    key = city_key(city_en or city_ar)
    added = MissionCoverage(mission_id=mission.id, country=country, city_key=key, city_ar=city_ar, city_en=city_en)
    # Two supervisors adding one place at once: the table's unique (country, city_key) lets one in.
    try:
        async with session.begin_nested():
            session.add(added)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(
            select(Mission)
            .join(MissionCoverage, MissionCoverage.mission_id == Mission.id)
            .where(MissionCoverage.country == country, MissionCoverage.city_key == key)
        )
        raise InvalidInput([_taken("country", found or mission)]) from None
    await record(
        session,
        clock,
        actor_id,
        "emergency.coverage.add",
        mission,
        {"country": country, "city_key": key, "city_ar": city_ar, "city_en": city_en},
    )
    return added


async def remove_coverage(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, mission_code: str, coverage_id: int
) -> None:
    """The mission no longer covers that place (reports from it are then refused until another does)."""
    mission = await mission_by_code(session=session, code=mission_code)
    row = await session.get(MissionCoverage, coverage_id)
    if row is None or row.mission_id != mission.id:
        raise CoverageNotFound()
    details = {"country": row.country, "city_key": row.city_key, "city_ar": row.city_ar, "city_en": row.city_en}
    await session.delete(row)
    await session.flush()
    await record(session, clock, actor_id, "emergency.coverage.remove", mission, details)


async def coverage(*, session: AsyncSession, mission_id: int | None = None) -> list[CoverageRow]:
    """Every place covered (or one mission's), by country, the whole country before its cities."""
    query = (
        select(MissionCoverage, Mission)
        .join(Mission, Mission.id == MissionCoverage.mission_id)
        .order_by(MissionCoverage.country, MissionCoverage.city_key, MissionCoverage.id)
    )
    if mission_id is not None:
        query = query.where(MissionCoverage.mission_id == mission_id)
    return [CoverageRow(row, holder) for row, holder in (await session.execute(query)).all()]


def place_name(row: MissionCoverage, language: str) -> str:
    """ "Australia" or "Australia — Sydney" in the reader's language (the other name when one is missing)."""
    country = checks.country_name(row.country, language)
    if not row.city_key:
        return country
    city = in_language(language, row.city_ar, row.city_en)
    return f"{country} — {city}"
