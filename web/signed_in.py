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
    # Set by an administrator's reset: only the change-password page and signing out until a new one is chosen.
    must_change_password: bool = False
    # An authenticator is set up: a sign-in still owing its second factor is asked for a code, not enrolment.
    has_authenticator: bool = False

    @classmethod
    def of(cls, user: StaffUser) -> SignedIn:
        return cls(
            user.id,
            user.username,
            user.full_name,
            user.role,
            user.gender,
            user.must_change_password,
            user.totp_secret is not None,
        )


@dataclass(frozen=True)
class BrowserSession:
    """The live session behind this request's cookie: signed in once verified, else still owing its second factor."""

    token_hash: str
    # Forms and X-CSRF-Token headers of this session must carry it (web.security).
    csrf_token: str
    verified: bool
    user: SignedIn
