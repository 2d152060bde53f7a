"""A department's way into a referral and the steps it may take there, shared by the link's pages, the liaison's
pages and the API (web/department_pages.py, web/department_api.py).

Two ways in. The signed link of the referral's e-mail (/r/{token}) needs no account: the token names the
referral and its generation, and a link made before the referral moved on (returned, closed) is refused as
such. A liaison account (Role.DEPARTMENT_LIAISON) reaches its own department's referrals by their id;
another department's referral is not found for it, so its existence is not revealed.

Every step is the domain's (followup.referrals, followup.information, followup.attachments), which locks
the referral and checks its state: a second press, a stale link or a closed referral is refused with its
reason and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from accounts import service as accounts
from cases import service as cases
from followup import attachments, department_desk, information, referrals, timers
from followup.models import AttachmentOwner, Department, Referral, ReferralState
from followup.referrals import ReferralRefused
from majlis.errors import N_, FieldError, InvalidInput
from majlis.numbers import whole_number
from notify.links import LinkRefused
from web.api_models import ID_LIMIT
from web.auth import signed_in_user
from web.keys import ATTACHMENTS, CLOCK, DB, LINKS
from web.public import status_url

ACKNOWLEDGE, UPDATE, ASK, ANSWER, RETURN = "acknowledge", "update", "ask", "answer", "return"
ACTIONS = (ACKNOWLEDGE, UPDATE, ASK, ANSWER, RETURN)
# The field each step's words come in, in forms and JSON bodies alike (acknowledging needs none).
TEXT_FIELDS: Mapping[str, str] = {UPDATE: "update", ASK: "question", ANSWER: "answer", RETURN: "reason"}
# What the department may do in each state; in the others it waits, or the referral has left it.
ALLOWED: Mapping[ReferralState, tuple[str, ...]] = {
    ReferralState.SENT: ACTIONS,
    ReferralState.ACKNOWLEDGED: (UPDATE, ASK, ANSWER, RETURN),
}
LINK_SUFFIX = " (link)"

MOVED_ON = N_("This link is no longer valid: the referral has moved on. Ask the follow-up team.")
CONFIRMATIONS: Mapping[str, str] = {
    ACKNOWLEDGE: N_("Thank you: the referral is acknowledged. The follow-up team can see that you are working on it."),
    UPDATE: N_("Your update is recorded in the request's history; the follow-up team can read it."),
    ASK: N_(
        "Your question has been sent to the applicant by SMS. The deadlines are paused until they answer; "
        "you will be told by e-mail."
    ),
    ANSWER: N_(
        "Your answer is recorded. The follow-up team reviews it and tells the applicant the outcome; "
        "the applicant is told that you have answered."
    ),
    RETURN: N_("The referral has been returned to the follow-up team with your reason."),
}
RETURNED_BY_LINK = N_("This link no longer works: the follow-up team decides where the request goes next.")


class NotFound(Exception):
    """No referral here for this visitor: a token we did not sign, an unknown referral, another department's."""


@dataclass(frozen=True)
class Access:
    """Who acts on which referral, and how they came."""

    referral_id: int
    # The link's generation; None for a liaison account, whose access does not expire with the referral's steps.
    generation: int | None
    # The liaison's account; None through the link.
    actor_id: int | None
    # How the referral's history names who acted.
    by: str
    # The address of the referral's page for this way in (its files and forms hang below it).
    page: str

    @property
    def by_link(self) -> bool:
        return self.generation is not None


async def by_link(request: web.Request, token: str) -> Access:
    """The access a signed link gives; NotFound when the token is not ours or names no referral."""
    try:
        referral_id, generation = request.app[LINKS].check_referral_token(token)
    except LinkRefused:
        raise NotFound() from None
    referral = await department_desk.get_referral(session=request[DB], referral_id=referral_id)
    if referral is None:
        raise NotFound()
    department = await request[DB].get_one(Department, referral.department_id)
    return Access(
        referral_id=referral_id,
        generation=generation,
        actor_id=None,
        by=department.name_ar + LINK_SUFFIX,
        page=f"/r/{token}",
    )


async def account_department(request: web.Request) -> Department | None:
    """The signed-in account's department; None for an account that belongs to none (an administrator)."""
    session = request[DB]
    account = await accounts.get_user(session=session, user_id=signed_in_user(request).id)
    if account is None or account.department_id is None:
        return None
    return await session.get(Department, account.department_id)


