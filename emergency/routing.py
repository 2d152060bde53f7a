"""Which mission answers for a place: a city's mission, else the country's, else refused; the central desk
when that mission is not live yet.

INTERFACE (owned by the REGISTRATION helper; bodies to be written).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import Mission


@dataclass(frozen=True)
class Routing:
    # The mission the report goes to (the central desk when the covering one is not live).
    mission: Mission
    # The mission covering the place when it is not the one above (not live yet); else None.
    covering: Mission | None


def city_key(city: str) -> str:
    """A city's name as coverage is looked up: folded case, spaces and Arabic letter forms, digits ASCII."""
    raise NotImplementedError


async def route(*, session: AsyncSession, country: str, city: str) -> Routing:
    """The mission for (country, city); InvalidInput naming "country" (unknown_country: no mission covers it)
    or "city" (city_not_covered: the country is covered city by city and this one is not)."""
    raise NotImplementedError
