"""The audit log: every staff action is written here in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import AuditEntry
from majlis.clock import Clock


async def record(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the audit log (flushed, not committed)."""
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent(*, session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return list(rows)


async def for_target(*, session: AsyncSession, target_type: str, target_id: str | int) -> list[AuditEntry]:
    """Every entry about one record, oldest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)
    )
    return list(rows)
