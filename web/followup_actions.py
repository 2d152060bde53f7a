"""The follow-up team's actions on a referral by name, shared by its pages and its API: fields in, one call.

Fields arrive as text (a form, or a JSON body whose shape the API has already checked). The domain checks
their meaning and refuses with InvalidInput (renamed here to the fields the team fills in) or a
DomainError (ReferralRefused, ReferralNotFound), which each caller turns into its own kind of answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from followup import escalation, referrals, team
from followup.models import Referral
from majlis.errors import FieldError, InvalidInput, required
from web.auth import signed_in_user
from web.keys import CLOCK, DB
from web.public import status_url

Perform = Callable[[web.Request, int, Mapping[str, str]], Awaitable[None]]
TRUE = frozenset({"1", "true", "on", "yes"})


def renamed(exc: InvalidInput, names: Mapping[str, str]) -> InvalidInput:
    """The same problems under the names of the fields the team filled in."""
    return InvalidInput([FieldError(names.get(e.field, e.field), e.code, e.message, e.params) for e in exc.errors])


async def _remind(request: web.Request, referral_id: int, fields: Mapping[str, str]) -> None:
    await referrals.remind(
        session=request[DB],
        clock=request.app[CLOCK],
        referral_id=referral_id,
        actor_id=signed_in_user(request).id,
        by_sms=fields.get("sms", "").lower() in TRUE,
        note=fields.get("note", ""),
    )


async def _call(request: web.Request, referral_id: int, fields: Mapping[str, str]) -> None:
    try:
        await referrals.note_call(
            session=request[DB],
            clock=request.app[CLOCK],
            referral_id=referral_id,
            actor_id=signed_in_user(request).id,
            text=fields.get("note", ""),
        )
    except InvalidInput as exc:
        raise renamed(exc, {"text": "note"}) from None


async def _escalate(request: web.Request, referral_id: int, fields: Mapping[str, str]) -> None:
    await escalation.escalate_now(
        session=request[DB],
        clock=request.app[CLOCK],
        referral_id=referral_id,
        actor_id=signed_in_user(request).id,
        reason=fields.get("reason", ""),
    )


async def _extend(request: web.Request, referral_id: int, fields: Mapping[str, str]) -> None:
    session = request[DB]
    reason = fields.get("reason", "")
    try:
        minutes = await team.extension_minutes(
            session=session, referral_id=referral_id, amount=fields.get("amount", ""), unit=fields.get("unit", "")
        )
    except InvalidInput as exc:
        # The reason's problem is listed with the amount's, not after it is corrected.
        missing = [] if reason.strip() else [required("reason")]
        raise InvalidInput([*exc.errors, *missing]) from None
    try:
        await referrals.extend(
            session=session,
            clock=request.app[CLOCK],
            referral_id=referral_id,
            actor_id=signed_in_user(request).id,
            minutes=minutes,
            reason=reason,
        )
    except InvalidInput as exc:
        raise renamed(exc, {"minutes": "amount"}) from None


async def _close(request: web.Request, referral_id: int, fields: Mapping[str, str]) -> None:
    await referrals.close(
        session=request[DB],
        clock=request.app[CLOCK],
        referral_id=referral_id,
        actor_id=signed_in_user(request).id,
        outcome=fields.get("outcome", ""),
        status_url=status_url(request),
    )


# The last part of each action's path, on the pages and in the API.
ACTIONS: Mapping[str, Perform] = {
    "remind": _remind,
    "call": _call,
    "escalate": _escalate,
    "extend": _extend,
    "close": _close,
}


async def refer(request: web.Request, tracking_number: str, codes: list[str], directive: str) -> list[Referral]:
    """Sends the referred request to the departments named by code, with the directive."""
    return await team.refer_again(
        session=request[DB],
        clock=request.app[CLOCK],
        tracking_number=tracking_number,
        department_codes=codes,
        directive=directive,
        actor_id=signed_in_user(request).id,
        status_url=status_url(request),
    )
