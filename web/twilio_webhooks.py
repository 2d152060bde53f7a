"""Twilio's webhooks: WhatsApp messages to the desk, the confirmation call's keypad answer, delivery reports.

Their only authority is Twilio's signature (`X-Twilio-Signature`, an HMAC of
the address and the posted fields with the account's auth token), so they
carry no CSRF token and need no sign-in. The address signed is the public one
Twilio called: a proxy sits in front of Majlis, so the URL aiohttp sees (its
host, its scheme) is not the one Twilio signed.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped, unused-ignore]
from twilio.twiml.voice_response import Gather, VoiceResponse  # type: ignore[import-untyped, unused-ignore]

from majlis.bidi import without_bidi_controls
from majlis.settings import Settings
from notify import delivery
from notify.links import LinkRefused
from scheduler import replies
from scheduler.confirmations import policy_from
from scheduler.reply_texts import audience_passed
from web.keys import ATTACHMENTS, CLOCK, DB, LINKS, MEDIA_FETCHER, SETTINGS
from web.public import status_url
from whatsapp_desk import desk
from whatsapp_desk.context import MAX_MEDIA, DeskContext, Inbound
from whatsapp_desk.media import MediaRef

routes = web.RouteTableDef()

SIGNATURE_HEADER = "X-Twilio-Signature"
# Plain and short: nobody but Twilio (or someone probing) reads it.
NOT_SIGNED = "طلب غير موقّع من Twilio.\nNot a request signed by Twilio.\n"
MALFORMED = "طلب ناقص.\nA required field is missing.\n"
# Provider ids are 34 characters; a longer one is not Twilio's and would not fit the column.
MAX_SID = 56


def public_url(request: web.Request) -> str:
    """The address Twilio called and signed: the public address, then the path and query as sent."""
    return request.app[SETTINGS].public_url.rstrip("/") + request.raw_path


async def signed_form(request: web.Request) -> MultiDict[str] | None:
    """The posted fields if Twilio signed them with our auth token, else None (no token configured: None)."""
    token = request.app[SETTINGS].twilio_auth_token.get_secret_value()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    form = await request.post()
    if not token or not signature:
        return None
    fields: MultiDict[str] = MultiDict()
    for name, value in form.items():
        if not isinstance(value, str):
            return None  # Twilio posts plain form fields, never files
        fields.add(name, value)
    if not RequestValidator(token).validate(public_url(request), fields, signature):
        return None
    return fields


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


def _twiml(xml: object) -> web.Response:
    return web.Response(text=str(xml), content_type="text/xml", charset="utf-8")


def _sid(value: str) -> str:
    return value.strip() if 0 < len(value.strip()) <= MAX_SID else ""


def _media(form: MultiDict[str]) -> tuple[MediaRef, ...]:
    """The files Twilio announced (NumMedia, MediaUrlN, MediaContentTypeN), at most MAX_MEDIA."""
    try:
        count = int(form.get("NumMedia", "0").strip() or "0")
    except ValueError:
        count = 0
    found = []
    for index in range(max(0, min(count, MAX_MEDIA))):
        url = form.get(f"MediaUrl{index}", "").strip()
        if url:
            found.append(MediaRef(url=url, content_type=form.get(f"MediaContentType{index}", "").strip()[:100]))
    return tuple(found)


@routes.post("/webhooks/twilio/whatsapp")
async def whatsapp(request: web.Request) -> web.Response:
    """A WhatsApp message to the desk; answered in the same exchange with TwiML <Message> (or nothing)."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    sid = _sid(form.get("MessageSid", ""))
    sender = form.get("From", "").strip().removeprefix("whatsapp:")
    if not sid or not sender:
        return _plain(400, MALFORMED)
    app = request.app
    reply = await desk.receive(
        session=request[DB],
        clock=app[CLOCK],
        inbound=Inbound(sender=sender[:20], body=form.get("Body", ""), message_sid=sid, media=_media(form)),
        context=DeskContext.from_settings(app[SETTINGS], fetcher=app.get(MEDIA_FETCHER), store=app[ATTACHMENTS]),
    )
    response = MessagingResponse()
    if reply.text:
        response.message(reply.text)
    return _twiml(response)


def speak(target: VoiceResponse | Gather, settings: Settings, text: str, language: str) -> None:
    """Says the text with the voice set for its language (no Twilio voice speaks Saudi Arabic; see settings)."""
    voice, spoken = settings.voice_for(language)
    # Spoken without the bidi isolates a written text carries (see notify.twilio_channels.call_twiml).
    target.say(without_bidi_controls(text), voice=voice, language=spoken)


def _say(response: VoiceResponse, request: web.Request, text: str, language: str) -> None:
    speak(response, request.app[SETTINGS], text, language)


@routes.post("/webhooks/twilio/voice/{token}")
async def voice(request: web.Request) -> web.Response:
    """The key pressed during a confirmation call; the signed token in the path names the appointment."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    response = VoiceResponse()
    try:
        link = request.app[LINKS].check(request.match_info["token"], now=request.app[CLOCK].now())
    except LinkRefused as refused:
        if refused.reason != "expired":
            return _plain(403, NOT_SIGNED)
        # Whose audience is not known without a valid link: said in both languages.
        for language in ("ar", "en"):
            _say(response, request, audience_passed(language), language)
        response.hangup()
        return _twiml(response)
    call_sid = _sid(form.get("CallSid", ""))
    if not call_sid:
        return _plain(400, MALFORMED)
    reply = await replies.keypad_answer(
        session=request[DB],
        clock=request.app[CLOCK],
        appointment_id=link.appointment_id,
        digits=form.get("Digits", "")[:8],
        call_sid=call_sid,
        policy=policy_from(request.app[SETTINGS]),
        status_url=status_url(request),
    )
    _say(response, request, reply.text, reply.language)
    response.hangup()
    return _twiml(response)


@routes.post("/webhooks/twilio/status")
async def status_callback(request: web.Request) -> web.Response:
    """A message's or call's new delivery status. 204 even for an id Majlis does not know, so Twilio stops."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    sid = _sid(form.get("MessageSid", "") or form.get("CallSid", ""))
    status = form.get("MessageStatus", "") or form.get("CallStatus", "")
    if sid and status:
        await delivery.record_delivery(
            session=request[DB],
            clock=request.app[CLOCK],
            provider_id=sid,
            status=status,
            error_code=form.get("ErrorCode") or None,
        )
    return web.Response(status=204)