async def by_account(request: web.Request) -> Access:
    """The access of a liaison account to the referral in the path; NotFound unless it is their department's."""
    referral_id = whole_number(request.match_info["referral_id"])
    department = await account_department(request)
    referral = (
        await department_desk.get_referral(session=request[DB], referral_id=referral_id)
        if referral_id is not None and referral_id <= ID_LIMIT
        else None
    )
    if department is None or referral is None or referral.department_id != department.id:
        raise NotFound()
    return Access(
        referral_id=referral.id,
        generation=None,
        actor_id=signed_in_user(request).id,
        by=department.name_ar,
        page=f"/liaison/referrals/{referral.id}",
    )


async def current(request: web.Request, access: Access) -> Referral:
    """The referral as it stands now."""
    referral = await department_desk.get_referral(session=request[DB], referral_id=access.referral_id)
    if referral is None:
        raise NotFound()
    return referral


def moved_on(access: Access, referral: Referral) -> bool:
    """Whether the link was made before the referral moved on (it shows nothing and changes nothing then)."""
    return access.generation is not None and access.generation != referral.generation


def moved_on_refusal() -> ReferralRefused:
    return ReferralRefused("moved_on", MOVED_ON)


def allowed(referral: Referral) -> tuple[str, ...]:
    return ALLOWED.get(referral.state, ())


async def perform(
    request: web.Request, access: Access, action: str, fields: Mapping[str, str], uploads: Sequence[attachments.Upload]
) -> Referral:
    """Takes one step on the referral; InvalidInput names each field or file refused, ReferralRefused says why
    the step cannot be taken now. Either way nothing is written (the caller's transaction rolls back)."""
    session, clock = request[DB], request.app[CLOCK]
    referral_id, generation, actor_id = access.referral_id, access.generation, access.actor_id
    words = fields.get(TEXT_FIELDS.get(action, ""), "")
    if action == ACKNOWLEDGE:
        return await referrals.acknowledge(
            session=session,
            clock=clock,
            referral_id=referral_id,
            generation=generation,
            actor_id=actor_id,
            by=access.by,
        )
    if action == UPDATE:
        text = _update_text(words)
        return await referrals.post_update(
            session=session,
            clock=clock,
            referral_id=referral_id,
            generation=generation,
            actor_id=actor_id,
            by=access.by,
            text=text,
        )
    if action == RETURN:
        return await referrals.return_to_team(
            session=session,
            clock=clock,
            referral_id=referral_id,
            generation=generation,
            actor_id=actor_id,
            by=access.by,
            reason=words,
        )
    if action == ASK:
        referral = await referrals.lock(session=session, referral_id=access.referral_id, generation=access.generation)
        referrals.require(referral, timers.OWING)
        case = await cases.get_case(session=session, case_id=referral.case_id)
        assert case is not None
        await information.ask_applicant(
            session=session,
            clock=clock,
            case=case,
            question=words,
            actor_id=access.actor_id,
            status_url=status_url(request),
            referral=referral,
            by=access.by,
        )
        return referral
    if action == ANSWER:
        return await _answer(request, access, words, uploads)
    raise NotFound()


def _update_text(words: str) -> str:
    """The update's words; its errors say what is wrong without a field label (forms and JSON name it "update")."""
    text = words.strip()
    if not text:
        raise InvalidInput([FieldError("update", "missing", N_("Write the update before sending it."))])
    if len(text) > referrals.MAX_NOTE:
        limit = {"max": str(referrals.MAX_NOTE)}
        raise InvalidInput(
            [FieldError("update", "too_long", N_("The update must be at most {max} characters."), limit)]
        )
    return text


async def _answer(request: web.Request, access: Access, words: str, uploads: Sequence[attachments.Upload]) -> Referral:
    """The answer with its files: every field and file is checked before anything is written."""
    session, clock, store = request[DB], request.app[CLOCK], request.app[ATTACHMENTS]
    errors: list[FieldError] = []
    text = ""
    try:
        text = referrals.checked_text(words, "answer")
    except InvalidInput as exc:
        errors.extend(exc.errors)
    checked: list[attachments.CheckedUpload] = []
    try:
        checked = attachments.check_uploads(uploads, store=store)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    referral = await referrals.answer(
        session=session,
        clock=clock,
        referral_id=access.referral_id,
        generation=access.generation,
        actor_id=access.actor_id,
        by=access.by,
        text=text,
        status_url=status_url(request),
    )
    await attachments.store_uploads(
        session=session,
        clock=clock,
        store=store,
        case_id=referral.case_id,
        uploads=checked,
        added_by=AttachmentOwner.DEPARTMENT,
        added_by_id=access.actor_id,
        referral_id=referral.id,
    )
    return referral
