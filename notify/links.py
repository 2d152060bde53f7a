"""Signed, expiring links in messages: the applicant's way to answer where SMS cannot carry a reply.

A link names one appointment and the moment it stops working (the audience's
start), signed with the application's secret. Nothing is stored: the
signature is the proof, so an altered link is refused, and an expired one
says so. The same tokens sign the address a voice call posts its keypad
answer to, so a forged post cannot confirm someone else's audience.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cases.digits import ascii_digits

_PURPOSE = b"majlis-answer-link-v1:"
_ARRIVAL_PURPOSE = b"majlis-arrival-code-v1:"
_ARRIVAL_MAC_DIGITS = 8
_REFERRAL_PURPOSE = b"majlis-referral-link-v1:"
_EMERGENCY_PURPOSE = b"majlis-emergency-link-v1:"
_RATING_PURPOSE = b"majlis-rating-link-v1:"


class LinkRefused(Exception):
    """The token is not one we signed, or it has expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" or "expired"


@dataclass(frozen=True)
class AnswerLink:
    appointment_id: int
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Links:
    """Makes and checks answer tokens and the addresses that carry them."""

    def __init__(self, *, public_url: str, secret: str) -> None:
        self._base = public_url.rstrip("/")
        self._key = hashlib.sha256(_PURPOSE + secret.encode()).digest()
        self._arrival_key = hashlib.sha256(_ARRIVAL_PURPOSE + secret.encode()).digest()
        self._referral_key = hashlib.sha256(_REFERRAL_PURPOSE + secret.encode()).digest()
        self._emergency_key = hashlib.sha256(_EMERGENCY_PURPOSE + secret.encode()).digest()
        self._rating_key = hashlib.sha256(_RATING_PURPOSE + secret.encode()).digest()

    def _arrival_mac(self, appointment_id: int) -> str:
        digest = hmac.new(self._arrival_key, str(appointment_id).encode(), hashlib.sha256).digest()
        return str(int.from_bytes(digest[:8], "big") % 10**_ARRIVAL_MAC_DIGITS).zfill(_ARRIVAL_MAC_DIGITS)

    def arrival_code(self, appointment_id: int) -> str:
        """The code an applicant shows (or a QR code carries) at the kiosk: the appointment and 8 signed digits.

        Digits only, so a keypad or a barcode scanner typing into the kiosk's field can give it.
        It proves no more than that the applicant was sent it; the kiosk still checks the day and branch.
        """
        return f"{appointment_id}-{self._arrival_mac(appointment_id)}"

    def check_arrival_code(self, code: str) -> int | None:
        """The appointment an arrival code stands for, or None if it is not one Majlis made.

        Typed with Arabic-Indic digits, spaces, or without its dash, it is the same code: the last 8 digits
        are the signature, the digits before them the appointment.
        """
        digits = ascii_digits(code)
        number, mac = digits[:-_ARRIVAL_MAC_DIGITS], digits[-_ARRIVAL_MAC_DIGITS:]
        if not (number.isdigit() and mac.isdigit()) or len(number) > 12:
            return None
        appointment_id = int(number)
        if not hmac.compare_digest(self._arrival_mac(appointment_id), mac):
            return None
        return appointment_id

    def _referral_mac(self, referral_id: int, generation: int) -> str:
        return self._generation_mac(self._referral_key, referral_id, generation)

    @staticmethod
    def _generation_mac(key: bytes, item_id: int, generation: int) -> str:
        body = f"{item_id}.{generation}".encode()
        return _b64(hmac.new(key, body, hashlib.sha256).digest()[:18])

    @staticmethod
    def _generation_token_parts(token: str, *, max_generation_digits: int = 6) -> tuple[int, int, str]:
        """The id, generation and signature a "<id>.<generation>.<mac>" token carries; LinkRefused if malformed."""
        parts = token.split(".")
        if len(token) > 120 or len(parts) != 3 or not (parts[0].isascii() and parts[1].isascii()):
            raise LinkRefused("invalid")
        number, generation, mac = parts
        if (
            not (number.isdigit() and generation.isdigit())
            or len(number) > 12
            or len(generation) > max_generation_digits
        ):
            raise LinkRefused("invalid")
        return int(number), int(generation), mac

    def referral_token(self, referral_id: int, generation: int) -> str:
        """A department's way into one referral without an account.

        It names the referral and its generation: when the referral moves on (returned, closed), the
        generation rises and the link says so instead of acting on it. It does not expire otherwise,
        since a department may take weeks to answer.
        """
        return f"{referral_id}.{generation}.{self._referral_mac(referral_id, generation)}"

    def check_referral_token(self, token: str) -> tuple[int, int]:
        """The referral and generation a token stands for; raises LinkRefused("invalid") if not ours."""
        number, generation, mac = self._generation_token_parts(token)
        if not hmac.compare_digest(self._referral_mac(number, generation), mac):
            raise LinkRefused("invalid")
        return number, generation

    def referral_page(self, referral_id: int, generation: int) -> str:
        """The department's page for one referral."""
        return f"{self._base}/r/{self.referral_token(referral_id, generation)}"

    def emergency_token(self, report_id: int, generation: int) -> str:
        """A mission duty officer's way into one emergency report without an account, to acknowledge it.

        Signed for its own purpose (a referral's token does not open a report of the same number). It names
        the report's generation: once the report is sent to another mission the generation rises and the
        old mission's link says so instead of acting. It does not expire otherwise.
        """
        return f"{report_id}.{generation}.{self._generation_mac(self._emergency_key, report_id, generation)}"

    def check_emergency_token(self, token: str) -> tuple[int, int]:
        """The report and generation a token stands for; raises LinkRefused("invalid") if not ours."""
        number, generation, mac = self._generation_token_parts(token)
        if not hmac.compare_digest(self._generation_mac(self._emergency_key, number, generation), mac):
            raise LinkRefused("invalid")
        return number, generation

    def emergency_page(self, report_id: int, generation: int) -> str:
        """The duty officer's page for one emergency report."""
        return f"{self._base}/e/{self.emergency_token(report_id, generation)}"

    def rating_token(self, invite_id: int, expires_at: datetime) -> str:
        """An applicant's way to rate one visit: the invitation and its expiry, signed for this purpose alone.

        The expiry is in the token (as an answer link's is), so an expired link is told apart from a forged one
        before the database is read; that it is used once is the invitation's to say (RatingInvite.used_at).
        """
        stamp = int(expires_at.timestamp())
        return f"{invite_id}.{stamp}.{self._generation_mac(self._rating_key, invite_id, stamp)}"

    def check_rating_token(self, token: str, *, now: datetime) -> int:
        """The invitation a rating token stands for; raises LinkRefused("invalid") if not ours, ("expired") if late."""
        number, expires, mac = self._generation_token_parts(token, max_generation_digits=12)
        if not hmac.compare_digest(self._generation_mac(self._rating_key, number, expires), mac):
            raise LinkRefused("invalid")
        if now >= datetime.fromtimestamp(expires, tz=UTC):
            raise LinkRefused("expired")
        return number

    def rating_page(self, invite_id: int, expires_at: datetime) -> str:
        """The public page where the applicant rates the visit."""
        return f"{self._base}/rate/{self.rating_token(invite_id, expires_at)}"

    def _sign(self, body: bytes) -> str:
        return _b64(hmac.new(self._key, body, hashlib.sha256).digest()[:18])

    def token(self, link: AnswerLink) -> str:
        body = json.dumps(
            {"a": link.appointment_id, "e": int(link.expires_at.timestamp())}, separators=(",", ":")
        ).encode()
        return f"{_b64(body)}.{self._sign(body)}"

    def check(self, token: str, *, now: datetime) -> AnswerLink:
        """The link the token stands for; raises LinkRefused if it was altered or has expired."""
        encoded, _, signature = token.partition(".")
        if not encoded or not signature or len(token) > 200:
            raise LinkRefused("invalid")
        try:
            body = _unb64(encoded)
        except ValueError:
            raise LinkRefused("invalid") from None
        if not hmac.compare_digest(self._sign(body), signature):
            raise LinkRefused("invalid")
        try:
            fields = json.loads(body)
            link = AnswerLink(
                appointment_id=int(fields["a"]), expires_at=datetime.fromtimestamp(int(fields["e"]), tz=UTC)
            )
        except (ValueError, KeyError, TypeError):
            raise LinkRefused("invalid") from None
        if now >= link.expires_at:
            raise LinkRefused("expired")
        return link

    def answer_page(self, link: AnswerLink) -> str:
        """The portal page where the applicant confirms, reschedules or cancels."""
        return f"{self._base}/a/{self.token(link)}"

    def voice_answer(self, link: AnswerLink) -> str:
        """Where a call's <Gather> posts the digit pressed."""
        return f"{self._base}/webhooks/twilio/voice/{self.token(link)}"

    def status_callback(self) -> str:
        """Where Twilio reports the delivery of messages and calls."""
        return f"{self._base}/webhooks/twilio/status"

    @property
    def public_url(self) -> str:
        return self._base
