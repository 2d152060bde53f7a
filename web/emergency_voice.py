"""The emergency line for citizens abroad (Twilio voice webhooks): an Arabic keypad menu, the emergency choice
put through to the agents' queue, and a missed call turned into a callback owed (emergency/calls.py).

The call (POST /webhooks/twilio/emergency) hears the menu in Arabic first: 1 an emergency now, 2 following
a report already made, 9 English. No key: the menu once more, then the caller is put through to an agent
anyway, since in doubt an emergency line must not hang up. Put through, the call is recorded (waiting) and
placed with TwiML <Enqueue> in the agents' queue, a plain Twilio queue without TaskRouter; the waitUrl tells
the caller to stay on the line. Agents take the longest-waiting caller with
`<Dial><Queue url="{public}/webhooks/twilio/emergency/connect">emergency-agents</Queue></Dial>` (their own
Twilio number or softphone): the connect webhook marks the call answered as the two are bridged. When the
caller leaves the queue, Twilio posts the result: bridged is answered; anything else (hung up, left, the
queue full, an error, redirected away) is a missed call, and an agent owes a callback. The call's status
callback is a safety net: a call still waiting when the call has ended is missed too.

Like Twilio's other webhooks, only Twilio's signature lets a post in (web/twilio_webhooks.signed_form).
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict
from twilio.twiml.voice_response import Gather, VoiceResponse  # type: ignore[import-untyped, unused-ignore]

from emergency import calls
from majlis.errors import N_
from majlis.settings import Settings
from notify.texts import say
from web.keys import CLOCK, DB, SETTINGS
from web.twilio_webhooks import MALFORMED, NOT_SIGNED, signed_form, speak

routes = web.RouteTableDef()

LINE = "/webhooks/twilio/emergency"
MENU = LINE + "/menu"
WAIT = LINE + "/wait"
QUEUE_RESULT = LINE + "/queue-result"
CONNECT = LINE + "/connect"
STATUS = LINE + "/status"
# The Twilio queue the agents dequeue from (created by Twilio on first use; at most 64 characters).
AGENTS_QUEUE = "emergency-agents"
# Seconds the caller has to press a key before the menu is said once more (then an agent).
KEY_TIMEOUT = 6
# Seconds of silence between the waiting message's repeats (Twilio asks the waitUrl again when it ends).
WAIT_PAUSE = 20
EMERGENCY_KEY, FOLLOW_KEY, ENGLISH_KEY = "1", "2", "9"
# Queue results in which the caller spoke with an agent; every other one leaves a callback owed.
BRIDGED = frozenset({"bridged", "bridging-in-process"})
# A call's final statuses: a call still waiting then was never answered.
CALL_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

WELCOME = N_("You have reached the emergency line of the Ministry of Foreign Affairs for citizens abroad.")
CHOICES = N_("For an emergency now, press 1. To follow a report you have already made, press 2.")
FOR_ENGLISH = N_("For English, press 9.")
# The Arabic menu offers English, said in English: it is for those who do not follow the Arabic.
OTHER_LANGUAGE: dict[str, tuple[tuple[str, str], ...]] = {"ar": (("en", FOR_ENGLISH),)}
NOT_ON_MENU = N_("That key is not on the menu.")
PUTTING_THROUGH = N_("Please stay on the line: we are putting you through to an agent.")
HOLD = N_(
    "All our agents are speaking with other callers. Please stay on the line: the next free agent will answer you."
)
POSITION = N_("You are number {position} in line.")
FOLLOW = N_(
    "Your report number was sent to you by text message. Keep it: with the number and your phone you can follow "
    "the report on the ministry's status page, and any agent of this line can help you with it."
)
CONNECTING = N_("An agent is answering your call now.")
CALLBACK = N_(
    "We could not put you through to an agent now. An agent will call you back at this number as soon as possible."
)
NO_NUMBER = N_(
    "We could not put you through to an agent now, and your number is hidden, so we cannot call you back. "
    "Please call again."
)
GOODBYE = N_("Thank you for calling. Goodbye.")


def _absolute(settings: Settings, path: str) -> str:
    """The public address Twilio will post to, and sign: the same the signature check rebuilds."""
    return settings.public_url.rstrip("/") + path


def _twiml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml", charset="utf-8")


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


def _language(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else "ar"


def _call_sid(form: MultiDict[str]) -> str:
    sid = form.get("CallSid", "").strip()
    return sid if 0 < len(sid) <= calls.MAX_SID else ""


def _menu(settings: Settings, language: str, *, again: bool, prefix: str = "") -> VoiceResponse:
    """The keypad menu; without a key it is said once more, and then the caller is put through to an agent."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1, action=_absolute(settings, f"{MENU}?lang={language}"), method="POST", timeout=KEY_TIMEOUT
    )
    if prefix:
        speak(gather, settings, prefix, language)
    if not again:
        speak(gather, settings, say(language, WELCOME), language)
    speak(gather, settings, say(language, CHOICES), language)
    for other, offer in OTHER_LANGUAGE.get(language, ()):
        speak(gather, settings, say(other, offer), other)
    response.append(gather)
    # The menu's own address with no key pressed puts the caller through (Twilio posts no Digits).
    after = f"{LINE}?lang={language}&again=1" if not again else f"{MENU}?lang={language}"
    response.redirect(_absolute(settings, after), method="POST")
    return response


