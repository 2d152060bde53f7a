"""The applicant answers "needs information" from the status page and over the API; attachments are served only
to the staff who handle requests and to the liaison of the department whose referral they belong to."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData, web
from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import information, referrals
from followup.models import ApplicantCode, Attachment, InformationRequest, ReferralSource
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from priority import service as triage
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client, api_payload, csrf_token, make_staff, sign_in
from tests.followup.arrange import add_department
from tests.followup.files import GIF, pdf, picture, upload
from web.applicant_answers import ANSWER_COOKIE, CODE_COOKIE, RECEIVED_COOKIE
from web.keys import ATTACHMENTS, SETTINGS

Sessions = async_sessionmaker[AsyncSession]
PHONE = "0501234567"
URL = "https://majlis.example.sa/status"
KB = 1024


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, tmp_path: Path) -> web.Application:
    """Files in the test's own folder; small limits, so a body past them is cheap to send."""
    settings = make_settings(
        database_url,
        attachments_dir=str(tmp_path / "attachments"),
        attachment_max_bytes=256 * KB,
        attachment_max_files=2,
    )
    return create_app(settings, clock=clock, channels=recorder.channels())


async def asked(client: Client, sessions: Sessions, clock: FrozenClock, missing: str = "صورة صك الحكم") -> str:
    """A request from the portal that the audit desk asked about; its tracking number."""
    body = await (await client.post("/api/v1/requests", json=api_payload())).json()
    number = str(body["tracking_number"])
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "asker")).id
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session, clock=clock, tracking_number=number, actor_id=actor, missing=missing, status_url=URL
        )
    return number


async def latest_code(sessions: Sessions) -> str:
    async with sessions() as session:
        message = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.purpose.like("applicant_code:%"))
            .order_by(OutboxMessage.id.desc())
        )
    assert message is not None
    # In Arabic the code stands between left-to-right isolates (notify.texts.isolated).
    found = re.search(r"(?:Code|الرمز) \u2066?(\d{6})", message.body)
    assert found is not None
    return found.group(1)


async def status(sessions: Sessions, number: str) -> CaseStatus:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    return case.status


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def answer_form(token: str, question_id: int, text: str, files: list[tuple[str, bytes, str]]) -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("information_request_id", str(question_id))
    form.add_field("answer", text)
    for name, content, declared in files:
        form.add_field("files", content, filename=name, content_type=declared)
    return form


async def code_checked(client: Client, sessions: Sessions, number: str) -> str:
    """Through the status page to a checked code; the CSRF token of the answer page."""
    token = await csrf_token(client, "/status")
    enquiry = {"tracking_number": number, "phone": PHONE, "csrf_token": token}
    page = await (await client.post("/status", data=enquiry)).text()
    assert 'id="needs-information"' in page and "صورة صك الحكم" in page
    sent = await client.post("/status/answer/code", data=enquiry)
    assert sent.status == 200 and 'id="code"' in await sent.text()
    verified = await client.post(
        "/status/answer/verify", data={**enquiry, "code": await latest_code(sessions)}, allow_redirects=False
    )
    assert verified.status == 303 and verified.headers["Location"] == "/status/answer"
    return await csrf_token(client, "/status/answer")


