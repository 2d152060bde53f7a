"""Which mission answers for a place: a city's mission, else the country's, else refused; the central desk
when that mission is not live yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import Mission, MissionCoverage, MissionKind
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from priority.similarity import normalise

MAX_CITY_KEY = 120


@dataclass(frozen=True)
class Routing:
    # The mission the report goes to (the central desk when the covering one is not live).
    mission: Mission
    # The mission covering the place when it is not the one above (not live yet); else None.
    covering: Mission | None


class NoCentralDesk(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "no_central_desk",
            N_(
                "The mission for this place is not live yet and no central consular desk is set up to take its "
                "reports. An administrator must add the central desk."
            ),
        )


def city_key(city: str) -> str:
    """A city's name as coverage is looked up: folded case, spaces and Arabic letter forms, digits ASCII.

    The same folding as the duplicate finder's: accents and tashkeel dropped, alef, ta marbuta and yeh forms
    made one, punctuation a single space, so "Al-Ain", "al ain" and "AL AIN" are one city.
    """
    return normalise(city)[:MAX_CITY_KEY]


def _isolated(text: str) -> str:
    """A name between Unicode isolates, so a Latin city keeps its order inside an Arabic sentence."""
    return f"\u2068{text}\u2069"


def _matches(row: MissionCoverage, key: str) -> bool:
    """True when the typed city is this row's, by its key or by its Arabic or English name."""
    return key in {row.city_key, city_key(row.city_ar), city_key(row.city_en)}


async def _central_desk(session: AsyncSession) -> Mission:
    desk = await session.scalar(
        select(Mission)
        .where(Mission.kind == MissionKind.CENTRAL_DESK, Mission.active.is_(True))
        .order_by(Mission.id)
        .limit(1)
    )
    if desk is None:
        raise NoCentralDesk()
    return desk


async def covered_countries(*, session: AsyncSession) -> list[str]:
    """The ISO codes of every country some active mission covers, in order."""
    rows = await session.scalars(
        select(MissionCoverage.country)
        .join(Mission, Mission.id == MissionCoverage.mission_id)
        .where(Mission.active.is_(True))
        .distinct()
    )
    return sorted(rows)


async def route(*, session: AsyncSession, country: str, city: str) -> Routing:
    """The mission for (country, city); InvalidInput naming "country" (unknown_country: no mission covers it)
    or "city" (city_not_covered: the country is covered city by city and this one is not)."""
    code = country.strip().upper()
    found = await session.execute(
        select(MissionCoverage, Mission)
        .join(Mission, Mission.id == MissionCoverage.mission_id)
        .where(MissionCoverage.country == code, Mission.active.is_(True))
        .order_by(MissionCoverage.id)
    )
    rows = [(row, mission) for row, mission in found]
    if not rows:
        covered = await covered_countries(session=session)
        raise InvalidInput(
            [
                FieldError(
                    "country",
                    "unknown_country",
                    N_("No mission covers the country {country} yet. Countries covered: {countries}."),
                    {"country": _isolated(code), "countries": ", ".join(covered) or "—"},
                )
            ]
        )
    key = city_key(city)
    by_city = next((mission for row, mission in rows if row.city_key and _matches(row, key)), None)
    whole = next((mission for row, mission in rows if not row.city_key), None)
    mission = by_city or whole
    if mission is None:
        cities = ", ".join(_isolated(f"{row.city_en} / {row.city_ar}") for row, _ in rows)
        raise InvalidInput(
            [
                FieldError(
                    "city",
                    "city_not_covered",
                    N_("No mission covers this city in {country}. Cities covered there: {cities}."),
                    {"country": _isolated(code), "cities": cities},
                )
            ]
        )
    if mission.live:
        return Routing(mission=mission, covering=None)
    return Routing(mission=await _central_desk(session), covering=mission)
