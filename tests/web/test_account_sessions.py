"""Staff sessions: idle and absolute ends, the CSRF token bound to the session, one's own sessions and their
revocation, password change and reset, deactivation — each revocation effective on the very next request."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import two_factor
from accounts.models import AuditEntry, LoginAttempt, RecoveryCode, StaffUser
from accounts.roles import Role
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import make_settings, start_client
from tests.factories import PASSWORD, Client, csrf_token, make_staff, sign_in
from tests.web.notices_seen import shown_once
from web.keys import SESSIONS, SETTINGS

Sessions = async_sessionmaker[AsyncSession]
NEW_PASSWORD = "another-long-password"


@pytest.fixture
async def second(client: Client) -> AsyncIterator[Client]:
    """A second browser on the same server, with its own cookies."""
    jar = CookieJar(unsafe=True, treat_as_secure_origin=[str(client.server.make_url("/"))])
    browser: Client = TestClient(client.server, cookie_jar=jar)  # type: ignore[assignment]  # the same server
    yield browser
    # Only its own connection pool: the server belongs to the first browser.
    await browser.session.close()


async def signed_in(browser: Client) -> bool:
    """Whether the browser's session still opens a staff page (else it is sent to sign in)."""
    response = await browser.get("/staff", allow_redirects=False)
    assert response.status in (200, 303)
    return response.status == 200


