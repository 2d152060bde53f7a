"""The department's side: its referral through the signed link of the e-mail and through liaison accounts, on
pages and over the API; every step once, refusals that change nothing, files only for their own referral."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse, FormData, web
from openapi_spec_validator import validate
from sqlalchemy import select

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import information, referrals
from followup.models import Attachment, AttachmentOwner, EventKind, InformationRequest, ReferralState
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.followup.files import GIF, pdf, picture
from tests.web.referring import (
    DIRECTIVE,
    ID_NUMBER,
    PHONE_DIGITS,
    URL,
    Sessions,
    count,
    department,
    events,
    refer,
    referral,
    staff_file,
)
from web.keys import ATTACHMENTS, LINKS


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, tmp_path: Path) -> web.Application:
    settings = make_settings(database_url, attachments_dir=str(tmp_path / "attachments"))
    return create_app(settings, clock=clock, channels=recorder.channels())


async def water(sessions: Sessions) -> int:
    return await department(sessions, "water", "المديرية العامة للمياه", "General Directorate of Water")


async def health(sessions: Sessions) -> int:
    return await department(sessions, "health", "مديرية الشؤون الصحية", "Health Affairs")


async def post(client: Client, path: str, fields: dict[str, str] | None = None) -> ClientResponse:
    """A form's post with the browser's CSRF token (a page without forms carries none; the status form does)."""
    token = await csrf_token(client, "/status")
    return await client.post(path, data={"csrf_token": token, **(fields or {})})


def answer_form(token: str, text: str, files: list[tuple[str, bytes, str]]) -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("answer", text)
    for name, content, declared in files:
        form.add_field("files", content, filename=name, content_type=declared)
    return form


async def test_through_the_link_the_department_reads_the_referral_and_takes_every_step(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    [ref] = await refer(sessions, clock, "water")
    store = client.app[ATTACHMENTS]
    evidence = await staff_file(sessions, clock, store, ref.case_id, "صك.pdf", pdf())
    page = ref.page(client.app[LINKS])

    shown = await client.get(page)
    text = await shown.text()
    assert shown.status == 200
    for expected in (ref.tracking_number, "المديرية العامة للمياه", DIRECTIVE, "طلب مقابلة", "نورة عبدالله", ID_NUMBER):
        assert expected in text
    assert 'dir="rtl"' in text and "هـ" in text  # Arabic first, deadlines in both calendars
    assert PHONE_DIGITS not in text  # the department's work does not need the applicant's phone
    assert f"{page}/attachments/{evidence}" in text
    assert 'href="/staff"' not in text and 'href="/cases"' not in text and 'href="/login"' not in text
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["Referrer-Policy"] == "no-referrer"
    english = await (await client.get(page, params={"lang": "en"})).text()
    assert "General Directorate of Water" in english and "Acknowledge the referral" in english

    forged = await client.post(f"{page}/acknowledge", data={"csrf_token": "0" * 64})
    assert forged.status == 403
    done = await post(client, f"{page}/acknowledge")
    assert done.status == 200 and 'id="confirmation"' in await done.text()
    assert (await referral(sessions, ref.referral_id)).state is ReferralState.ACKNOWLEDGED
    [_, acknowledged] = await events(sessions, ref.referral_id)
    assert acknowledged.by == "المديرية العامة للمياه (link)" and acknowledged.actor_id is None
    twice = await post(client, f"{page}/acknowledge")
    assert twice.status == 409
    assert "سبق تأكيد استلام هذه الإحالة" in await twice.text() and "acknowledged already" in await twice.text()
    assert len(await events(sessions, ref.referral_id)) == 2

    empty = await post(client, f"{page}/update", {"update": "   "})
    assert empty.status == 422 and 'id="update-errors"' in await empty.text()
    assert (await post(client, f"{page}/update", {"update": "جارٍ حصر الحالة ميدانيًا."})).status == 200

    asked = await post(client, f"{page}/ask", {"question": "نرجو تزويدنا بصورة فاتورة المياه الأخيرة."})
    assert asked.status == 200
    assert (await referral(sessions, ref.referral_id)).state is ReferralState.AWAITING_APPLICANT
    async with sessions() as session:
        [question] = list(await session.scalars(select(InformationRequest)))
        case = await cases.get_case(session=session, case_id=ref.case_id)
    assert question.referral_id == ref.referral_id and case is not None
    assert case.status is CaseStatus.NEEDS_INFORMATION
    waiting = await (await client.get(page)).text()
    assert 'id="waiting"' in waiting and 'id="answer-form"' not in waiting
    refused = await post(client, f"{page}/answer", {"answer": "تم"})
    assert refused.status == 409 and "بانتظار رد صاحب الطلب" in await refused.text()

    async with transaction(sessions) as session:
        await information.answer(
            session=session, clock=clock, request=question, text="أرفقت الفاتورة.", uploads=[], store=store
        )
    assert (await referral(sessions, ref.referral_id)).state is ReferralState.ACKNOWLEDGED

    token = await csrf_token(client, page)
    png = picture(".png")
    bad = await client.post(f"{page}/answer", data=answer_form(token, "", [("x.gif", GIF, "image/png")]))
    assert bad.status == 422 and await count(sessions, Attachment) == 1
    bad_text = await bad.text()
    assert "x.gif" in bad_text and 'id="answer-errors"' in bad_text
    answered = await client.post(
        f"{page}/answer", data=answer_form(token, "أُصلح العداد وأُعيدت الخدمة.", [("محضر.png", png, "image/png")])
    )
    assert answered.status == 200, await answered.text()
    found = await referral(sessions, ref.referral_id)
    assert found.state is ReferralState.ANSWERED and found.answer == "أُصلح العداد وأُعيدت الخدمة."
    async with sessions() as session:
        stored = await session.scalar(select(Attachment).where(Attachment.referral_id == ref.referral_id))
    assert stored is not None and stored.added_by is AttachmentOwner.DEPARTMENT and stored.filename == "محضر.png"
    assert await store.read(stored.storage_key) == png
    served = await client.get(f"{page}/attachments/{stored.id}")
    assert served.status == 200 and await served.read() == png
    assert served.headers["Content-Type"] == "image/png"
    assert (await client.get(f"{page}/attachments/{evidence}")).status == 200
    again = await post(client, f"{page}/answer", {"answer": "مرة أخرى"})
    assert again.status == 409 and "سبق الرد على هذه الإحالة" in await again.text()
    kinds = [e.kind for e in await events(sessions, ref.referral_id)]
    assert kinds == [
        EventKind.SENT,
        EventKind.ACKNOWLEDGED,
        EventKind.UPDATE,
        EventKind.INFORMATION_ASKED,
        EventKind.INFORMATION_GIVEN,
        EventKind.ANSWERED,
    ]


async def test_a_returned_referral_s_link_no_longer_works_and_changes_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    [ref] = await refer(sessions, clock, "water")
    page = ref.page(client.app[LINKS])
    assert (await post(client, f"{page}/return", {"reason": ""})).status == 422
    returned = await post(client, f"{page}/return", {"reason": "الطلب من اختصاص أمانة المنطقة."})
    text = await returned.text()
    assert returned.status == 200 and 'id="link-ended"' in text and 'id="back"' not in text
    found = await referral(sessions, ref.referral_id)
    assert found.state is ReferralState.RETURNED and found.generation == ref.generation + 1

    stale = await client.get(page)
    stale_text = await stale.text()
    assert stale.status == 410
    assert "هذا الرابط لم يعد صالحًا" in stale_text
    assert "This link is no longer valid" in stale_text  # both languages: whoever opened it may read either
    before = len(await events(sessions, ref.referral_id))
    token = await csrf_token(client, "/status")
    for action in ("acknowledge", "update", "answer", "return", "ask"):
        fields = {"csrf_token": token, "update": "x", "answer": "x", "reason": "x", "question": "x"}
        response = await client.post(f"{page}/{action}", data=fields)
        assert response.status == 409, action
        assert "This link is no longer valid" in await response.text()
    assert len(await events(sessions, ref.referral_id)) == before
    # A link of the new generation would be the follow-up team's to send; the old one opens no file either.
    assert (await client.get(f"{page}/attachments/1")).status == 410


async def test_forged_and_unknown_tokens_are_not_found(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await water(sessions)
    [ref] = await refer(sessions, clock, "water")
    links = client.app[LINKS]
    good = ref.token(links)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    unknown = links.referral_token(ref.referral_id + 100, 1)
    for token in (forged, unknown, "nonsense", f"{ref.referral_id}.{ref.generation}", "1.1." + "x" * 200):
        page = await client.get(f"/r/{token}")
        text = await page.text()
        assert page.status == 404, token
        assert "هذا الرابط غير صالح" in text and "This link is not valid" in text
        api = await client.get(f"/api/v1/r/{token}")
        assert api.status == 404 and (await api.json())["error"] == "not_found"
        step = await post(client, f"/r/{token}/acknowledge")
        assert step.status == 404
    assert (await referral(sessions, ref.referral_id)).state is ReferralState.SENT


async def test_a_closed_referral_is_read_but_refuses_every_step(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    [ref] = await refer(sessions, clock, "water")
    liaison = await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "water.liaison", department_code="water")
    team = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    async with transaction(sessions) as session:
        await referrals.close(
            session=session, clock=clock, referral_id=ref.referral_id, actor_id=team.id, outcome="حُلّ", status_url=URL
        )
    assert (await client.get(ref.page(client.app[LINKS]))).status == 410  # the link of before the close

    await sign_in(client, "water.liaison")
    page = f"/liaison/referrals/{ref.referral_id}"
    shown = await client.get(page)
    text = await shown.text()
    assert shown.status == 200 and 'id="waiting"' in text and 'id="actions"' not in text
    before = len(await events(sessions, ref.referral_id))
    for action, fields in (("acknowledge", {}), ("update", {"update": "x"}), ("answer", {"answer": "x"})):
        refused = await post(client, f"{page}/{action}", fields)
        assert refused.status == 409
        assert "أُغلقت هذه الإحالة" in await refused.text()
    assert len(await events(sessions, ref.referral_id)) == before
    assert liaison.department_id is not None


async def test_files_are_served_only_under_a_link_of_their_own_referral(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    await health(sessions)
    to_water, to_health = await refer(sessions, clock, "water", "health")
    [elsewhere] = await refer(sessions, clock, "water")
    links = client.app[LINKS]
    store = client.app[ATTACHMENTS]
    evidence = await staff_file(sessions, clock, store, to_water.case_id, "هوية.png", picture(".png"))
    water_page = to_water.page(links)
    token = await csrf_token(client, water_page)
    answered = await client.post(
        f"{water_page}/answer", data=answer_form(token, "تمت المعالجة.", [("report.pdf", pdf(), "application/pdf")])
    )
    assert answered.status == 200
    async with sessions() as session:
        kept = await session.scalar(select(Attachment).where(Attachment.referral_id == to_water.referral_id))
    assert kept is not None
    served = await client.get(f"{water_page}/attachments/{kept.id}")
    assert served.status == 200 and served.headers["Content-Type"] == "application/pdf"
    assert "attachment;" in served.headers["Content-Disposition"]
    # Another department on the same request reads the request's files, not the other referral's answer.
    health_page = to_health.page(links)
    health_text = await (await client.get(health_page)).text()
    assert f"/attachments/{evidence}" in health_text and "report.pdf" not in health_text
    assert (await client.get(f"{health_page}/attachments/{kept.id}")).status == 404
    assert (await client.get(f"{health_page}/attachments/{evidence}")).status == 200
    # A referral of another request opens none of these.
    other = elsewhere.page(links)
    for attachment_id in (kept.id, evidence, 999_999, 10**12):
        assert (await client.get(f"{other}/attachments/{attachment_id}")).status == 404


async def test_a_liaison_works_on_their_department_s_referrals_only(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    await health(sessions)
    [first] = await refer(sessions, clock, "water")
    clock.advance(timedelta(days=1))
    [theirs] = await refer(sessions, clock, "health")
    [second] = await refer(sessions, clock, "water")
    [closed] = await refer(sessions, clock, "water")
    team = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    async with transaction(sessions) as session:
        await referrals.close(
            session=session, clock=clock, referral_id=closed.referral_id, actor_id=team.id, outcome="x", status_url=URL
        )
    clock.advance(timedelta(days=2))  # the first one's first response (two working days) is now overdue
    liaison = await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "water.liaison", department_code="water")

    token = await csrf_token(client)
    login = {"username": "water.liaison", "password": "correct-horse-battery", "csrf_token": token}
    landed = await client.post("/login", data=login, allow_redirects=False)
    assert landed.status == 303 and landed.headers["Location"] == "/liaison"
    listed = await client.get("/liaison")
    text = await listed.text()
    assert listed.status == 200
    assert text.index(first.tracking_number) < text.index(second.tracking_number)  # overdue first
    assert theirs.tracking_number not in text
    assert 'id="recent-referrals"' in text and closed.tracking_number in text
    assert 'href="/cases"' not in text and 'href="/staff"' not in text

    assert (await client.get(f"/liaison/referrals/{theirs.referral_id}")).status == 404
    assert (await client.get("/liaison/referrals/99999999999")).status == 404
    assert (await post(client, f"/liaison/referrals/{first.referral_id}/acknowledge")).status == 200
    not_theirs = await client.post(
        f"/liaison/referrals/{theirs.referral_id}/acknowledge",
        data={"csrf_token": await csrf_token(client, "/liaison")},
    )
    assert not_theirs.status == 404
    assert (await referral(sessions, theirs.referral_id)).state is ReferralState.SENT
    acknowledged = (await events(sessions, first.referral_id))[-1]
    assert acknowledged.kind is EventKind.ACKNOWLEDGED and acknowledged.actor_id == liaison.id

    api = await (await client.get("/api/v1/liaison/referrals")).json()
    # Acknowledged, the first owes its solution in days; the second still owes its first response, hours away.
    assert [line["id"] for line in api["open"]] == [second.referral_id, first.referral_id]
    assert api["open"][0]["clock"] == "first_response" and not api["open"][0]["overdue"]
    assert [line["id"] for line in api["recent"]] == [closed.referral_id]
    assert api["department"]["code"] == "water"
    # Thirty days on, the closed one has left the list.
    clock.advance(timedelta(days=31))
    await sign_in(client, "water.liaison")  # the session has long ended
    later = await (await client.get("/api/v1/liaison/referrals")).json()
    assert later["recent"] == []


async def test_the_api_takes_each_step_and_says_why_it_refuses(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    [ref] = await refer(sessions, clock, "water")
    base = f"/api/v1/r/{ref.token(client.app[LINKS])}"
    read = await client.get(base, headers={"Accept-Language": "en"})
    body = await read.json()
    assert read.status == 200
    assert body["state"] == "sent" and body["department"]["code"] == "water" and body["directive"] == DIRECTIVE
    assert body["request"]["applicant_id_number"] == ID_NUMBER and PHONE_DIGITS not in str(body)
    assert body["actions"] == ["acknowledge", "update", "ask", "answer", "return"]
    assert "AH" in body["solution_due"]

    assert (await client.post(f"{base}/acknowledge")).status == 200
    twice = await client.post(f"{base}/acknowledge")
    refusal = await twice.json()
    assert twice.status == 409 and refusal["error"] == "acknowledged"
    assert refusal["messages"]["ar"] == "سبق تأكيد استلام هذه الإحالة."
    missing = await client.post(f"{base}/update", json={})
    assert missing.status == 422 and (await missing.json())["fields"][0]["field"] == "update"
    extra = await client.post(f"{base}/update", json={"update": "x", "phone": "y"})
    assert extra.status == 422
    assert (await client.post(f"{base}/update", json={"update": "جارٍ العمل"})).status == 200
    form = FormData()
    form.add_field("answer", "تم الإصلاح.")
    form.add_field("files", picture(".jpg"), filename="photo.jpg", content_type="image/jpeg")
    answered = await client.post(f"{base}/answer", data=form)
    out = await answered.json()
    assert answered.status == 200 and out["state"] == "answered"
    [file] = [f for f in out["files"] if f["added_by"] == "department"]
    assert file["content_type"] == "image/jpeg"
    assert (await client.get(file["url"])).status == 200
    late = await client.post(f"{base}/return", json={"reason": "ليس من اختصاصنا"})
    assert late.status == 409 and (await late.json())["error"] == "answered"
    assert (await referral(sessions, ref.referral_id)).state is ReferralState.ANSWERED


async def test_the_api_s_stale_link_ask_and_liaison_list(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await water(sessions)
    [ref, other] = [*(await refer(sessions, clock, "water")), *(await refer(sessions, clock, "water"))]
    links = client.app[LINKS]
    asked = await client.post(f"/api/v1/r/{ref.token(links)}/ask", json={"question": "ما رقم العداد؟"})
    assert asked.status == 200 and (await asked.json())["state"] == "awaiting_applicant"
    assert (await (await client.get(f"/api/v1/r/{ref.token(links)}")).json())["actions"] == []
    other_base = f"/api/v1/r/{other.token(links)}"
    assert (await client.post(f"{other_base}/return", json={"reason": "ليس لنا"})).status == 200
    stale = await client.get(other_base)
    assert stale.status == 409 and (await stale.json())["error"] == "moved_on"
    step = await client.post(f"{other_base}/acknowledge")
    assert step.status == 409 and (await step.json())["error"] == "moved_on"
    assert (await client.get("/api/v1/liaison/referrals")).status == 401


async def test_the_department_s_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert paths["/api/v1/r/{token}"]["get"]["responses"].keys() >= {"200", "404", "409"}
    for action in ("acknowledge", "update", "ask", "answer", "return"):
        assert paths[f"/api/v1/r/{{token}}/{action}"]["post"]["responses"].keys() >= {"200", "404", "409", "422"}
    assert "multipart/form-data" in paths["/api/v1/r/{token}/answer"]["post"]["requestBody"]["content"]
    assert paths["/api/v1/liaison/referrals"]["get"]["responses"]["200"]
    assert {"DepartmentReferralOut", "LiaisonReferralsOut", "DepartmentAnswerForm", "DepartmentUpdateIn"} <= set(
        document["components"]["schemas"]
    )
