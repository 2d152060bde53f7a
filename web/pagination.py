"""Paging a staff list: reading ?page=, refusing what is not a page, and the pager under the list.

The rule, one for every list: a page number that is not a whole number from 1 (letters, 0, a minus sign,
Arabic-Indic digits, more than six digits) is refused with 400 and a message naming the field, because such a
link was typed or cut by hand and silently showing page 1 would let the reader believe they were elsewhere. A page
past the last shows the last (majlis/paging.py): such a link was real a moment ago and the list shrank meanwhile.

The pager (templates/_pager.html) says "Page X of Y" with its numbers isolated and links to the previous and next
pages keeping every other query parameter (a filter, a search), page 1 without ?page=.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from aiohttp import web

from majlis.errors import N_, FieldError, InvalidInput
from web.middleware import error_response

PAGE_FIELD: Final = "page"
MAX_DIGITS: Final = 6
PAGE_MESSAGE: Final = N_("Page: give a whole number from 1.")


def asked_page(request: web.Request) -> int | None:
    """The page asked for (1 when none is), or None when ?page= is not a page number."""
    raw = request.query.get(PAGE_FIELD, "")
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS or int(raw) < 1:
        return None
    return int(raw)


def page_or_invalid(request: web.Request) -> int:
    """The page asked for; InvalidInput naming the page when it is not one (for handlers that answer InvalidInput
    already: a search form shows it by its box, the API as 422)."""
    number = asked_page(request)
    if number is None:
        raise InvalidInput([FieldError(PAGE_FIELD, "not_a_page", PAGE_MESSAGE)])
    return number


def refused(request: web.Request) -> web.Response:
    """The answer to a page number that is not one: 400, the field named, in the reader's language."""
    return error_response(request, 400, PAGE_MESSAGE)


def page_href(request: web.Request, number: int) -> str:
    """This list's address at page `number`, its other query parameters kept (page 1 without ?page=)."""
    query = {key: value for key, value in request.rel_url.query.items() if key != PAGE_FIELD}
    if number > 1:
        query[PAGE_FIELD] = str(number)
    return str(request.rel_url.with_query(query))


class PageOf(Protocol):
    """A page of a list: majlis.paging.Paged, or the search's cases.search.SearchPage."""

    @property
    def page(self) -> int: ...
    @property
    def pages(self) -> int: ...
    @property
    def total(self) -> int: ...


@dataclass(frozen=True)
class Pager:
    """What the pager macro shows: where we are, and the links either way (None at either end)."""

    number: int
    pages: int
    total: int
    label: str
    previous: str | None
    next: str | None

    @property
    def shown(self) -> bool:
        return self.pages > 1


def pager(request: web.Request, paged: PageOf, label: str) -> Pager:
    """The pager for `paged`; `label` (marked with N_) names the list for a screen reader's navigation."""
    return Pager(
        number=paged.page,
        pages=paged.pages,
        total=paged.total,
        label=label,
        previous=page_href(request, paged.page - 1) if paged.page > 1 else None,
        next=page_href(request, paged.page + 1) if paged.page < paged.pages else None,
    )
