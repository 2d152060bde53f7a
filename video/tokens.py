"""Per-audience signalling tokens: who may speak for which side of which video audience, until when.

A token is HMAC-signed with the application's secret (purpose `majlis-video-v1`),
so nothing is stored: the signature is the proof. It expires at the end of the
audience's day in Riyadh.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from majlis.clock import RIYADH

_PURPOSE = b"majlis-video-v1:"
ROLES = ("official", "room")
Side = Literal["official", "room"]


class TokenRefused(Exception):
    """The token is not one we signed, or it has expired; `reason` says which."""

    def __init__(self, reason: Literal["invalid", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VideoGrant:
    """What a token allows: one side of one audience, until a moment."""

    audience_id: int
    role: Side
    expires_at: datetime


def end_of_day(day: date) -> datetime:
    """Midnight at the end of a Riyadh day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=RIYADH)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VideoTokens:
    """Makes and checks signalling tokens."""

    def __init__(self, *, secret: str) -> None:
        self._key = hashlib.sha256(_PURPOSE + secret.encode()).digest()

    def _sign(self, body: bytes) -> str:
        return _b64(hmac.new(self._key, body, hashlib.sha256).digest()[:18])

    def token(self, grant: VideoGrant) -> str:
        body = json.dumps(
            {"a": grant.audience_id, "r": grant.role, "e": int(grant.expires_at.timestamp())}, separators=(",", ":")
        ).encode()
        return f"{_b64(body)}.{self._sign(body)}"

    def check(self, token: str, *, now: datetime) -> VideoGrant:
        """The grant the token stands for; raises TokenRefused if it was altered or has expired."""
        encoded, _, signature = token.partition(".")
        if not encoded or not signature or len(token) > 200:
            raise TokenRefused("invalid")
        try:
            body = _unb64(encoded)
        except ValueError:
            raise TokenRefused("invalid") from None
        if not hmac.compare_digest(self._sign(body), signature):
            raise TokenRefused("invalid")
        try:
            fields = json.loads(body)
            role = fields["r"]
            if role not in ROLES:
                raise ValueError(role)
            grant = VideoGrant(
                audience_id=int(fields["a"]),
                role=role,
                expires_at=datetime.fromtimestamp(int(fields["e"]), tz=RIYADH),
            )
        except (ValueError, KeyError, TypeError):
            raise TokenRefused("invalid") from None
        if now >= grant.expires_at:
            raise TokenRefused("expired")
        return grant
