"""The command line's changes by hand: a move or placement chosen by protocol (inside the three days on the
official's directive) and a check-in at the desk, through the domain calls the pages and the API make.

Each command runs in one transaction and names the member of staff it acts for (`--by`), who must hold a role
the page's guard lets in: the fairness record and the audit log need a person. A refusal is printed in English
and Arabic, as the pages and the API word it, and the command exits with 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from audience_day import arrival
from cases import service as cases
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import DomainError, InvalidInput
from majlis.i18n import LANGUAGES, shipped_catalogs
from majlis.jobs import status_url
from majlis.settings import Settings
from notify.providers import links_for
from rooms import service as rooms
from scheduler import by_hand as manual
from scheduler import confirmations
from scheduler.models import Appointment, Slot
from web.errors import domain_message, field_message

# Who may act, as the pages' guards allow (administrators pass every guard): protocol's calendar, the desk.
BY_HAND_ROLES = (Role.PROTOCOL, Role.ADMINISTRATOR)
DESK_ROLES = (Role.INTAKE_DESK, Role.PROTOCOL, Role.ADMINISTRATOR)


class NotAllowed(Exception):
    """`--by` names no one who may do this: no such account, a deactivated one, or another role's."""


async def _staff(*, session: AsyncSession, username: str, roles: Sequence[Role], doing: str) -> int:
    """The id of the active account `username`, if its role may do this."""
    user = await accounts.user_by_username(session=session, username=username)
    if user is None:
        raise NotAllowed(f"--by {username}: there is no staff account by that name")
    if not user.is_active:
        raise NotAllowed(f"--by {username}: that account is deactivated")
    if user.role not in roles:
        allowed = ", ".join(role.value for role in roles[:-1]) + f" or {roles[-1].value}"
        raise NotAllowed(f"--by {username}: {doing} is for {allowed} accounts; {user.username} is {user.role.value}")
    return user.id


def _refusal_lines(exc: InvalidInput | DomainError) -> list[str]:
    """The refusal as the pages and the API say it, in every language Majlis speaks."""
    catalogs = shipped_catalogs()
    # English first, as the rest of the command line speaks.
    languages = sorted(LANGUAGES, key=lambda language: language != "en")
    if isinstance(exc, InvalidInput):
        head = "refused (" + ", ".join(f"{e.field}: {e.code}" for e in exc.errors) + "):"
        said = {language: " ".join(field_message(catalogs, language, e) for e in exc.errors) for language in languages}
    else:
        head = f"refused ({exc.code}):"
        said = {language: domain_message(catalogs, language, exc) for language in languages}
    return [head, *(f"  {language}: {text}" for language, text in said.items())]


async def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[list[str]]]) -> int:
    """Does the work in one transaction; prints what was done once it is committed, or why it was refused."""
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            done = await work(session)
    except NotAllowed as exc:
        print(f"majlis: {exc}", file=sys.stderr)
        return 2
    except (InvalidInput, DomainError) as exc:
        print("\n".join(_refusal_lines(exc)), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print("\n".join(done))
    return 0


async def _where(session: AsyncSession, appointment: Appointment) -> str:
    """The appointment's time in Riyadh and its room."""
    slot = await session.get_one(Slot, appointment.slot_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    name = room.name if room is not None else f"room {slot.room_id}"
    return f"{riyadh(slot.starts_at):%A %Y-%m-%d %H:%M} (Riyadh), slot {slot.id}, {name}"


def _told(by_hand: manual.ByHand) -> str:
    if by_hand.directive:
        return "on the official's directive: the applicant is told by SMS and called"
    return "the applicant is told by SMS"


def _by_hand(settings: Settings, args: argparse.Namespace, actor_id: int) -> manual.ByHand:
    return manual.ByHand(
        to_slot_id=args.slot,
        actor_id=actor_id,
        # On the directive the reason recorded is the directive's (cli.py refuses any other with it).
        change_reason=None if args.directive else args.reason,
        change_text=args.text,
        status_url=status_url(settings),
        directive=args.directive,
        policy=confirmations.policy_from(settings),
    )


async def move(settings: Settings, args: argparse.Namespace) -> int:
    """`majlis move`: an appointment moved by hand to a free seat of another slot."""

    async def work(session: AsyncSession) -> list[str]:
        actor_id = await _staff(
            session=session, username=args.by, roles=BY_HAND_ROLES, doing="moving an appointment by hand"
        )
        by_hand = _by_hand(settings, args, actor_id)
        moved = await manual.move_appointment(
            session=session, clock=SystemClock(), appointment_id=args.appointment, by_hand=by_hand
        )
        case = await cases.get_case(session=session, case_id=moved.case_id)
        assert case is not None
        return [
            f"moved {case.tracking_number} from appointment {args.appointment} to {await _where(session, moved)}: "
            f"new appointment {moved.id}",
            _told(by_hand),
        ]

    return await _run(settings, work)


async def place(settings: Settings, args: argparse.Namespace) -> int:
    """`majlis place`: a waiting request placed by hand in a free seat of the slot chosen."""

    async def work(session: AsyncSession) -> list[str]:
        actor_id = await _staff(
            session=session, username=args.by, roles=BY_HAND_ROLES, doing="placing a request by hand"
        )
        by_hand = _by_hand(settings, args, actor_id)
        placed = await manual.place_by_hand(
            session=session, clock=SystemClock(), tracking_number=args.tracking_number, by_hand=by_hand
        )
        case = await cases.get_case(session=session, case_id=placed.case_id)
        assert case is not None
        return [
            f"placed {case.tracking_number} at {await _where(session, placed)}: new appointment {placed.id}",
            _told(by_hand),
        ]

    return await _run(settings, work)


async def check_in(settings: Settings, args: argparse.Namespace) -> int:
    """`majlis check-in`: an applicant checked in at the desk of a branch, as /desk/arrivals does."""

    async def work(session: AsyncSession) -> list[str]:
        actor_id = await _staff(session=session, username=args.by, roles=DESK_ROLES, doing="checking in at the desk")
        clock = SystemClock()
        came = await arrival.check_in_at_desk(
            session=session,
            clock=clock,
            policy=arrival.policy_from(settings),
            links=links_for(settings),
            branch_code=args.branch,
            actor_id=actor_id,
            appointment_id=args.appointment,
            code=args.code or "",
            tracking_number=args.tracking_number or "",
            phone_last4=args.phone_last4 or "",
        )
        case = await cases.get_case(session=session, case_id=came.case_id)
        appointment = await session.get_one(Appointment, came.appointment_id)
        assert case is not None
        timing = "late: heard after those who came in time" if came.late else "in time"
        return [
            f"checked in {case.tracking_number} at {riyadh(came.arrived_at):%H:%M} (Riyadh): "
            f"queue number {came.queue_number}, {timing}",
            f"appointment {appointment.id}: {await _where(session, appointment)}",
        ]

    return await _run(settings, work)
