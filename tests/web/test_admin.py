"""Administrators create staff accounts; every such action lands in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def test_admin_creates_an_account_and_it_is_audited(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    response = await client.post(
        "/admin/users",
        data={
            "username": "Huda.W",
            "full_name": "هدى",
            "role": "women_section",
            "gender": "female",
            "password": "a-long-password",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert response.status == 303
    async with sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "huda.w"))
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff.create", AuditEntry.actor_id == admin.id)
        )
    assert user is not None and user.role is Role.WOMEN_SECTION
    assert entry is not None and entry.details == {"username": "huda.w", "role": "women_section"}
    log = await (await client.get("/admin/audit")).text()
    # In words (web/audit_labels.py), not the stored code.
    assert "إنشاء حساب موظف" in log and "huda.w" in log and "staff.create" not in log


async def test_bad_account_details_are_each_named(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    response = await client.post(
        "/admin/users",
        data={
            "username": "admin",
            "full_name": "",
            "role": "king",
            "gender": "x",
            "password": "short",
            "csrf_token": token,
        },
    )
    assert response.status == 422
    html = await response.text()
    for field in ("username", "full_name", "role", "gender", "password"):
        assert f'id="{field}-error"' in html
    async with sessions() as session:
        assert len(list(await session.scalars(select(StaffUser)))) == 1


async def _emails(sessions: Sessions, user_id: int) -> tuple[str | None, list[dict[str, object]]]:
    async with sessions() as session:
        user = await session.get_one(StaffUser, user_id)
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff.email_change").order_by(AuditEntry.id)
        )
        return user.email, [e.details for e in entries]


async def test_an_administrator_sets_changes_and_clears_an_accounts_email_each_audited(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    manager = await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    page = f"/admin/users/{manager.id}/email"
    response = await client.post(
        page, data={"email": " Manager@Majlis.Example ", "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == f"/admin/users?done=email#email-{manager.id}"
    shown = await (await client.get(response.headers["Location"])).text()
    assert "حُفظ البريد الإلكتروني." in shown and 'value="manager@majlis.example"' in shown
    await client.post(page, data={"email": "reports@majlis.example", "csrf_token": token}, allow_redirects=False)
    # The same address again changes nothing and logs nothing.
    await client.post(page, data={"email": "REPORTS@majlis.example", "csrf_token": token}, allow_redirects=False)
    cleared = await client.post(page, data={"email": "  ", "csrf_token": token}, allow_redirects=False)
    assert cleared.status == 303
    email, entries = await _emails(sessions, manager.id)
    assert email is None
    assert [(e["before"], e["after"]) for e in entries] == [
        (None, "manager@majlis.example"),
        ("manager@majlis.example", "reports@majlis.example"),
        ("reports@majlis.example", None),
    ]
    async with sessions() as session:
        actors = set(
            await session.scalars(select(AuditEntry.actor_id).where(AuditEntry.action == "staff.email_change"))
        )
    assert actors == {admin.id}


async def test_a_bad_email_is_named_in_its_row_and_nothing_changes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    manager = await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    page = f"/admin/users/{manager.id}/email"
    await client.post(page, data={"email": "kept@majlis.example", "csrf_token": token}, allow_redirects=False)
    for bad in ("not-an-address", "a@b", "x" * 250 + "@majlis.example"):
        response = await client.post(page, data={"email": bad, "csrf_token": token}, allow_redirects=False)
        assert response.status == 422, bad
        text = await response.text()
        assert f'id="email-of-{manager.id}-error"' in text and 'aria-invalid="true"' in text
    assert await _emails(sessions, manager.id) == (
        "kept@majlis.example", [{"username": "manager", "before": None, "after": "kept@majlis.example"}]
    )  # fmt: skip
    assert (await client.post("/admin/users/99999/email", data={"email": "", "csrf_token": token})).status == 404
    assert (await client.post("/admin/users/x1/email", data={"email": "", "csrf_token": token})).status == 404
