"""Two-factor sign-in over HTTP: enrolment by QR code, the code step, replay, recovery codes, guessing, the setting."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from accounts.models import RecoveryCode, StaffUser
from accounts.roles import Role
from accounts.two_factor import MAX_WRONG_CODES, PENDING_LIFETIME, WRONG_CODE_WINDOW
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import make_settings, start_client
from tests.factories import PASSWORD, Client, csrf_token, make_staff
from tests.web.test_auth import Sessions
from web.device_cookie import DEVICE_COOKIE

_SECRET = re.compile(r'<code id="totp-secret" dir="ltr">([A-Z2-7 ]+)</code>')
_RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


async def password_step(client: Client, username: str, password: str = PASSWORD) -> str:
    """Posts the right password; gives where Majlis sends the browser next."""
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def post_code(client: Client, path: str, code: str) -> tuple[int, str]:
    """Posts a code with the token of the form's own page; gives the status and the redirect or the page."""
    token = await csrf_token(client, "/account/two-factor" if path.startswith("/account/") else path)
    response = await client.post(
        path, data={"code": code, "next": "/audit", "csrf_token": token}, allow_redirects=False
    )
    return response.status, response.headers.get("Location", "") or await response.text()


def has_device_cookie(client: Client) -> bool:
    return DEVICE_COOKIE in client.session.cookie_jar.filter_cookies(client.make_url("/"))


def step_and_next(location: str) -> tuple[str, str]:
    """Where a redirect goes and the page it comes back to afterwards."""
    url = urlsplit(location)
    return url.path, parse_qs(url.query)["next"][0]


async def sign_out(client: Client) -> None:
    await client.post("/logout", data={"csrf_token": await csrf_token(client, "/staff")}, allow_redirects=False)


async def test_a_required_role_enrols_then_signs_in_with_a_fresh_code_or_a_recovery_code_once(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    assert await password_step(client, "audit") == "/login/enrol?next=%2Fstaff"  # the audit desk's home
    # The password alone opens nothing: neither a page (it sends the browser to the step owed) nor the API.
    page = await client.get("/audit", allow_redirects=False)
    assert page.status == 303 and step_and_next(page.headers["Location"]) == ("/login/enrol", "/audit")
    assert (await client.get("/api/v1/triage/departments")).status == 401
    # Nor does it make the browser a trusted device for the sign-in throttle: that waits for the second factor.
    assert not has_device_cookie(client)

    enrol = await client.get("/login/enrol?next=%2Fstaff")
    html = await enrol.text()
    assert enrol.headers["Cache-Control"] == "no-store" and "<svg" in html and 'class="totp-qr"' in html
    match = _SECRET.search(html)
    assert match, html
    totp = pyotp.TOTP(match.group(1).replace(" ", ""))

    status, text = await post_code(client, "/login/enrol", "000000" if totp.at(clock.now()) != "000000" else "111111")
    assert status == 400 and "The code is not correct" not in text  # the page is in Arabic
    assert "الرمز غير صحيح" in text
    status, text = await post_code(client, "/login/enrol", totp.at(clock.now()))
    assert status == 200 and has_device_cookie(client)
    recovery = _RECOVERY.findall(text)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert (await client.get("/audit")).status == 200
    async with sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "audit"))
        hashes = list(await session.scalars(select(RecoveryCode.code_hash)))
    assert user is not None and user.totp_secret == totp.secret
    assert all(h.startswith("$argon2id$") for h in hashes) and not set(recovery) & set(hashes)

    # The same time step's code again is refused (replay); the next step's code is accepted.
    await sign_out(client)
    assert await password_step(client, "audit") == "/login/code?next=%2Fstaff"
    page = await client.get("/audit/queue?x=1", allow_redirects=False)
    assert page.status == 303 and step_and_next(page.headers["Location"]) == ("/login/code", "/audit/queue?x=1")
    status, _ = await post_code(client, "/login/code", totp.at(clock.now()))
    assert status == 401
    clock.advance(timedelta(seconds=30))
    client.session.cookie_jar.clear_domain(client.make_url("/").host or "")
    await password_step(client, "audit")
    assert not has_device_cookie(client)
    assert await post_code(client, "/login/code", totp.at(clock.now())) == (303, "/audit")
    assert has_device_cookie(client)

    # A recovery code (as printed, or typed in capitals without its dash) works once.
    await sign_out(client)
    await password_step(client, "audit")
    assert await post_code(client, "/login/code", recovery[0].replace("-", "").upper()) == (303, "/audit")
    await sign_out(client)
    await password_step(client, "audit")
    status, _ = await post_code(client, "/login/code", recovery[0])
    assert status == 401
    assert await post_code(client, "/login/code", recovery[1]) == (303, "/audit")


