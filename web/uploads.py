"""Bodies that carry files: which routes take them, how large such a body may be, and the files in a form.

The application reads at most `max_body_bytes` of any body (aiohttp's client_max_size). A route marked with
`@accepts_uploads` reads up to `Settings.upload_body_bytes` instead: every file at its largest and the
form's fields, and no more, so no body is unbounded. The middleware reads such a body before the CSRF check
does, so a malformed multipart body is a 400 rather than an error of ours, and a body over the bound a 413.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from followup.attachments import Upload
from web.keys import SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

UPLOADS_ATTRIBUTE = "__majlis_uploads__"
FILES_FIELD = "files"


def accepts_uploads(handler: H) -> H:
    """Marks a handler whose body may carry attachments (read with the larger bound)."""
    setattr(handler, UPLOADS_ATTRIBUTE, True)
    return handler


def takes_uploads(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, UPLOADS_ATTRIBUTE, False))


@web.middleware
async def upload_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gives the routes that take attachments their larger body bound; every other keeps the application's."""
    if request.method != "POST" or not takes_uploads(request):
        return await handler(request)
    larger = request.clone(client_max_size=request.app[SETTINGS].upload_body_bytes)
    try:
        form = await larger.post()
    except (ValueError, HttpProcessingError) as exc:
        # aiohttp's multipart reader says "malformed" with ValueError (and its subclasses), and a part's
        # header it cannot read (a control character in a field's name) with InvalidHeader.
        raise web.HTTPBadRequest() from exc
    try:
        return await handler(larger)
    finally:
        # aiohttp spools each file to a temporary file and leaves closing it to us.
        for value in form.values():
            if isinstance(value, web.FileField):
                value.file.close()


def uploads_in(form: MultiDictProxy[Any], field: str = FILES_FIELD) -> list[Upload]:
    """The files sent in the form's field; an empty file input (no name, no bytes) is not a file."""
    found = []
    for value in form.getall(field, []):
        if isinstance(value, web.FileField):
            # Browsers write a quote or a line break in a name as %22, %0D, %0A (the HTML standard's multipart
            # encoding), and some clients (aiohttp's among them) percent-encode every name that is not ASCII.
            found.append(Upload(filename=unquote(value.filename), file=value.file))
    return found
