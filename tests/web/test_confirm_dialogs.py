"""Irreversible actions ask first (data-confirm, web/static/confirm.js), a removed holiday can be put back for a
short while, and every page carries the favicon and the dialog's script; on both databases (the dialog itself is
tested in Chromium: tests/e2e/test_confirm_dialog.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler import calendar
from tests.factories import Client, csrf_token, make_staff, sign_in
from web.i18n import Catalogs

Sessions = async_sessionmaker[AsyncSession]
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
# Actions that cannot be taken back by the same button: each such form asks first.
IRREVERSIBLE = re.compile(
    r"/(revoke|revoke-others|remove|deactivate|close|block|unpair|reset-password|reset-two-factor)\b"
)
# Pages whose forms their own authors mark (the protocol calendar, the audit desk's case).
OTHERS = {
    "protocol/calendar.html",
    "protocol/calendar_grid.html",
    "protocol/calendar_move_form.html",
    "audit/case.html",
}
FORM = re.compile(r"<form\b[^>]*>", re.S)
HOLIDAY = date(2026, 12, 17)


def test_every_irreversible_form_in_the_templates_asks_first() -> None:
    unasked = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        name = template.relative_to(TEMPLATES).as_posix()
        if name in OTHERS:
            continue
        for tag in FORM.findall(template.read_text()):
            action = re.search(r'action="([^"]*)"', tag)
            irreversible = action and 'method="post"' in tag and IRREVERSIBLE.search(action.group(1))
            if irreversible and "data-confirm=" not in tag:
                unasked.append(f"{name}: {action.group(1) if action else ''}")
    assert unasked == []


async def test_the_administrators_irreversible_actions_ask_in_arabic(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "admin")
    page = await (await client.get("/admin/users")).text()
    asked = Catalogs().gettext("ar", "Deactivate this account? Its holder can no longer sign in.")
    deactivate = re.search(r'<form[^>]*action="/admin/users/\d+/deactivate"[^>]*>', page)
    assert deactivate and f'data-confirm="{asked}"' in deactivate.group(0)
    assert re.search(r'<form[^>]*/reset-password"[^>]*data-confirm="[^"]+"', page)
    # Every page: the dialog's script, its "go back" in the reader's language, and the favicon.
    assert re.search(r'<script src="/static/confirm\.js\?v=[^"]+" data-no="لا، تراجع" defer>', page)
    assert re.search(r'<link rel="icon" href="/static/favicon\.svg\?v=[^"]+" type="image/svg\+xml">', page)
    icon = await client.get("/static/favicon.svg")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert (await icon.text()).startswith("<svg")


async def test_a_removed_holiday_can_be_put_back_for_two_minutes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    async with transaction(sessions) as session:
        await calendar.add_holiday(session=session, clock=clock, actor_id=None, day=HOLIDAY, name="عيد")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/protocol/holidays")
    removed = await client.post(
        f"/protocol/holidays/{HOLIDAY.isoformat()}/remove", data={"csrf_token": token}, allow_redirects=False
    )
    assert removed.status == 303 and removed.headers["Location"] == f"/protocol/holidays?removed={HOLIDAY}"
    page = await (await client.get(removed.headers["Location"])).text()
    catalogs = Catalogs()
    assert catalogs.gettext("ar", "The holiday is removed; that day's sessions are back in the calendar.") in page
    undo = re.search(
        r'<form method="post" action="/protocol/holidays" class="notice undo-removal".*?</form>', page, re.S
    )
    assert undo and f'value="{HOLIDAY}"' in undo.group(0) and 'value="عيد"' in undo.group(0)
    put_back = await client.post(
        "/protocol/holidays",
        data={"csrf_token": token, "day": HOLIDAY.isoformat(), "name": "عيد"},
        allow_redirects=False,
    )
    assert put_back.status == 303
    async with sessions() as session:
        assert [h.day for h in await calendar.holidays(session=session)] == [HOLIDAY]
    # Back on the page, or after the window, or for someone else: nothing to undo.
    assert "undo-removal" not in await (await client.get(f"/protocol/holidays?removed={HOLIDAY}")).text()
    await client.post(f"/protocol/holidays/{HOLIDAY.isoformat()}/remove", data={"csrf_token": token})
    clock.advance(calendar.UNDO_WINDOW + timedelta(seconds=1))
    assert "undo-removal" not in await (await client.get(f"/protocol/holidays?removed={HOLIDAY}")).text()
    clock.advance(-calendar.UNDO_WINDOW)
    assert "undo-removal" in await (await client.get(f"/protocol/holidays?removed={HOLIDAY}")).text()
    assert "undo-removal" not in await (await client.get("/protocol/holidays?removed=not-a-day")).text()
