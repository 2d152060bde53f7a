"""Rooms and rosters: adding and changing rooms, putting staff on duty. Services flush, never commit."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from accounts.roles import Role
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required, too_long
from majlis.numbers import whole_number
from rooms.models import BranchSite, Room, RoomKind, RosterEntry

MAX_CAPACITY = 500
# Who runs a video room, by its kind: (role, gender). Women's rooms: women of the women's section. Men's rooms:
# men of protocol staff (there is no men's section; see docs/architecture.md). Other rooms: any member of staff.
VIDEO_ROOM_STAFF: dict[RoomKind, tuple[Role, str]] = {
    RoomKind.WOMEN_VIDEO: (Role.WOMEN_SECTION, "female"),
    RoomKind.MEN_VIDEO: (Role.PROTOCOL, "male"),
}
_WRONG_STAFF = {
    RoomKind.WOMEN_VIDEO: (
        "not_women_section",
        N_("A women's-section room is run by women of the women's section."),
    ),
    RoomKind.MEN_VIDEO: ("not_men_room_staff", N_("A men's video room is run by men of the protocol staff.")),
}


def may_run(room: Room, *, role: Role, gender: str) -> bool:
    """Whether a member of staff of this role and gender may be on the room's roster and run it."""
    wanted = VIDEO_ROOM_STAFF.get(room.kind)
    return wanted is None or (role, gender) == wanted


async def branches(*, session: AsyncSession) -> list[BranchSite]:
    """Every centre, the official's seat first, then by code (the order forms and the WhatsApp desk list them)."""
    return list(await session.scalars(select(BranchSite).order_by(BranchSite.is_official_seat.desc(), BranchSite.code)))


async def rooms(*, session: AsyncSession, active_only: bool = False) -> list[Room]:
    query = select(Room).order_by(Room.branch_code, Room.kind, Room.name)
    if active_only:
        query = query.where(Room.active.is_(True))
    return list(await session.scalars(query))


async def get_branch(*, session: AsyncSession, code: str) -> BranchSite | None:
    return await session.get(BranchSite, code)


async def get_room(*, session: AsyncSession, room_id: int) -> Room | None:
    return await session.get(Room, room_id)


async def rooms_by_id(*, session: AsyncSession, ids: set[int]) -> dict[int, Room]:
    if not ids:
        return {}
    return {r.id: r for r in await session.scalars(select(Room).where(Room.id.in_(ids)))}


_TAKEN = FieldError("name", "taken", N_("This branch already has a room with this name."))


def _names(name: str, name_en: str, errors: list[FieldError]) -> tuple[str, str]:
    """The Arabic and English names with their spaces made single; a missing or too long one goes in `errors`."""
    name, name_en = " ".join(name.split()), " ".join(name_en.split())
    if not name:
        errors.append(required("name"))
    elif len(name) > 120:
        errors.append(too_long("name", 120))
    if len(name_en) > 120:
        errors.append(too_long("name_en", 120))
    return (name if len(name) <= 120 else ""), name_en


async def _name_taken(session: AsyncSession, branch: str, name: str, *, room_id: int | None) -> bool:
    """Whether another room of the centre has this Arabic name (the table's unique key: branch and name)."""
    query = select(Room.id).where(Room.branch_code == branch, Room.name == name)
    if room_id is not None:
        query = query.where(Room.id != room_id)
    return await session.scalar(query) is not None


