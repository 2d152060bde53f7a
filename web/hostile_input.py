"""The edge that reads every body, query and path before any handler does, and refuses what no handler can use.

Malformed input used to reach handlers and the database and come back as a 500 with a traceback in the log:
raw bytes that are not UTF-8 in a form, a NUL that PostgreSQL refuses to store, a lone surrogate (legal in a
JSON escape, unencodable in UTF-8), a JSON integer of thousands of digits (Python refuses to convert over
4,300), JSON nested a thousand deep (the parser runs out of stack), an id in the path beyond the database's
INTEGER. Here each becomes a 400 (or a 422 naming the field for the API, or a 404 for an id) with the
bilingual error, before the CSRF check and before a webhook's signature check read the form.

A handler then reads the same body (aiohttp keeps what it read), knowing it is text that can be stored.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from majlis.errors import N_, FieldError
from web.api_models import ID_LIMIT
from web.errors import invalid_input
from web.hostile_headers import REFUSED_HEADERS
from web.middleware import UNSAFE_METHODS, error_response, is_api

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Bodies nested deeper than any input Majlis takes (its deepest, an escalation ladder's levels, is 3).
MAX_DEPTH = 32
# The widest integer any column holds is a signed 32-bit INTEGER; more digits than a 64-bit number has are
# refused while parsing, before Python converts them.
INTEGER_MIN, INTEGER_MAX = -2_147_483_648, ID_LIMIT
_MAX_INTEGER_DIGITS = 20
# A path parameter declared as digits ({room_id:\d+}) names a row by its id.
_DIGIT_PARAMETER = re.compile(r"\(\?P<(\w+)>\\d")
_ASCII_ID = re.compile(r"[0-9]{1,10}")

NOT_TEXT = N_("What was sent is not text in UTF-8; nothing was saved.")
TOO_DEEP = N_("The request body is nested too deeply.")
NOT_JSON = N_("The request body is not valid JSON.")
BAD_CHARACTER = N_("{field} holds a character that cannot be kept (a NUL or a broken character).")
FORM_BAD_CHARACTER = N_(
    "The form holds a character that cannot be kept (a NUL or a broken character). Remove it and send the form again."
)
ADDRESS_BAD_CHARACTER = N_("The address holds a character that cannot be kept (a NUL or a broken character).")
OUT_OF_RANGE = N_("{field} must be between {min} and {max}.")
BAD_HEADER = N_("A header of the request holds bytes that are not text in UTF-8; nothing was saved.")

log = logging.getLogger(__name__)


class _TooLarge:
    """A JSON integer too long to convert: kept as a marker so the error can name its field."""


class _Refused(Exception):
    """A body no handler can use; the answer is ready."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def storable(text: str) -> bool:
    """False for text holding a NUL or a lone surrogate (neither can be stored as UTF-8 in PostgreSQL)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _integer(digits: str) -> int | _TooLarge:
    return _TooLarge() if len(digits.lstrip("-")) > _MAX_INTEGER_DIGITS else int(digits)


def _no_constant(name: str) -> object:
    # NaN and Infinity are not JSON (RFC 8259), though Python's parser takes them.
    raise ValueError(name)


def _leaves(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every key and value of a parsed body with its path; a body deeper than MAX_DEPTH raises RecursionError."""
    if len(path) > MAX_DEPTH:
        raise RecursionError(MAX_DEPTH)
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key
            yield from _leaves(inner, (*path, str(key)))
    elif isinstance(value, list):
        for inner in value:
            # Rows of a list are not named in field paths (pydantic_errors leaves indexes out too).
            yield from _leaves(inner, (*path, ""))
    else:
        yield path, value


def _json_problems(payload: object) -> list[FieldError]:
    errors: list[FieldError] = []
    for path, value in _leaves(payload):
        field = ".".join(p for p in path if p) or "body"
        if isinstance(value, str) and not storable(value):
            errors.append(FieldError(field, "bad_character", BAD_CHARACTER))
        elif isinstance(value, _TooLarge) or (
            isinstance(value, int) and not isinstance(value, bool) and not INTEGER_MIN <= value <= INTEGER_MAX
        ):
            limits = {"min": str(INTEGER_MIN), "max": str(INTEGER_MAX)}
            errors.append(FieldError(field, "out_of_range", OUT_OF_RANGE, limits))
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(FieldError(field, "out_of_range", OUT_OF_RANGE, {"min": "-1e308", "max": "1e308"}))
    return errors


