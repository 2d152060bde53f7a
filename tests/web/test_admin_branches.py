"""Reception centres as data, on SQLite and PostgreSQL: an administrator adds and edits a branch and its rooms;
bad input is refused field by field in both languages with nothing saved; the forms, filters and the API follow."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases.models import Case
from followup.attachments import AttachmentStore
from majlis.clock import FrozenClock
from rooms.models import BranchSite, Room
from tests.factories import Client, api_payload, csrf_token, form_data, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once
from whatsapp_desk import answers, questions
from whatsapp_desk.models import Step

Sessions = async_sessionmaker[AsyncSession]
DAMMAM = {
    "code": "dammam",
    "name_ar": "الدمام",
    "name_en": "Dammam",
    "address_ar": "مركز الاستقبال — طريق الملك سعود، الدمام",
    "address_en": "Reception Centre — King Saud Road, Dammam",
    "time_zone": "Asia/Riyadh",
    "official_calendar_url": "https://calendar.example.org/dammam.ics",
}


async def as_admin(client: Client, sessions: Sessions, clock: FrozenClock) -> str:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    return await csrf_token(client, "/admin/branches")


async def counts(sessions: Sessions) -> tuple[int, int]:
    async with sessions() as session:
        branches = await session.scalar(select(func.count()).select_from(BranchSite))
        rooms = await session.scalar(select(func.count()).select_from(Room))
    return int(branches or 0), int(rooms or 0)


async def test_an_administrator_opens_a_centre_and_requests_rooms_and_the_api_follow(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    added = await client.post("/admin/branches", data={**DAMMAM, "csrf_token": token}, allow_redirects=False)
    assert (added.status, added.headers["Location"]) == (303, "/admin/branches/dammam")
    await shown_once(client, added, f"أُضيف المركز {isolated('الدمام')}.")
    room = {"name": "قاعة الدمام", "room_kind": "audience_hall", "capacity": "12", "equipment": "", "csrf_token": token}
    room_added = await client.post("/admin/branches/dammam/rooms", data=room, allow_redirects=False)
    await shown_once(client, room_added, f"أُضيفت الغرفة {isolated('قاعة الدمام')} إلى المركز.")
    page = await (await client.get("/admin/branches/dammam")).text()
    assert "قاعة الدمام" in page and "https://calendar.example.org/dammam.ics" in page
    # The branch official's outgoing calendar: a feed behind its own token, named for the centre.
    feed = re.search(r'id="branch-feed">[^<]*(/feeds/branches/dammam\.ics\?token=[A-Za-z0-9_=-]+)<', page)
    assert feed is not None
    ics = await client.get(feed.group(1))
    assert ics.status == 200 and ics.content_type == "text/calendar" and "الدمام" in await ics.text()
    assert (await client.get("/feeds/branches/riyadh.ics?" + feed.group(1).split("?")[1])).status == 404
    async with sessions() as session:
        site = await session.get(BranchSite, "dammam")
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "branch.add"))
    assert site is not None and (site.time_zone, site.active, site.is_official_seat) == ("Asia/Riyadh", True, False)
    assert entry is not None and entry.target_id == "dammam"

    # The public form offers it, a request to it is saved, the audit queue names it and filters by it.
    client.session.cookie_jar.clear()
    form = await (await client.get("/")).text()
    assert '<option value="dammam"' in form and "الدمام" in form
    public = await csrf_token(client, "/")
    sent = await client.post("/requests", data={**form_data(branch="dammam"), "csrf_token": public})
    assert sent.status == 200, await sent.text()
    api = await client.post("/api/v1/requests", json=api_payload(branch="dammam"))
    assert api.status == 201, await api.text()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(Case.branch == "dammam")) == 2
    await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    client.session.cookie_jar.clear()
    await sign_in(client, "auditor")
    queue = await (await client.get("/audit", params={"branch": "dammam"})).text()
    assert queue.count('"><bdi>الدمام</bdi></td>') == 2  # the branch's name isolated (|isolate)
    elsewhere = await (await client.get("/audit", params={"branch": "jeddah"})).text()
    assert "<bdi>الدمام</bdi></td>" not in elsewhere


async def test_a_closed_centre_takes_no_requests_but_keeps_its_past(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    await client.post("/admin/branches", data={**DAMMAM, "csrf_token": token})
    closed = {**DAMMAM, "name_en": "Dammam (closed)", "csrf_token": token}
    closed.pop("code")
    await shown_once(
        client, await client.post("/admin/branches/dammam", data=closed, allow_redirects=False), "حُفظت بيانات المركز."
    )
    async with sessions() as session:
        site = await session.get(BranchSite, "dammam")
    assert site is not None and (site.active, site.name_en) == (False, "Dammam (closed)")
    client.session.cookie_jar.clear()
    assert '<option value="dammam"' not in await (await client.get("/")).text()
    public = await csrf_token(client, "/")
    refused = await client.post("/requests", data={**form_data(branch="dammam"), "csrf_token": public})
    page = await refused.text()
    assert refused.status == 422 and 'id="branch-error"' in page
    # The API alike: a code of no open centre is refused naming the field, in both languages.
    for code in ("dammam", "tabuk"):
        api = await client.post("/api/v1/requests", json=api_payload(branch=code))
        body = await api.json()
        assert api.status == 422 and [f["field"] for f in body["fields"]] == ["branch"], body
        assert body["fields"][0]["messages"]["en"].startswith("Branch must be one of: riyadh, jeddah")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0
    # The desk alike: the form no longer offers it, and a form sent with it is shown again naming the field.
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    desk = await csrf_token(client, "/desk")
    sent = {**form_data(branch="dammam"), "channel": "walk_in", "idempotency_key": "k1", "csrf_token": desk}
    at_desk = await client.post("/desk/requests", data=sent)
    assert at_desk.status == 422 and 'id="branch-error"' in await at_desk.text()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0
    client.session.cookie_jar.clear()
    # The official's seat stays open.
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/branches/riyadh")
    seat = {**DAMMAM, "name_ar": "الرياض", "name_en": "Riyadh", "csrf_token": token}
    seat.pop("code")
    kept = await client.post("/admin/branches/riyadh", data=seat)
    assert kept.status == 422 and "لا يمكن إغلاق مقر المسؤول." in await kept.text()


async def test_bad_input_is_named_in_both_languages_and_nothing_is_saved(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    before = await counts(sessions)
    bad = {
        **DAMMAM,
        "code": "Dammam City!",
        "name_ar": "   ",
        "name_en": "x" * 121,
        "time_zone": "Mars/Olympus",
        "official_calendar_url": "file:///etc/passwd",
        "csrf_token": token,
    }
    arabic = await client.post("/admin/branches", data=bad)
    text = await arabic.text()
    assert arabic.status == 422
    for field in ("code", "name_ar", "name_en", "time_zone", "official_calendar_url"):
        assert f'id="{field}-error"' in text, field
    assert "Asia/Riyadh" in text and "يجب أن يكون" in text and "dammam" in text
    client.session.cookie_jar.update_cookies({"majlis_lang": "en"}, client.make_url("/"))
    english = await (await client.post("/admin/branches", data={**bad, "code": "riyadh"})).text()
    assert "There is already a branch with this code." in english
    assert "Time zone must be a time zone such as Asia/Riyadh." in english
    assert "Name in English must be at most 120 characters." in english
    for zone in ("../../etc/passwd", "/usr/share/zoneinfo/UTC", "UTC+3", "Asia"):
        refused = await client.post("/admin/branches", data={**DAMMAM, "time_zone": zone, "csrf_token": token})
        assert refused.status == 422 and 'id="time_zone-error"' in await refused.text(), zone
    room = {"name": "", "room_kind": "ballroom", "capacity": "0", "equipment": "", "csrf_token": token}
    refused_room = await client.post("/admin/branches/riyadh/rooms", data=room)
    room_page = await refused_room.text()
    assert refused_room.status == 422
    assert all(f'id="{f}-error"' in room_page for f in ("name", "room_kind", "capacity"))
    missing = await client.get("/admin/branches/nowhere")
    assert missing.status == 404
    assert await counts(sessions) == before


def test_the_whatsapp_desk_lists_the_open_centres_of_the_table_and_reads_a_choice_of_them() -> None:
    listed = [
        BranchSite(code="riyadh", name_ar="الرياض", name_en="Riyadh"),
        BranchSite(code="dammam", name_ar="الدمام", name_en="Dammam"),
    ]
    store = AttachmentStore(Path("/nonexistent"), max_files=5, max_bytes=1_000_000)
    asked = {
        language: questions.question(
            Step.BRANCH, language=language, purpose=None, state={}, store=store, branches=listed
        )
        for language in ("ar", "en")
    }
    assert asked["ar"].endswith("\n1. الرياض\n2. الدمام") and asked["en"].endswith("\n1. Riyadh\n2. Dammam")
    choices = questions.branch_choices(listed)
    picked = [answers.pick(word, choices) for word in ("2", "٢", "الدمام", "dammam", " Dammam ", "3")]
    assert picked == ["dammam", "dammam", "dammam", "dammam", "dammam", None]
