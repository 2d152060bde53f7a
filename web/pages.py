"""Rendering pages with what every template needs: language, user, CSRF token, dates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup, escape

from majlis.clock import riyadh
from majlis.dates import dual_date, dual_datetime
from majlis.i18n import RIGHT_TO_LEFT, in_language
from web.i18n import LANGUAGES
from web.keys import CATALOGS, CLOCK, LANGUAGE, USER
from web.notices import NOTICE_COOKIE, waiting_notice
from web.security import csrf_token


def gettext_for(request: web.Request) -> Any:
    catalogs = request.app[CATALOGS]
    language = request.get(LANGUAGE, "ar")

    def _(message: str, **params: object) -> str:
        return catalogs.gettext(language, message, **params)

    return _


def in_page(text: str, params: Mapping[str, object]) -> Markup | str:
    """A translated text with its placeholders filled for a page: each value escaped unless it is markup already,
    so a number wrapped by the `ltr` filter (<bdi dir="ltr">) stays an element inside the sentence instead of
    showing as escaped tags."""
    return escape(text).format(**params) if params else text


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    language = request.get(LANGUAGE, "ar")
    catalogs = request.app[CATALOGS]
    base: dict[str, Any] = {
        "_": lambda message, **params: in_page(catalogs.gettext(language, message), params),
        # One English word said two ways in Arabic (a message's channel, a request's): its msgctxt chooses.
        "_p": lambda context, message, **params: in_page(catalogs.pgettext(language, context, message), params),
        # A thing kept with a name in each language (a centre, a category, a calendar): the reader's, else the other.
        "named": lambda thing: in_language(language, thing.name_ar, thing.name_en),
        "_n": lambda singular, plural, count, **params: in_page(
            catalogs.plural_form(language, singular, plural, count), {"count": count, **params}
        ),
        "lang": language,
        "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "other_lang": next(code for code in LANGUAGES if code != language),
        "user": request.get(USER),
        "csrf_token": csrf_token(request),
        # Where the language switch returns to: a GET page, or the start for a form's answer.
        "path": request.path_qs if request.method == "GET" else "/",
        "today": dual_date(request.app[CLOCK].now(), language),
        "dual_date": lambda value: dual_date(value, language),
        "dual_datetime": lambda value: dual_datetime(value, language),
        "riyadh_time": lambda value: riyadh(value).strftime("%H:%M"),
        "static": lambda name: str(request.app.router["static"].url_for(filename=name)),
        "options": lambda mapping: [(value, catalogs.gettext(language, label)) for value, label in mapping.items()],
    }
    base.update(context or {})
    base.setdefault("notice_done", waiting_notice(request, catalogs, language))
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    if request.cookies.get(NOTICE_COOKIE):
        response.del_cookie(NOTICE_COOKIE, path="/")  # shown once
    return response
