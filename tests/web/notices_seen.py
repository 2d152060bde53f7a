"""The check that a staff action's redirect leaves its notice (web.notices) on the next page once, and only once."""

from __future__ import annotations

import re

from aiohttp import ClientResponse

from tests.factories import Client

_NOTICE = re.compile(r'<p class="notice notice-done" role="status">(.*?)</p>', re.S)


async def shown_once(client: Client, response: ClientResponse, text: str) -> str:
    """Follows a 303 (posted with allow_redirects=False): its page says `text` in the one notice, a second look
    at the same page says nothing. Returns the first page."""
    assert response.status == 303, response.status
    location = response.headers["Location"]
    page = await (await client.get(location)).text()
    assert _NOTICE.findall(page) == [text], _NOTICE.findall(page)
    assert _NOTICE.findall(await (await client.get(location)).text()) == []
    return page


def isolated(value: str) -> str:
    """A parameter as the notice shows it (majlis.bidi.first_strong)."""
    return f"\u2068{value}\u2069"