async def actions(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_a_session_ends_after_its_idle_time_and_at_its_absolute_end(
    database_url: str, clock: FrozenClock
) -> None:
    # The service's own idle time (the suite's settings stretch it: tests/conftest.py).
    client = await start_client(create_app(make_settings(database_url, session_idle_minutes=30), clock=clock))
    try:
        await _idle_then_absolute_end(client, client.app[SESSIONS], clock)
    finally:
        await client.close()


async def _idle_then_absolute_end(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    # Each request within 30 minutes of the last keeps it alive: 29 + 29 minutes are more than the idle time.
    for _ in range(2):
        clock.advance(timedelta(minutes=29))
        assert await signed_in(client)
    clock.advance(timedelta(minutes=31))
    assert not await signed_in(client)
    # Used without pause, it still ends at the absolute end (session_hours = 10 after sign-in).
    await sign_in(client, "audit")
    for _ in range(21):
        clock.advance(timedelta(minutes=28))
        assert await signed_in(client)
    clock.advance(timedelta(minutes=28))
    assert not await signed_in(client)


async def test_the_csrf_token_belongs_to_the_session_and_changes_at_sign_in(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    before = await csrf_token(client)
    await sign_in(client, "audit")
    first = await csrf_token(client, "/staff")
    assert first != before
    # The token seen before signing in does not carry a signed-in form.
    refused = await client.post("/account/sessions/revoke-others", data={"csrf_token": before})
    assert refused.status == 403
    # Nor does another session's, even of the same account.
    await sign_in(second, "audit")
    other = await csrf_token(second, "/staff")
    assert other != first
    assert (await client.post("/account/sessions/revoke-others", data={"csrf_token": other})).status == 403
    # A new sign-in in the same browser: a new token, and the old one is worth nothing.
    await sign_in(client, "audit")
    assert await csrf_token(client, "/staff") not in (first, other)
    assert (await client.post("/logout", data={"csrf_token": first}, allow_redirects=False)).status == 403


async def test_own_sessions_are_listed_and_others_signed_out(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    await sign_in(second, "protocol")
    page = await client.get("/account/sessions", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"})
    text = await page.text()
    assert page.status == 200 and text.count('name="session"') == 2 and 'id="current-session"' in text
    assert "127.0.0.1" in text
    token = await csrf_token(client, "/account/sessions")
    response = await client.post("/account/sessions/revoke-others", data={"csrf_token": token}, allow_redirects=False)
    await shown_once(client, response, "سُجِّل الخروج من جلساتك الأخرى.")
    assert not await signed_in(second)
    assert await signed_in(client)
    # Another session signed out by its key: this one stays, and says what was done.
    await sign_in(second, "protocol")
    listing = await (await client.get("/account/sessions")).text()
    current = re.search(r'id="current-session">.*?name="session" value="([0-9a-f]+)"', listing, re.S)
    others = set(re.findall(r'name="session" value="([0-9a-f]+)"', listing)) - {current.group(1) if current else ""}
    assert current is not None and len(others) == 1
    data = {"csrf_token": token, "session": others.pop()}
    ended = await client.post("/account/sessions/revoke", data=data, allow_redirects=False)
    await shown_once(client, ended, "سُجِّل الخروج من الجلسة.")
    assert not await signed_in(second)
    # Signing out one session by its key: here this browser's own.
    keys = re.findall(r'name="session" value="([0-9a-f]+)"', await (await client.get("/account/sessions")).text())
    assert len(keys) == 1
    data = {"csrf_token": token, "session": keys[0]}
    assert (await client.post("/account/sessions/revoke", data=data, allow_redirects=False)).status == 303
    assert not await signed_in(client)
    assert {"staff.sign_out_others", "staff.session_revoke"} <= set(await actions(sessions))


async def test_changing_the_password_signs_out_everywhere_else(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    await sign_in(second, "manager")
    token = await csrf_token(client, "/account/password")
    wrong = {"current_password": "not-it", "new_password": "x", "confirm_password": "y", "csrf_token": token}
    refused = await client.post("/account/password", data=wrong)
    text = await refused.text()
    assert refused.status == 422
    assert "كلمة المرور الحالية غير صحيحة" in text and 'id="new_password-error"' in text
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "csrf_token": token,
    }
    response = await client.post("/account/password", data=data, allow_redirects=False)
    assert response.status == 303
    assert not await signed_in(second)
    # This browser goes on in a new session, with a new CSRF token.
    assert await signed_in(client)
    assert await csrf_token(client, "/staff") != token
    login = await csrf_token(second)
    old = await second.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": login})
    assert old.status == 401
    await sign_in(second, "manager", NEW_PASSWORD)
    assert "staff.password_change" in await actions(sessions)


async def test_a_reset_password_must_be_changed_before_anything_else(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    # The intake desk signs in with the password alone, so the reset's own step comes right after it.
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(second, "desk")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    reset = await client.post(f"/admin/users/{desk.id}/reset-password", data={"csrf_token": token})
    match = re.search(r'<code dir="ltr">([A-Za-z0-9]+)</code>', await reset.text())
    assert reset.status == 200 and match
    temporary = match.group(1)
    assert not await signed_in(second)
    login = await csrf_token(second)
    data = {"username": "desk", "password": temporary, "csrf_token": login}
    response = await second.post("/login", data=data, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/account/password"
    # Every other page sends back to the change (GET) or is refused (POST); signing out stays possible.
    elsewhere = await second.get("/desk", allow_redirects=False)
    assert elsewhere.status == 303 and elsewhere.headers["Location"] == "/account/password"
    api = await second.get("/api/v1/session")
    assert api.status == 403 and (await api.json())["messages"]["ar"] == "يجب اختيار كلمة مرور جديدة قبل أي إجراء آخر."
    own = await csrf_token(second, "/account/password")
    assert (await second.post("/account/sessions/revoke-others", data={"csrf_token": own})).status == 403
    change = {"current_password": temporary, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert (await second.post("/account/password", data={**change, "csrf_token": own})).status == 200
    assert (await second.get("/desk", allow_redirects=False)).status == 200
    async with sessions() as session:
        user = await session.get(StaffUser, desk.id)
    assert user is not None and not user.must_change_password
    assert "staff.password_reset" in await actions(sessions)


async def test_a_deactivated_account_is_signed_out_and_cannot_sign_in_until_reactivated(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(second, "desk")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    deactivated = await client.post(f"/admin/users/{desk.id}/deactivate", data={"csrf_token": token})
    # Followed to the list, which says once what was done.
    assert deactivated.status == 200 and deactivated.url.path == "/admin/users"
    assert "أُوقف الحساب \u2068desk\u2069: لم يعد بإمكانه تسجيل الدخول" in await deactivated.text()
    assert not await signed_in(second)
    login = await csrf_token(second)
    refused = await second.post("/login", data={"username": "desk", "password": PASSWORD, "csrf_token": login})
    assert refused.status == 401
    # An administrator cannot lock themselves out; an unknown account is not found.
    assert (await client.post(f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token})).status == 409
    assert (await client.post("/admin/users/99999/deactivate", data={"csrf_token": token})).status == 404
    reactivated = await client.post(f"/admin/users/{desk.id}/reactivate", data={"csrf_token": token})
    assert "أُعيد تفعيل الحساب \u2068desk\u2069." in await reactivated.text()
    await sign_in(second, "desk")
    assert [a for a in await actions(sessions) if "activate" in a] == ["staff.deactivate", "staff.reactivate"]


async def test_an_administrator_resets_a_lost_authenticator_and_the_account_is_signed_out(
    client: Client, second: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    audit = await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, audit.id)
        assert user is not None
        await two_factor.enrol_with_secret(session=session, clock=clock, user=user, secret="JBSWY3DPEHPK3PXP")
        session.add(RecoveryCode(user_id=audit.id, code_hash="x", created_at=clock.now()))
    await sign_in(second, "audit")
    await sign_in(client, "admin")
    page = await (await client.get("/admin/users")).text()
    # Offered only for an account that has an authenticator.
    assert f"/admin/users/{audit.id}/reset-two-factor" in page
    assert f"/admin/users/{desk.id}/reset-two-factor" not in page
    token = await csrf_token(client, "/admin/users")
    reset = await client.post(
        f"/admin/users/{audit.id}/reset-two-factor", data={"csrf_token": token}, allow_redirects=False
    )
    # POST then redirect: the list says once what was done (a refresh of it posts nothing).
    assert reset.status == 303 and reset.headers["Location"] == "/admin/users"
    told = await (await client.get("/admin/users")).text()
    assert 'class="notice notice-done" role="status">أُزيل تطبيق المصادقة الخاص بالحساب \u2068audit\u2069،' in told
    assert 'class="notice notice-done"' not in await (await client.get("/admin/users")).text()
    assert not await signed_in(second)
    async with sessions() as session:
        after = await session.get(StaffUser, audit.id)
        codes = list(await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == audit.id)))
    assert after is not None and after.totp_secret is None and after.totp_enabled_at is None and codes == []
    assert "staff.two_factor_reset" in await actions(sessions)
    # The next sign-in of a role that requires one sets up a new authenticator.
    login = await csrf_token(second)
    data = {"username": "audit", "password": PASSWORD, "csrf_token": login}
    response = await second.post("/login", data=data, allow_redirects=False)
    assert response.headers["Location"].startswith("/login/enrol?")
    # Never one's own (that is /account/two-factor); an unknown account is not found.
    assert (await client.post(f"/admin/users/{admin.id}/reset-two-factor", data={"csrf_token": token})).status == 409
    assert (await client.post("/admin/users/99999/reset-two-factor", data={"csrf_token": token})).status == 404


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_each_page_of_ones_account_links_to_the_others(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    assert 'href="/account/sessions">' in await (await client.get("/staff")).text()  # "Your account" in the header
    pages = ("/account/sessions", "/account/password", "/account/two-factor")
    for page in pages:
        html = await (await client.get(page)).text()
        menu = html[html.index('id="account-menu"') :]
        menu = menu[: menu.index("</nav>")]
        for other in pages:
            assert f'href="{other}"' in menu, (page, other)
        assert f'href="{page}" aria-current="page"' in menu


async def test_wrong_current_passwords_are_throttled_and_end_the_session(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    token = await csrf_token(client, "/account/password")
    # Eleven characters are too few (OWASP ASVS 2.1.1: at least 12).
    short = {"current_password": PASSWORD, "new_password": "a" * 11, "confirm_password": "a" * 11, "csrf_token": token}
    refused = await client.post("/account/password", data=short)
    assert refused.status == 422 and "⁦12⁩" in await refused.text()
    limit = client.app[SETTINGS].login_max_failures
    wrong = {"current_password": "not-it", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    for _ in range(limit - 1):
        assert (await client.post("/account/password", data={**wrong, "csrf_token": token})).status == 422
    # Each wrong one went through the sign-in throttle; the last one allowed ends this session.
    last = await client.post("/account/password", data={**wrong, "csrf_token": token})
    assert last.status == 401 and "فأُنهيت جلستك" in await last.text()
    assert not await signed_in(client)
    async with sessions() as session:
        failed = await session.scalars(select(LoginAttempt).where(LoginAttempt.username == "manager"))
        assert [attempt.succeeded for attempt in failed] == [True] + [False] * limit
