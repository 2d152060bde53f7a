"""Kiosks: tablets at a reception centre's entrance, each bound to its branch by a device token.

The token is shown once, as the enrolment link protocol opens on the tablet;
only its SHA-256 is kept, so the table cannot be used to pose as a kiosk.
Revoking a kiosk ends its token at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from audience_day.models import Kiosk
from majlis import device_tokens
from majlis.clock import Clock
from majlis.errors import N_, DomainError


class KioskRefused(DomainError):
    """No such kiosk, or already revoked."""


async def enrol(
    *, session: AsyncSession, clock: Clock, branch_code: str, name: str, actor_id: int
) -> tuple[Kiosk, str]:
    """A new kiosk of the branch and its device token (shown once, never stored)."""
    name = await device_tokens.checked_enrolment(
        session=session,
        branch_code=branch_code,
        name=name,
        name_message=N_("Name the kiosk (up to 120 characters), e.g. its entrance."),
    )
    token, token_hash = device_tokens.new_token()
    kiosk = Kiosk(
        branch_code=branch_code, name=name, token_hash=token_hash, created_at=clock.now(), created_by_id=actor_id
    )
    session.add(kiosk)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="kiosk.enrol",
        target_type="kiosk",
        target_id=str(kiosk.id),
        details={"branch": branch_code, "name": name},
    )
    return kiosk, token


async def by_token(*, session: AsyncSession, token: str) -> Kiosk | None:
    """The live kiosk a device token belongs to."""
    token_hash = device_tokens.hash_to_look_up(token)
    if token_hash is None:
        return None
    return await session.scalar(select(Kiosk).where(Kiosk.token_hash == token_hash, Kiosk.revoked_at.is_(None)))


async def all_kiosks(*, session: AsyncSession) -> list[Kiosk]:
    return list(await session.scalars(select(Kiosk).order_by(Kiosk.branch_code, Kiosk.name, Kiosk.id)))


async def revoke(*, session: AsyncSession, clock: Clock, kiosk_id: int, actor_id: int) -> Kiosk:
    kiosk = await session.get(Kiosk, kiosk_id, with_for_update=True)
    if kiosk is None:
        raise KioskRefused("no_kiosk", N_("There is no such kiosk."))
    if kiosk.revoked_at is not None:
        raise KioskRefused("kiosk_revoked", N_("This kiosk was already taken out of use."))
    kiosk.revoked_at = clock.now()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="kiosk.revoke",
        target_type="kiosk",
        target_id=str(kiosk.id),
        details={},
    )
    await session.flush()
    return kiosk
