"""The steps staff take on an emergency report, shared by its page's forms and the JSON API: acknowledge, post
news, solve or hand over, send to another mission. Each takes the report its reader may see, and the form's
fields as text; the domain (emergency/lifecycle.py) locks the report and refuses what its state does not allow.
A mission's staff name their mission to the domain too: the report was read unlocked, so a supervisor may have
sent it to another mission since, and the locked report is checked again (not found if it has moved)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from accounts.roles import Role
from emergency import lifecycle, timers
from emergency.models import EmergencyReport
from majlis.errors import FieldError, InvalidInput, invalid_choice, required
from majlis.numbers import whole_number
from web.auth import signed_in_user
from web.emergency_access import ACTORS, REASSIGNERS, Reader
from web.keys import CLOCK, DB, LINKS, SETTINGS
from web.public import status_url

Perform = Callable[[web.Request, Reader, EmergencyReport, Mapping[str, str]], Awaitable[None]]
# How a report ends: solved by the mission, or handed over to the authority that can act (police, hospital …).
ENDINGS = ("solved", "handed_over")


async def acknowledge(request: web.Request, reader: Reader, report: EmergencyReport, fields: Mapping[str, str]) -> None:
    user = signed_in_user(request)
    await lifecycle.acknowledge(
        session=request[DB],
        clock=request.app[CLOCK],
        report_id=report.id,
        generation=None,
        by=user.full_name,
        actor_id=user.id,
        mission_id=reader.confined_to,
    )


async def update(request: web.Request, reader: Reader, report: EmergencyReport, fields: Mapping[str, str]) -> None:
    user = signed_in_user(request)
    await lifecycle.post_update(
        session=request[DB],
        clock=request.app[CLOCK],
        report_id=report.id,
        note=fields.get("note", ""),
        by=user.full_name,
        actor_id=user.id,
        mission_id=reader.confined_to,
    )


async def solve(request: web.Request, reader: Reader, report: EmergencyReport, fields: Mapping[str, str]) -> None:
    ending = fields.get("ending", "")
    errors: list[FieldError] = []
    if ending not in ENDINGS:
        errors.append(required("ending") if not ending else invalid_choice("ending", ENDINGS))
    if not fields.get("outcome", "").strip():
        errors.append(required("outcome"))
    if errors:
        raise InvalidInput(errors)
    user = signed_in_user(request)
    await lifecycle.solve(
        session=request[DB],
        clock=request.app[CLOCK],
        report_id=report.id,
        outcome=fields["outcome"],
        handed_over=ending == "handed_over",
        by=user.full_name,
        actor_id=user.id,
        status_url=status_url(request),
        mission_id=reader.confined_to,
    )


async def reassign(request: web.Request, reader: Reader, report: EmergencyReport, fields: Mapping[str, str]) -> None:
    mission_id = whole_number(fields.get("mission_id", ""))
    errors: list[FieldError] = []
    if mission_id is None:
        errors.append(required("mission_id"))
    if not fields.get("reason", "").strip():
        errors.append(required("reason"))
    if errors or mission_id is None:
        raise InvalidInput(errors)
    await lifecycle.reassign(
        session=request[DB],
        clock=request.app[CLOCK],
        report_id=report.id,
        mission_id=mission_id,
        reason=fields["reason"],
        actor_id=signed_in_user(request).id,
        levels=timers.levels_from(request.app[SETTINGS]),
        links=request.app[LINKS],
    )


# Each step, and the roles whose handlers may take it (mission staff further confined to their mission).
ACTIONS: Mapping[str, tuple[Perform, tuple[Role, ...]]] = {
    "acknowledge": (acknowledge, ACTORS),
    "update": (update, ACTORS),
    "solve": (solve, ACTORS),
    "reassign": (reassign, REASSIGNERS),
}
