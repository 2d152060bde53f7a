"""Which mission a report goes to: the city's, else the country's, else refused; the central desk while the
covering mission is not live."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from emergency.models import Mission
from emergency.routing import NoCentralDesk, city_key, route
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.emergency.arrange import Sessions, add_mission, add_missions


def test_city_keys_fold_case_spacing_and_arabic_letter_forms() -> None:
    assert city_key("  Al-Ain ") == city_key("AL  AIN") == "al ain"
    assert city_key("São Paulo") == "sao paulo"
    assert city_key("الإسكندريـة") == city_key("الاسكندريه")
    assert city_key("مدينة ٦ أكتوبر") == city_key("مدينة 6 اكتوبر")


async def test_a_city_row_wins_over_its_countrys(sessions: Sessions) -> None:
    world = await add_missions(sessions)
    async with transaction(sessions) as session:
        dubai = await route(session=session, country="AE", city="dubai")
        arabic = await route(session=session, country="ae", city="دبي")
        elsewhere = await route(session=session, country="AE", city="Al Ain")
        sydney = await route(session=session, country="AU", city=" SYDNEY ")
        perth = await route(session=session, country="AU", city="Perth")
    assert (dubai.mission.id, dubai.covering) == (world.dubai, None)
    assert arabic.mission.id == world.dubai
    assert (elsewhere.mission.id, elsewhere.covering) == (world.abu_dhabi, None)
    assert sydney.mission.id == world.sydney
    assert perth.mission.id == world.canberra


async def test_a_mission_not_live_sends_its_reports_to_the_central_desk(sessions: Sessions) -> None:
    world = await add_missions(sessions)
    async with transaction(sessions) as session:
        london = await route(session=session, country="GB", city="Manchester")
    assert london.mission.id == world.desk
    assert london.covering is not None and london.covering.id == world.london


async def test_unknown_countries_and_uncovered_cities_are_refused_by_name(sessions: Sessions) -> None:
    await add_missions(sessions)
    async with transaction(sessions) as session:
        with pytest.raises(InvalidInput) as country:
            await route(session=session, country="FJ", city="Suva")
        with pytest.raises(InvalidInput) as city:
            await route(session=session, country="JP", city="Sapporo")
        # Osaka is one of the cities the embassy in Tokyo covers, in either script.
        assert (await route(session=session, country="JP", city="أوساكا")).mission.code == "tokyo"
    (wrong,) = country.value.errors
    assert (wrong.field, wrong.code) == ("country", "unknown_country")
    assert "FJ" in wrong.params["country"] and wrong.params["countries"] == "AE, AU, GB, JP"
    (wrong,) = city.value.errors
    assert (wrong.field, wrong.code) == ("city", "city_not_covered")
    assert "Tokyo / طوكيو" in wrong.params["cities"] and "Osaka" in wrong.params["cities"]


async def test_a_deactivated_mission_covers_nothing(sessions: Sessions) -> None:
    world = await add_missions(sessions)
    async with transaction(sessions) as session:
        await session.execute(update(Mission).where(Mission.id == world.dubai).values(active=False))
        assert (await route(session=session, country="AE", city="Dubai")).mission.id == world.abu_dhabi


async def test_without_a_central_desk_a_report_for_a_mission_not_live_is_refused(sessions: Sessions) -> None:
    await add_mission(sessions, "paris", country="FR", zone="Europe/Paris", live=False)
    async with transaction(sessions) as session:
        with pytest.raises(NoCentralDesk):
            await route(session=session, country="FR", city="Paris")
