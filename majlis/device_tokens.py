"""Device tokens: how Majlis knows an enrolled tablet (audience_day's kiosks, quality's desk tablets).

A token is shown once, in the enrolment link opened on the device, and becomes its cookie. Only its SHA-256 is
kept, so the table cannot be used to pose as a device; a token is looked up by that hash. Both kinds are enrolled
for an active reception centre under a short name.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from majlis.errors import N_, FieldError, InvalidInput
from rooms import service as rooms

# A presented token longer than this is not one of ours (ours are 43 characters): it is not even hashed.
MAX_LENGTH = 100
# A device's name, as protocol gives it (which entrance, which desk).
MAX_NAME = 120


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token (to show once) and the hash to keep of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def hash_to_look_up(token: str) -> str | None:
    """The hash a presented token is looked up by; None when it cannot be one of ours (empty or too long)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    return token_hash(token)


async def checked_enrolment(*, session: AsyncSession, branch_code: str, name: str, name_message: str) -> str:
    """The device's name, stripped, once it (1 to MAX_NAME characters) and its branch (an active reception
    centre) are valid; else InvalidInput naming each field, with name_message for the name."""
    name = name.strip()
    errors = []
    if not name or len(name) > MAX_NAME:
        errors.append(FieldError("name", "required", name_message))
    if branch_code not in {b.code for b in await rooms.branches(session=session) if b.active}:
        errors.append(FieldError("branch", "invalid", N_("Choose the reception centre.")))
    if errors:
        raise InvalidInput(errors)
    return name