async def _check_json(request: web.Request) -> None:
    body = await request.read()
    if not body:
        return
    try:
        text = body.decode(request.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise _Refused(error_response(request, 400, NOT_TEXT)) from None
    try:
        payload = json.loads(text, parse_int=_integer, parse_constant=_no_constant)
        errors = _json_problems(payload)
    except RecursionError:
        raise _Refused(error_response(request, 400, TOO_DEEP)) from None
    except json.JSONDecodeError:
        # Plain bad syntax: each handler answers it as its contract says (the public API 400, the staff APIs
        # 422 naming the body), and can, since the parser fails cleanly on it.
        return
    except ValueError:
        raise _Refused(error_response(request, 400, NOT_JSON)) from None
    if errors:
        raise _Refused(invalid_input(request, errors))


def _text_of(value: object) -> str:
    """A form field's text; for a file, its name as web.uploads will read it (percent-decoded)."""
    if isinstance(value, web.FileField):
        return unquote(value.filename or "")
    return value if isinstance(value, str) else ""


async def _check_form(request: web.Request) -> None:
    try:
        form = await request.post()
    except (ValueError, LookupError, HttpProcessingError):
        # Raw bytes that are not UTF-8 (UnicodeDecodeError is a ValueError), a charset Python does not know,
        # a multipart body aiohttp cannot split, or a part's header it cannot read (InvalidHeader).
        raise _Refused(error_response(request, 400, NOT_TEXT)) from None
    bad = [key for key, value in form.items() if not (storable(key) and storable(_text_of(value)))]
    if not bad:
        return
    if is_api(request):
        raise _Refused(invalid_input(request, [FieldError(key, "bad_character", BAD_CHARACTER) for key in bad]))
    raise _Refused(error_response(request, 400, FORM_BAD_CHARACTER))


def _check_address(request: web.Request) -> None:
    if request.match_info.http_exception is not None:
        # No route takes this address or method (an id of more digits than its route allows, among others):
        # the router's 404 or 405 now, before a CSRF check would answer a form's 403 for a page that is not there.
        raise request.match_info.http_exception
    for name, value in request.match_info.items():
        if not storable(value):
            raise web.HTTPNotFound()
        if name in _digit_parameters(request) and not (_ASCII_ID.fullmatch(value) and int(value) <= ID_LIMIT):
            # An id beyond the database's INTEGER names no row (PostgreSQL would refuse to compare it).
            raise web.HTTPNotFound()
    for key, value in request.query.items():
        if not (storable(key) and storable(value)):
            raise _Refused(error_response(request, 400, ADDRESS_BAD_CHARACTER))


def _digit_parameters(request: web.Request) -> set[str]:
    route = request.match_info.route
    pattern = route.resource.get_info().get("pattern") if route.resource is not None else None
    return set(_DIGIT_PARAMETER.findall(pattern.pattern)) if isinstance(pattern, re.Pattern) else set()


def _carries_json(request: web.Request) -> bool:
    ctype = request.content_type
    if ctype == "application/json" or ctype.endswith("+json"):
        return True
    # The API reads JSON whatever the client labels it; only the calendar import takes another body (text/calendar).
    return is_api(request) and ctype != "text/calendar"


@web.middleware
async def hostile_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuses a header, path, query or body that holds what cannot be stored or parsed; else hands the request on."""
    refused_headers = request.get(REFUSED_HEADERS)
    if refused_headers:
        # web.hostile_headers left them out of the request; the answer waited for the language to be known.
        log.info("%s %s: refused for bytes that are not UTF-8 in %s", request.method, request.path, refused_headers)
        return error_response(request, 400, BAD_HEADER)
    try:
        _check_address(request)
        if request.method in UNSAFE_METHODS and request.body_exists:
            if request.content_type in FORM_TYPES:
                await _check_form(request)
            elif _carries_json(request):
                await _check_json(request)
    except _Refused as refused:
        return refused.response
    return await handler(request)


class MalformedRequestsAtInfo(logging.Filter):
    """Turns aiohttp's ERROR with a traceback for a request it cannot parse into one INFO line.

    A request line or header over 8,190 bytes, or bytes that are not HTTP, are answered 400 by aiohttp's own
    parser, before any middleware; it logs them as errors of the server. They are the client's error: one line
    at INFO says what happened, without a traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            # The kind of fault, not its text: that quotes the request line, which may hold a phone number.
            record.msg, record.args = "malformed request refused with %s (%s)", (exc.code, type(exc).__name__)
            record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_requests() -> None:
    """Installs MalformedRequestsAtInfo on aiohttp's server logger, once however many apps are made."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestsAtInfo) for f in server_log.filters):
        server_log.addFilter(MalformedRequestsAtInfo())