async def add_room(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    branch: str,
    name: str,
    kind: str,
    capacity: str,
    wheelchair_access: bool,
    equipment: str,
    name_en: str = "",
) -> Room:
    """A new room, with its English name when given (English pages show the Arabic one until then);
    InvalidInput names every bad field."""
    errors: list[FieldError] = []
    site = await session.get(BranchSite, branch)
    # A closed centre gets no new rooms; the choices listed are the open ones.
    if site is None or not site.active:
        errors.append(invalid_choice("branch", [b.code for b in await branches(session=session) if b.active]))
    name, name_en = _names(name, name_en, errors)
    if name and await _name_taken(session, branch, name, room_id=None):
        errors.append(_TAKEN)
    room_kind: RoomKind | None = None
    try:
        room_kind = RoomKind(kind)
    except ValueError:
        errors.append(invalid_choice("room_kind", (k.value for k in RoomKind)))
    seats = whole_number(capacity) or 0
    if not 1 <= seats <= MAX_CAPACITY:
        errors.append(
            FieldError(
                "capacity",
                "out_of_range",
                N_("{field} must be between {min} and {max}."),
                {"min": "1", "max": str(MAX_CAPACITY)},
            )
        )
    if len(equipment) > 2000:
        errors.append(too_long("equipment", 2000))
    if errors:
        raise InvalidInput(errors)
    assert room_kind is not None
    room = Room(
        branch_code=branch,
        name=name,
        name_en=name_en,
        kind=room_kind,
        capacity=seats,
        wheelchair_access=wheelchair_access,
        equipment=equipment.strip(),
        active=True,
        created_at=clock.now(),
    )
    session.add(room)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="room.add",
        target_type="room",
        target_id=room.id,
        details={"branch": branch, "name": name, "kind": room_kind.value},
    )
    return room


async def put_on_duty(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    room_id: int,
    staff_id: int,
    day: date,
    starts: time,
    ends: time,
) -> RosterEntry:
    """Puts a member of staff on a room's roster for a day.

    Women's-section rooms are run by women of the women's section, men's video rooms by men of the protocol
    staff: anyone else is refused (`may_run`).
    """
    errors: list[FieldError] = []
    room = await session.get(Room, room_id)
    staff = await accounts.get_user(session=session, user_id=staff_id)
    if room is None:
        errors.append(FieldError("room", "unknown", N_("{field} is not one of the rooms.")))
    if staff is None or not staff.is_active:
        errors.append(FieldError("staff", "unknown", N_("{field} is not an active member of staff.")))
    elif room is not None and not may_run(room, role=staff.role, gender=staff.gender):
        code, message = _WRONG_STAFF[room.kind]
        errors.append(FieldError("staff", code, message))
    if ends <= starts:
        errors.append(FieldError("ends", "before_start", N_("The end of duty must be after its start.")))
    if (
        room is not None
        and staff is not None
        and await session.scalar(
            select(RosterEntry.id).where(
                RosterEntry.room_id == room_id, RosterEntry.staff_id == staff_id, RosterEntry.day == day
            )
        )
    ):
        errors.append(
            FieldError("staff", "taken", N_("This member of staff is already on this room's roster that day."))
        )
    if errors:
        raise InvalidInput(errors)
    entry = RosterEntry(room_id=room_id, staff_id=staff_id, day=day, starts=starts, ends=ends)
    session.add(entry)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="room.roster",
        target_type="room",
        target_id=room_id,
        details={"staff_id": staff_id, "day": day.isoformat()},
    )
    return entry


async def roster_for_day(*, session: AsyncSession, day: date) -> list[RosterEntry]:
    rows = await session.scalars(
        select(RosterEntry).where(RosterEntry.day == day).order_by(RosterEntry.room_id, RosterEntry.starts)
    )
    return list(rows)


async def set_room_active(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, room_id: int, active: bool
) -> Room:
    """Takes a room out of use (no new templates or sessions use it) or back; its past stays as it was."""
    room = await session.get(Room, room_id)
    if room is None:
        raise InvalidInput([FieldError("room", "unknown", N_("{field} is not one of the rooms."))])
    room.active = active
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="room.active",
        target_type="room",
        target_id=room_id,
        details={"active": active},
    )
    await session.flush()
    return room


async def rename_room(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, room_id: int, name: str, name_en: str
) -> Room:
    """Gives a room new Arabic and English names (an empty English name: English pages show the Arabic one);
    InvalidInput names every bad field and nothing changes. Past sessions and messages keep what they said."""
    room = await session.get(Room, room_id)
    if room is None:
        raise InvalidInput([FieldError("room", "unknown", N_("{field} is not one of the rooms."))])
    errors: list[FieldError] = []
    name, name_en = _names(name, name_en, errors)
    if name and await _name_taken(session, room.branch_code, name, room_id=room.id):
        errors.append(_TAKEN)
    if errors:
        raise InvalidInput(errors)
    before = {"name": room.name, "name_en": room.name_en}
    room.name, room.name_en = name, name_en
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="room.rename",
        target_type="room",
        target_id=room.id,
        details={"from": before, "to": {"name": name, "name_en": name_en}},
    )
    return room
