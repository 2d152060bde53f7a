"""One-time codes sent by SMS: made, kept only as a hash, and checked with limited tries and an expiry.

Shared by the applicant who answers what was asked of them (followup.information, one code per request)
and by "my requests" (cases.my_requests, one code per phone). Each keeps its codes in its own table; the
rows have the same shape (code_hash, expires_at, attempts, used_at), which is all this module reads.
A refused try is flushed before the refusal is raised: the caller commits it, or the limit would forget it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from cases.digits import ascii_digits
from majlis.errors import N_, DomainError, InvalidInput, required

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodePolicy:
    lifetime: timedelta = timedelta(minutes=10)
    per_hour: int = 3
    max_tries: int = 5


class CodeRow(Protocol):
    """What a table of codes keeps of one code."""

    code_hash: str
    expires_at: datetime
    attempts: int
    used_at: datetime | None


class CodeRefused(DomainError):
    """The code was not accepted; a wrong try has been counted and must be committed."""


class NoCode(CodeRefused):
    def __init__(self) -> None:
        super().__init__("no_code", N_("There is no code to check. Ask for a code first."))


class CodeExpired(CodeRefused):
    def __init__(self) -> None:
        super().__init__("code_expired", N_("The code has expired. Ask for a new one."))


class TooManyTries(CodeRefused):
    def __init__(self) -> None:
        super().__init__("too_many_tries", N_("Too many wrong tries for this code. Ask for a new one."))


class WrongCode(CodeRefused):
    def __init__(self, left: int) -> None:
        super().__init__("wrong_code", N_("The code is not correct. Tries left: {left}."), left=str(left))


def new_code() -> str:
    """Six random digits."""
    return str(secrets.randbelow(10**CODE_DIGITS)).zfill(CODE_DIGITS)


def code_hash(scope: str, code: str) -> str:
    """The hash kept of a code; `scope` (what the code opens) makes a code of one request useless for another."""
    return hashlib.sha256(f"{scope}:{code}".encode()).hexdigest()


def typed_code(code: str) -> str:
    """The code as typed, Arabic-Indic digits, spaces and dashes allowed; InvalidInput naming `code` if empty."""
    typed = ascii_digits(code or "")
    if not typed:
        raise InvalidInput([required("code")])
    return typed


async def check(
    *, session: AsyncSession, row: CodeRow | None, scope: str, typed: str, now: datetime, policy: CodePolicy
) -> None:
    """Marks the latest code `row` used if `typed` is it; else counts the try and raises a CodeRefused."""
    if row is None or row.used_at is not None:
        raise NoCode()
    if now >= row.expires_at:
        raise CodeExpired()
    if row.attempts >= policy.max_tries:
        raise TooManyTries()
    if not hmac.compare_digest(code_hash(scope, typed), row.code_hash):
        row.attempts += 1
        await session.flush()
        left = policy.max_tries - row.attempts
        if left <= 0:
            raise TooManyTries()
        raise WrongCode(left)
    row.used_at = now
    await session.flush()