async def _put_through(request: web.Request, form: MultiDict[str], language: str) -> web.Response:
    """Records the call as waiting (once per CallSid) and places it in the agents' queue."""
    sid = _call_sid(form)
    if not sid:
        return _plain(400, MALFORMED)
    await calls.record_call(
        session=request[DB], clock=request.app[CLOCK], call_sid=sid, caller=form.get("From", ""), language=language
    )
    settings = request.app[SETTINGS]
    response = VoiceResponse()
    speak(response, settings, say(language, PUTTING_THROUGH), language)
    response.enqueue(
        AGENTS_QUEUE,
        action=_absolute(settings, f"{QUEUE_RESULT}?lang={language}"),
        method="POST",
        wait_url=_absolute(settings, f"{WAIT}?lang={language}"),
        wait_url_method="POST",
    )
    return _twiml(response)


@routes.post(LINE)
async def incoming_call(request: web.Request) -> web.Response:
    """A call to the emergency line (and the menu said again when no key was pressed)."""
    if await signed_form(request) is None:
        return _plain(403, NOT_SIGNED)
    again = request.query.get("again") == "1"
    return _twiml(_menu(request.app[SETTINGS], _language(request), again=again))


@routes.post(MENU)
async def menu_choice(request: web.Request) -> web.Response:
    """The key pressed: an agent now, following a report, English; no key at all (the menu said twice): an agent."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    settings = request.app[SETTINGS]
    language = _language(request)
    digits = form.get("Digits", "").strip()[:1]
    if digits in (EMERGENCY_KEY, ""):
        return await _put_through(request, form, language)
    if digits == ENGLISH_KEY:
        return _twiml(_menu(settings, "en", again=False))
    if digits == FOLLOW_KEY:
        response = VoiceResponse()
        speak(response, settings, say(language, FOLLOW), language)
        # Back to the menu (an agent is one key away, and no key at all reaches one too).
        response.redirect(_absolute(settings, f"{LINE}?lang={language}&again=1"), method="POST")
        return _twiml(response)
    return _twiml(_menu(settings, language, again=True, prefix=say(language, NOT_ON_MENU)))


@routes.post(WAIT)
async def waiting(request: web.Request) -> web.Response:
    """What a caller in the agents' queue hears, again and again until an agent answers."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    settings, language = request.app[SETTINGS], _language(request)
    response = VoiceResponse()
    speak(response, settings, say(language, HOLD), language)
    position = form.get("QueuePosition", "").strip()
    if position.isascii() and position.isdigit() and 0 < len(position) <= 4:
        speak(response, settings, say(language, POSITION, position=str(int(position))), language)
    response.pause(length=WAIT_PAUSE)
    return _twiml(response)


@routes.post(CONNECT)
async def connect(request: web.Request) -> web.Response:
    """An agent dequeued the caller (the <Queue url> of the agents' side): the call is answered."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    sid = _call_sid(form)
    if not sid:
        return _plain(400, MALFORMED)
    call = await calls.call_answered(session=request[DB], clock=request.app[CLOCK], call_sid=sid)
    language = call.language if call is not None else _language(request)
    response = VoiceResponse()
    speak(response, request.app[SETTINGS], say(language, CONNECTING), language)
    return _twiml(response)


@routes.post(QUEUE_RESULT)
async def queue_result(request: web.Request) -> web.Response:
    """The caller left the agents' queue: answered when bridged, otherwise missed and owed a callback."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    sid = _call_sid(form)
    if not sid:
        return _plain(400, MALFORMED)
    session, clock = request[DB], request.app[CLOCK]
    settings, language = request.app[SETTINGS], _language(request)
    result = form.get("QueueResult", "").strip().lower()
    response = VoiceResponse()
    if result in BRIDGED:
        await calls.call_answered(session=session, clock=clock, call_sid=sid)
        response.hangup()
        return _twiml(response)
    # Recorded first, in case this call's put-through was never kept: a callback must not be lost.
    call = await calls.record_call(
        session=session, clock=clock, call_sid=sid, caller=form.get("From", ""), language=language
    )
    await calls.call_missed(session=session, clock=clock, call_sid=sid)
    if result != "hangup":
        # Still on the line (the queue was full, failed or let them go): told what happens next.
        speak(response, settings, say(language, CALLBACK if call.caller else NO_NUMBER), language)
    response.hangup()
    return _twiml(response)


@routes.post(STATUS)
async def call_status(request: web.Request) -> web.Response:
    """The call's status; one that ended while still waiting is missed. 204 even for a call Majlis does not know."""
    form = await signed_form(request)
    if form is None:
        return _plain(403, NOT_SIGNED)
    sid = _call_sid(form)
    if sid and form.get("CallStatus", "").strip().lower() in CALL_ENDED:
        await calls.call_missed(session=request[DB], clock=request.app[CLOCK], call_sid=sid)
    return web.Response(status=204)