async def test_wrong_codes_end_the_waiting_sign_in_until_the_window_passes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await password_step(client, "manager")
    enrol = await client.get("/login/enrol")
    match = _SECRET.search(await enrol.text())
    assert match
    totp = pyotp.TOTP(match.group(1).replace(" ", ""))
    wrong = "000000" if totp.at(clock.now()) != "000000" else "111111"
    for _ in range(MAX_WRONG_CODES):
        assert (await post_code(client, "/login/enrol", wrong))[0] == 400
    # Even the right code is not checked now, and the waiting sign-in is over: back to the password.
    status, text = await post_code(client, "/login/enrol", totp.at(clock.now()))
    assert status == 429 and "رموز خاطئة" in text
    assert (await client.get("/login/enrol", allow_redirects=False)).headers["Location"].startswith("/login?")
    await password_step(client, "manager")
    assert (await post_code(client, "/login/enrol", totp.at(clock.now())))[0] == 429
    clock.advance(WRONG_CODE_WINDOW)
    await password_step(client, "manager")
    # A new sign-in enrols with a key of its own (the key belongs to the sign-in that was shown it).
    match = _SECRET.search(await (await client.get("/login/enrol")).text())
    assert match and match.group(1).replace(" ", "") != totp.secret
    status, _ = await post_code(client, "/login/enrol", pyotp.TOTP(match.group(1).replace(" ", "")).at(clock.now()))
    assert status == 200


async def test_a_waiting_sign_in_lapses(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await password_step(client, "official")
    assert (await client.get("/login/enrol", allow_redirects=False)).status == 200
    clock.advance(PENDING_LIFETIME)
    lapsed = await client.get("/login/enrol?next=%2Fofficial", allow_redirects=False)
    assert lapsed.status == 303 and lapsed.headers["Location"] == "/login?next=%2Fofficial"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_other_roles_use_the_password_alone_unless_the_setting_extends_the_requirement(
    client: Client, sessions: Sessions, clock: FrozenClock, database_url: str
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    assert await password_step(client, "desk") == "/staff"  # the desk's home: today's arrivals and walk-ins
    everyone = await start_client(create_app(make_settings(database_url, two_factor_all_roles=True), clock=clock))
    try:
        assert await password_step(everyone, "desk") == "/login/enrol?next=%2Fstaff"
        assert (await everyone.get("/desk", allow_redirects=False)).status == 303
    finally:
        await everyone.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_any_role_may_set_up_an_authenticator_then_replace_its_recovery_codes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    assert await password_step(client, "desk") == "/staff"  # the desk's home: today's arrivals and walk-ins
    page = await client.get("/account/two-factor")
    match = _SECRET.search(await page.text())
    assert page.status == 200 and match
    totp = pyotp.TOTP(match.group(1).replace(" ", ""))
    status, text = await post_code(client, "/account/two-factor/enrol", totp.at(clock.now()))
    assert status == 200
    first = _RECOVERY.findall(text)

    # From now on this account's sign-in asks for the code, although its role does not require one.
    await sign_out(client)
    assert await password_step(client, "desk") == "/login/code?next=%2Fstaff"
    clock.advance(timedelta(seconds=30))
    status, _ = await post_code(client, "/login/code", totp.at(clock.now()))
    assert status == 303
    # New recovery codes take a current code (the one just used is refused: replay), and end the old ones.
    status, _ = await post_code(client, "/account/two-factor/recovery-codes", totp.at(clock.now()))
    assert status == 400
    clock.advance(timedelta(seconds=30))
    status, text = await post_code(client, "/account/two-factor/recovery-codes", totp.at(clock.now()))
    second = _RECOVERY.findall(text)
    assert status == 200 and len(second) == 10 and not set(first) & set(second)
    await sign_out(client)
    await password_step(client, "desk")
    assert (await post_code(client, "/login/code", first[0]))[0] == 401
    assert (await post_code(client, "/login/code", second[0]))[0] == 303
