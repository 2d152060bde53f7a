"""Who is signed in, as a plain value the pages can use."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import StaffUser
from accounts.roles import Role


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, copied out of the database row.

    A plain value, so pages rendered after the request's transaction has ended
    (error pages after a rollback) can still show who is signed in.
    """

    id: int
    username: str
    full_name: str
    role: Role
    gender: str

    @classmethod
    def of(cls, user: StaffUser) -> SignedIn:
        return cls(user.id, user.username, user.full_name, user.role, user.gender)
