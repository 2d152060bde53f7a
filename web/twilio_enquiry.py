"""The enquiry line: a caller rings Majlis's number and hears the status of their requests (Twilio voice webhooks).

Twilio posts the incoming call here; the answer is TwiML: a keypad menu in Arabic first (1: the status of
your requests, 2: English, 0: the menu again), then the status read for the caller's own number. The caller's
number (From) is the proof, as the phone is on the status page: the network gives it, and only requests given
with that number are read. Like the other webhooks, only Twilio's signature lets a post in.
"""

from __future__ import annotations

from aiohttp import web
from twilio.twiml.voice_response import Gather, VoiceResponse  # type: ignore[import-untyped, unused-ignore]

from cases.phones import to_e164
from majlis.errors import N_
from majlis.settings import Settings
from notify.texts import say
from web.keys import CLOCK, DB, SETTINGS
from web.twilio_webhooks import NOT_SIGNED, signed_form, speak
from whatsapp_desk.status import NONE_FOUND, spoken_status

routes = web.RouteTableDef()

ENQUIRY = "/webhooks/twilio/enquiry"
MENU = "/webhooks/twilio/enquiry/menu"
# Seconds the caller has to press a key before the menu is said once more (then goodbye).
KEY_TIMEOUT = 6

WELCOME = N_("Welcome to the enquiry line of the open-door audience.")
CHOICES = N_("To hear the status of your requests, press 1. To hear this menu again, press 0.")
FOR_ENGLISH = N_("For English, press 2.")
# The Arabic menu offers English, said in English: it is for those who do not follow the Arabic.
OTHER_LANGUAGE: dict[str, tuple[tuple[str, str], ...]] = {"ar": (("en", FOR_ENGLISH),)}
NOT_ON_MENU = N_("That key is not on the menu.")
GOODBYE = N_("Thank you for calling. Goodbye.")


def _twiml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml", charset="utf-8")


def _absolute(settings: Settings, path: str) -> str:
    """The public address Twilio will post to, and sign: the same the signature check rebuilds."""
    return settings.public_url.rstrip("/") + path


def _menu(settings: Settings, language: str, *, again: bool, prefix: str = "") -> VoiceResponse:
    """The keypad menu in the language; without a key it is said once more, then the call ends."""
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
    if again:
        speak(response, settings, say(language, GOODBYE), language)
        response.hangup()
    else:
        response.redirect(_absolute(settings, f"{ENQUIRY}?lang={language}&again=1"), method="POST")
    return response


def _language(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else "ar"


@routes.post(ENQUIRY)
async def incoming_call(request: web.Request) -> web.Response:
    """A call to the enquiry number (and the menu said again when no key was pressed)."""
    if await signed_form(request) is None:
        return web.Response(status=403, text=NOT_SIGNED, content_type="text/plain", charset="utf-8")
    again = request.query.get("again") == "1"
    return _twiml(_menu(request.app[SETTINGS], _language(request), again=again))


@routes.post(MENU)
async def menu_choice(request: web.Request) -> web.Response:
    """The key pressed: the status of the caller's requests, the English menu, or the menu again."""
    form = await signed_form(request)
    if form is None:
        return web.Response(status=403, text=NOT_SIGNED, content_type="text/plain", charset="utf-8")
    settings = request.app[SETTINGS]
    language = _language(request)
    digits = form.get("Digits", "").strip()[:1]
    if digits == "2":
        return _twiml(_menu(settings, "en", again=False))
    if digits == "0":
        return _twiml(_menu(settings, language, again=False))
    if digits != "1":
        return _twiml(_menu(settings, language, again=True, prefix=say(language, NOT_ON_MENU)))
    response = VoiceResponse()
    # A withheld or foreign landline number gave no request: requests are made with a mobile number.
    phone = to_e164(form.get("From", ""))
    if phone is None:
        text = say(language, NONE_FOUND)
    else:
        text = await spoken_status(session=request[DB], clock=request.app[CLOCK], phone=phone, language=language)
    speak(response, settings, text, language)
    speak(response, settings, say(language, GOODBYE), language)
    response.hangup()
    return _twiml(response)