async def test_the_applicant_answers_through_the_status_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await asked(client, sessions, clock)
    token = await csrf_token(client, "/status")
    enquiry = {"tracking_number": number, "phone": PHONE, "csrf_token": token}
    sent = await client.post("/status/answer/code", data=enquiry)  # followed to GET /status/answer/code
    assert sent.status == 200 and sent.headers["Cache-Control"] == "no-store"
    code = await latest_code(sessions)
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post("/status/answer/verify", data={**enquiry, "code": wrong}, allow_redirects=False)
    assert refused.status == 422 and "الرمز غير صحيح. المحاولات المتبقية: 4." in await refused.text()
    assert ANSWER_COOKIE not in refused.cookies
    async with sessions() as session:
        row = await session.scalar(select(ApplicantCode))
    assert row is not None and row.attempts == 1  # the wrong try was kept despite the refusal

    arabic_digits = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    verified = await client.post(
        "/status/answer/verify", data={**enquiry, "code": arabic_digits}, allow_redirects=False
    )
    assert verified.status == 303
    cookie = verified.cookies[ANSWER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/status/answer"

    page = await client.get("/status/answer")
    text = await page.text()
    assert page.status == 200 and "صورة صك الحكم" in text
    assert 'accept="image/*,application/pdf"' in text and 'capture="environment"' in text
    (question,) = re.findall(r'name="information_request_id" value="(\d+)"', text)
    token = await csrf_token(client, "/status/answer")
    photo = picture(".jpg", 120, 90)
    # The declared type is a PDF's; the content is a JPEG, and that is what is kept.
    done = await client.post(
        "/status/answer",
        data=answer_form(token, int(question), "أرفقت الصك", [("صك الحكم", photo, "application/pdf")]),
        allow_redirects=False,
    )
    # POST then redirect: the receipt is a page of its own, its question named by a signed cookie (not the address).
    assert done.status == 303 and done.headers["Location"] == "/status/answer/received"
    receipt_cookie = done.cookies[RECEIVED_COOKIE]
    assert receipt_cookie["httponly"] and receipt_cookie["samesite"] == "Strict"
    assert receipt_cookie["path"] == "/status/answer/received" and receipt_cookie.value.startswith(f"{question}.")
    assert done.cookies[ANSWER_COOKIE].value == ""  # nothing more to answer: the permission is removed
    assert await status(sessions, number) is CaseStatus.RECEIVED
    saved = (await count(sessions, Attachment), await count(sessions, OutboxMessage))
    # The receipt, and again on a refresh: the same page, nothing recorded or sent again.
    for _ in range(2):
        receipt = await client.get("/status/answer/received")
        answered = await receipt.text()
        assert receipt.status == 200 and receipt.headers["Cache-Control"] == "no-store", answered
        assert 'id="answer-received"' in answered and "شكرًا لكم، تم استلام إجابتكم" in answered
        assert "صك الحكم" in answered and "أرفقت الصك" in answered and "صك الحكم.jpg" in answered
    assert saved[0] == 1 and (await count(sessions, Attachment), await count(sessions, OutboxMessage)) == saved
    async with sessions() as session:
        (recorded,) = await session.scalars(select(InformationRequest))
    assert recorded.answer == "أرفقت الصك"
    # Too late, or another browser without the cookie: back to the status page.
    clock.advance(timedelta(minutes=31))
    late = await client.get("/status/answer/received", allow_redirects=False)
    assert late.status == 303 and late.headers["Location"] == "/status"
    clock.advance(timedelta(minutes=-31))
    client.session.cookie_jar.clear(lambda cookie: cookie.key == RECEIVED_COOKIE)
    gone = await client.get("/status/answer/received", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/status"
    async with sessions() as session:
        (kept,) = await session.scalars(select(Attachment))
    assert (kept.content_type, kept.filename) == ("image/jpeg", "صك الحكم.jpg")
    assert await client.app[ATTACHMENTS].read(kept.storage_key) == photo
    # Nothing more to answer: the permission is gone, and the status page no longer offers it.
    assert (await client.get("/status/answer")).status == 403
    after = await (await client.post("/status", data=enquiry)).text()
    assert 'id="needs-information"' not in after and "أجاب مقدم الطلب عن المعلومات المطلوبة." in after


async def test_refused_files_are_named_and_nothing_is_kept(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await asked(client, sessions, clock)
    token = await code_checked(client, sessions, number)
    page = await (await client.get("/status/answer")).text()
    (question,) = re.findall(r'name="information_request_id" value="(\d+)"', page)
    large = b"%PDF-" + b"0" * (300 * KB)
    refused = await client.post(
        "/status/answer",
        data=answer_form(
            token, int(question), "نص", [("photo.gif", GIF, "image/gif"), ("big.pdf", large, "application/pdf")]
        ),
    )
    text = await refused.text()
    assert refused.status == 422
    assert "الملف \u2068photo.gif\u2069 ليس ملف PDF أو JPEG أو PNG." in text
    assert "حجم الملف \u2068big.pdf\u2069 أكبر من \u20680.25\u2069 ميغابايت." in text
    assert "نص</textarea>" in text  # the words typed are shown again
    too_many = await client.post(
        "/status/answer",
        data=answer_form(token, int(question), "", [(f"p{i}.png", picture(), "image/png") for i in range(3)]),
    )
    assert too_many.status == 422 and "الحد الأقصى لعدد الملفات المرفقة: \u20682\u2069." in await too_many.text()
    empty = await client.post("/status/answer", data=answer_form(token, int(question), " ", []))
    assert empty.status == 422 and "اكتبوا إجابة أو أرفقوا ملفًا واحدًا على الأقل." in await empty.text()
    assert await count(sessions, Attachment) == 0
    assert not await asyncio.to_thread(client.app[ATTACHMENTS].root.exists)
    assert await status(sessions, number) is CaseStatus.NEEDS_INFORMATION


async def test_bodies_are_bounded_everywhere(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    number = await asked(client, sessions, clock)
    token = await code_checked(client, sessions, number)
    page = await (await client.get("/status/answer")).text()
    (question,) = re.findall(r'name="information_request_id" value="(\d+)"', page)
    # Two files at their largest and the fields fit; a body past that is refused before it is read whole.
    largest = b"%PDF-" + b"0" * (256 * KB - 5)
    fits = await client.post(
        "/status/answer",
        data=answer_form(
            token, int(question), "", [("a.pdf", largest, "application/pdf"), ("b.pdf", largest, "application/pdf")]
        ),
    )
    assert fits.status == 200, await fits.text()
    over = await client.post(
        "/status/answer", data=answer_form(token, int(question), "", [("c.pdf", b"%PDF-" + b"0" * (700 * KB), "x")])
    )
    assert over.status == 413
    # Other routes keep the application's own bound.
    status_token = await csrf_token(client, "/status")
    big_form = {"tracking_number": number, "phone": "0" * (70 * KB), "csrf_token": status_token}
    assert (await client.post("/status", data=big_form)).status == 413


async def test_the_permission_is_bound_to_the_request_and_short_lived(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await asked(client, sessions, clock)
    await code_checked(client, sessions, number)
    jar = client.session.cookie_jar
    value = next(c for c in jar if c.key == ANSWER_COOKIE).value
    case_id, expires, mac = value.split(".")

    def holding(token: str) -> None:
        jar.clear(lambda cookie: cookie.key == ANSWER_COOKIE)
        cookie: SimpleCookie = SimpleCookie()
        cookie[ANSWER_COOKIE] = token
        cookie[ANSWER_COOKIE]["path"] = "/status/answer"
        jar.update_cookies(cookie, client.make_url("/status/answer"))

    # Another request's number with this signature is not ours, nor is a later end.
    for forged in (f"{int(case_id) + 1}.{expires}.{mac}", f"{case_id}.{int(expires) + 3600}.{mac}", "1.2"):
        holding(forged)
        refused = await client.get("/status/answer")
        assert refused.status == 403 and "انتهت مهلة الإجابة" in await refused.text()
    holding(value)
    assert (await client.get("/status/answer")).status == 200
    clock.advance(timedelta(minutes=31))
    assert (await client.get("/status/answer")).status == 403
    # No code is sent for a phone other than the request's, and a wrong phone learns nothing.
    token = await csrf_token(client, "/status")
    other_phone = await client.post(
        "/status/answer/code", data={"tracking_number": number, "phone": "0509999999", "csrf_token": token}
    )
    assert other_phone.status == 404
    # Forms without the page's token are refused.
    tokenless = await client.post("/status/answer/code", data={"tracking_number": number, "phone": PHONE})
    assert tokenless.status == 403


async def test_the_answer_over_the_api(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    number = await asked(client, sessions, clock)
    base = f"/api/v1/requests/{number}"
    assert (await client.post(f"{base}/code", json={"phone": "0509999999"})).status == 404
    bad = await client.post(f"{base}/code", json={"phone": PHONE, "extra": 1})
    assert bad.status == 422 and [f["field"] for f in (await bad.json())["fields"]] == ["extra"]
    sent = await client.post(f"{base}/code", json={"phone": PHONE}, headers={"Accept-Language": "en"})
    assert sent.status == 202
    body = await sent.json()
    (question,) = body["questions"]
    assert question["question"] == "صورة صك الحكم"
    code = await latest_code(sessions)

    def multipart(**fields: Any) -> FormData:
        form = FormData(default_to_multipart=True)
        for name, value in fields.items():
            form.add_field(name, str(value))
        return form

    assert (await client.post(f"{base}/answers", json={"phone": PHONE})).status == 415
    typed = await client.post(f"{base}/answers", data=multipart(phone=PHONE, code=code, question_id="x", answer="a"))
    assert typed.status == 422 and [f["field"] for f in (await typed.json())["fields"]] == ["question_id"]
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(f"{base}/answers", data=multipart(phone=PHONE, code=wrong, question_id=question["id"]))
    assert refused.status == 403
    error = await refused.json()
    assert error["error"] == "wrong_code" and error["messages"]["ar"] == "الرمز غير صحيح. المحاولات المتبقية: 4."

    form = multipart(phone=PHONE, code=code, question_id=question["id"], answer="")
    form.add_field("files", GIF, filename="scan.gif", content_type="image/gif")
    named = await client.post(f"{base}/answers", data=form, headers={"Accept-Language": "en"})
    assert named.status == 422
    (problem,) = (await named.json())["fields"]
    assert (
        problem["field"] == "files.0" and problem["message"] == "\u2068scan.gif\u2069 is not a PDF, JPEG or PNG file."
    )
    assert await count(sessions, Attachment) == 0

    form = multipart(phone=PHONE, code=code, question_id=question["id"], answer="مرفق الصك")
    form.add_field("files", pdf(), filename="../deed.pdf", content_type="application/pdf")
    done = await client.post(f"{base}/answers", data=form)
    assert done.status == 201, await done.text()
    answer = await done.json()
    assert answer["status"] == "received" and [a["filename"] for a in answer["attachments"]] == ["deed.pdf"]
    assert await status(sessions, number) is CaseStatus.RECEIVED
    again = await client.post(f"{base}/answers", data=multipart(phone=PHONE, code=code, question_id=question["id"]))
    assert again.status == 403 and (await again.json())["error"] == "no_code"  # the code was used
    nothing = await client.post(f"{base}/code", json={"phone": PHONE})
    assert nothing.status == 409 and (await nothing.json())["error"] == "nothing_to_answer"


async def codes_sent(sessions: Sessions) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose.like("applicant_code:%"))
        )
    return int(found or 0)


async def test_sending_the_code_redirects_and_a_refresh_sends_no_other(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await asked(client, sessions, clock)
    token = await csrf_token(client, "/status")
    enquiry = {"tracking_number": number, "phone": PHONE, "csrf_token": token}
    sent = await client.post("/status/answer/code", data=enquiry, allow_redirects=False)
    # The request is named by a signed cookie for the code page alone; neither number nor phone in the address.
    assert sent.status == 303 and sent.headers["Location"] == "/status/answer/code"
    cookie = sent.cookies[CODE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/status/answer/code"
    assert await codes_sent(sessions) == 1
    for _ in range(2):  # the page, then a refresh of it
        page = await client.get("/status/answer/code")
        text = await page.text()
        assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
        assert 'id="code"' in text and number in text and "صورة صك الحكم" in text
    assert await codes_sent(sessions) == 1
    # The page's form checks the code as before (its hidden fields carry the request's number and phone).
    hidden = dict(re.findall(r'<input type="hidden" name="(tracking_number|phone)" value="([^"]*)">', text))
    verified = await client.post(
        "/status/answer/verify",
        data={**hidden, "csrf_token": token, "code": await latest_code(sessions)},
        allow_redirects=False,
    )
    assert verified.status == 303 and verified.headers["Location"] == "/status/answer"
    # The code's time over, or another browser: back to the status page, nothing sent.
    clock.advance(timedelta(minutes=client.app[SETTINGS].applicant_code_minutes, seconds=1))
    late = await client.get("/status/answer/code", allow_redirects=False)
    assert late.status == 303 and late.headers["Location"] == "/status"
    client.session.cookie_jar.clear()
    assert (await client.get("/status/answer/code", allow_redirects=False)).headers["Location"] == "/status"
    assert await codes_sent(sessions) == 1


async def test_the_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert "post" in paths["/api/v1/requests/{tracking_number}/code"]
    answers = paths["/api/v1/requests/{tracking_number}/answers"]["post"]
    schema = answers["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema == {"$ref": "#/components/schemas/AnswerForm"}
    assert "files" in document["components"]["schemas"]["AnswerForm"]["properties"]


async def referred_and_answered(client: Client, sessions: Sessions, clock: FrozenClock) -> tuple[str, int]:
    """A request referred to housing, whose question the applicant answered with a photo; the file's id."""
    housing = await add_department(sessions, "housing")
    number = (await (await client.post("/api/v1/requests", json=api_payload())).json())["tracking_number"]
    async with transaction(sessions) as session:
        found = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert found is not None
        case = (await cases.lock_cases(session=session, case_ids=[found.id]))[found.id]
        (referral,) = await referrals.refer(
            session=session,
            clock=clock,
            case=case,
            department_ids=[housing],
            directive="دراسة الطلب",
            source=ReferralSource.AUDIT_DESK,
            category_code=None,
            urgency=None,
            actor_id=None,
            status_url=URL,
        )
        locked = await referrals.lock(session=session, referral_id=referral.id)
        question = await information.ask_applicant(
            session=session,
            clock=clock,
            case=case,
            question="عقد الإيجار",
            actor_id=None,
            status_url=URL,
            referral=locked,
        )
    async with transaction(sessions) as session:
        again = await session.get_one(InformationRequest, question.id)
        await information.answer(
            session=session,
            clock=clock,
            request=again,
            text="",
            uploads=[upload("lease.png", picture())],
            store=client.app[ATTACHMENTS],
        )
    async with sessions() as session:
        (file,) = await session.scalars(select(Attachment))
    return str(number), file.id


async def test_attachments_are_served_only_to_those_who_handle_the_request(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    _, file_id = await referred_and_answered(client, sessions, clock)
    path = f"/attachments/{file_id}"
    anonymous = await client.get(path, allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login")

    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    await sign_in(client, "followup")
    served = await client.get(path)
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"] == "attachment; filename=\"lease.png\"; filename*=UTF-8''lease.png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in served.headers["Cache-Control"]
    assert await served.read() == picture()
    assert (await client.get("/attachments/999999")).status == 404

    await make_staff(sessions, clock, Role.INTAKE_DESK, "intake")
    await sign_in(client, "intake")
    assert (await client.get(path)).status == 403

    await add_department(sessions, "health")
    await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "health_liaison", department_code="health")
    await sign_in(client, "health_liaison")
    other = await client.get(path)
    assert other.status == 403 and "هذا الملف يخص إحالة إلى جهة أخرى." in await other.text()

    await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "housing_liaison", department_code="housing")
    await sign_in(client, "housing_liaison")
    assert (await client.get(path)).status == 200


async def test_the_audit_desk_sees_questions_answers_and_files(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await asked(client, sessions, clock)
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        (question,) = await information.open_requests(session=session, case=case)
        await information.answer(
            session=session,
            clock=clock,
            request=question,
            text="أرفقت الصك",
            uploads=[upload("deed.pdf", pdf())],
            store=client.app[ATTACHMENTS],
        )
    async with sessions() as session:
        (file,) = await session.scalars(select(Attachment))
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    page = await (await client.get(f"/audit/cases/{number}")).text()
    section = page[page.index('id="information-asked"') :]
    assert "صورة صك الحكم" in section and "أرفقت الصك" in section
    assert f'href="/attachments/{file.id}"' in section and "deed.pdf" in section
    served = await client.get(f"/attachments/{file.id}")
    assert served.status == 200 and served.headers["Content-Type"] == "application/pdf"
    # A file whose bytes are gone says so rather than failing.
    client.app[ATTACHMENTS].path_of(file.storage_key).unlink()
    assert (await client.get(f"/attachments/{file.id}")).status == 404
