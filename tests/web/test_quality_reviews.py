"""The daily review of ratings through the pages and the API, on SQLite and PostgreSQL: the queue (negative ones
first, overdue on top), a review refused field by field with nothing saved, then saved; the causes page; each
member of staff's own ratings and nobody else's; other roles refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from quality.models import RatingReview, ReviewCause
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.quality.test_review import rate, riyadh_at

Sessions = async_sessionmaker[AsyncSession]
TODAY = date(2026, 11, 24)  # the clock fixture's Tuesday


async def _reviews(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RatingReview)) or 0)


async def _api_headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}


async def test_the_queue_and_a_review_through_the_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    happy = await rate(sessions, clock, 5, at=riyadh_at(TODAY, 8, 30), staff_id=desk.id)
    angry = await rate(sessions, clock, 1, at=riyadh_at(TODAY, 9), staff_id=desk.id, comment="انتظرت طويلًا")
    old = await rate(sessions, clock, 2, at=riyadh_at(TODAY - timedelta(days=5), 11), staff_id=desk.id)
    await sign_in(client, "manager")

    page = await client.get("/quality/reviews")
    html = await page.text()
    assert page.status == 200
    overdue = html[html.index('id="overdue"') : html.index('id="day-ratings"')]
    day = html[html.index('id="day-ratings"') :]
    assert f'id="overdue-{old}"' in overdue and "3 working days" not in overdue  # Arabic page
    assert day.index(f'id="rating-{angry}"') < day.index(f'id="rating-{happy}"')
    assert "Staff intake_desk" in day and "انتظرت طويلًا" in day
    # The comments are the applicants' own words: the page asks not to copy them elsewhere.
    assert 'id="comments-are-personal"' in html and "بيانات شخصية" in html
    # The manager's need to know does not reach a request just received: no tracking number, no link to it.
    assert "/cases?tracking_number=" not in html

    token = await csrf_token(client, "/quality/reviews")
    refused = await client.post(
        f"/quality/reviews/{angry}",
        data={"csrf_token": token, "day": TODAY.isoformat(), "note": "", "cause": "retired_or_not", "action": ""},
    )
    text = await refused.text()
    assert refused.status == 422
    assert "ملاحظة" in text and "السبب" in text and "الإجراء" in text  # each field named, in Arabic
    assert await _reviews(sessions) == 0

    saved = await client.post(
        f"/quality/reviews/{angry}",
        data={
            "csrf_token": token,
            "day": TODAY.isoformat(),
            "note": "Twenty minutes at the desk; the system was slow.",
            "cause": "system_fault",
            "action": "process_change",
        },
        allow_redirects=False,
    )
    assert saved.status == 303
    assert saved.headers["Location"] == f"/quality/reviews?day={TODAY.isoformat()}&done=reviewed#rating-{angry}"
    one_click = await client.post(
        f"/quality/reviews/{happy}", data={"csrf_token": token, "day": TODAY.isoformat()}, allow_redirects=False
    )
    assert one_click.status == 303 and await _reviews(sessions) == 2
    after = await (await client.get(saved.headers["Location"])).text()
    assert 'id="notice"' in after and "Staff manager" in after and "Twenty minutes at the desk" in after

    missing = await client.post("/quality/reviews/99999", data={"csrf_token": token, "note": "x"})
    assert missing.status == 404
    for wrong in ("2026-13-40", "9999-12-31", "0001-01-01"):
        wrong_day = await client.get(f"/quality/reviews?day={wrong}")
        assert wrong_day.status == 422 and 'id="day-error"' in await wrong_day.text(), wrong


async def test_other_roles_are_refused_and_see_only_their_own_ratings(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    me = await make_staff(sessions, clock, Role.INTAKE_DESK, "me")
    other = await make_staff(sessions, clock, Role.CALL_CENTRE, "other")
    await rate(sessions, clock, 4, at=riyadh_at(TODAY, 9), staff_id=me.id, comment="Kind and quick")
    await rate(sessions, clock, 1, at=riyadh_at(TODAY, 10), staff_id=other.id, comment="Not my rating")
    await sign_in(client, "me")
    for path in ("/quality/reviews", "/quality/causes", "/api/v1/quality/reviews", "/api/v1/quality/reviews/overdue"):
        assert (await client.get(path)).status == 403, path
    token = await csrf_token(client, "/me/ratings")
    assert (await client.post("/quality/reviews/1", data={"csrf_token": token, "note": "x"})).status == 403
    assert (await client.post("/quality/causes", data={"csrf_token": token, "code": "abc"})).status == 403

    page = await client.get("/me/ratings")
    html = await page.text()
    assert page.status == 200 and 'href="/me/ratings"' in html
    # One rating this month: fewer than five share it, so its comment is withheld (quality.own_ratings).
    assert "Kind and quick" not in html and "Not my rating" not in html and 'class="comments-withheld"' in html
    counts = re.findall(r'<dd class="count">(\d+)</dd>', html)
    assert counts == ["1", "1"]
    mine = await (await client.get("/api/v1/me/ratings")).json()
    assert mine["last_30_days"] == {"count": 1, "mean": 4.0, "faces": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert [(m["ratings"], m["shown"], m["comments"]) for m in mine["comment_months"]] == [
        (1, False, []),
        (0, False, []),
    ]
    assert "tracking_number" not in str(mine)


async def test_the_api_lists_reviews_and_refuses_in_both_languages(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    happy = await rate(sessions, clock, 4, at=riyadh_at(TODAY, 8))
    angry = await rate(sessions, clock, 2, at=riyadh_at(TODAY, 9), comment="Rude")
    old = await rate(sessions, clock, 1, at=riyadh_at(TODAY - timedelta(days=7), 9))
    await sign_in(client, "manager")
    headers = await _api_headers(client)

    queue = await (await client.get(f"/api/v1/quality/reviews?day={TODAY.isoformat()}")).json()
    assert [r["id"] for r in queue["ratings"]] == [angry, happy]
    assert queue["overdue_count"] == 1 and queue["ratings"][0]["negative"] is True
    assert queue["ratings"][0]["tracking_number"] is None and queue["ratings"][0]["review"] is None
    overdue = await (await client.get("/api/v1/quality/reviews/overdue")).json()
    assert overdue["count"] == 1 and overdue["ratings"][0]["id"] == old
    assert overdue["ratings"][0]["overdue_working_days"] == 5
    bad_day = await client.get("/api/v1/quality/reviews?day=yesterday")
    assert bad_day.status == 422 and (await bad_day.json())["fields"][0]["field"] == "day"

    refused = await client.post(
        f"/api/v1/quality/reviews/{old}", json={"note": "n", "cause": "facilities", "action": "punish"}, headers=headers
    )
    body = await refused.json()
    assert refused.status == 422 and [f["field"] for f in body["fields"]] == ["action"]
    assert set(body["fields"][0]["messages"]) == {"ar", "en"} and "coaching" in body["fields"][0]["messages"]["en"]
    extra = await client.post(f"/api/v1/quality/reviews/{old}", json={"score": 5}, headers=headers)
    assert extra.status == 422
    unknown = await client.post("/api/v1/quality/reviews/424242", json={"note": "x"}, headers=headers)
    assert unknown.status == 404 and (await unknown.json())["error"] == "rating_not_found"
    assert await _reviews(sessions) == 0

    done = await client.post(
        f"/api/v1/quality/reviews/{old}",
        json={"note": "Explained the rules badly.", "cause": "unclear_information", "action": "coaching"},
        headers=headers,
    )
    reviewed = await done.json()
    assert done.status == 200, reviewed
    assert reviewed["review"]["cause"]["code"] == "unclear_information" and reviewed["review"]["action"] == "coaching"
    assert reviewed["review"]["reviewed_by"] == "Staff manager"
    assert (await (await client.get("/api/v1/quality/reviews/overdue")).json())["count"] == 0

    document = await (await client.get("/openapi.json")).json()
    for path in ("/api/v1/quality/reviews", "/api/v1/quality/reviews/{rating_id}", "/api/v1/me/ratings"):
        assert path in document["paths"], path
    assert "RatingReviewIn" in document["components"]["schemas"]


async def test_the_causes_page_adds_renames_retires_and_moves(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    token = await csrf_token(client, "/quality/causes")
    refused = await client.post(
        "/quality/causes", data={"csrf_token": token, "code": "long_wait", "name_ar": "", "name_en": "Wait"}
    )
    assert refused.status == 422 and "الاسم بالعربية" in await refused.text()
    added = await client.post(
        "/quality/causes",
        data={"csrf_token": token, "code": "parking", "name_ar": "المواقف", "name_en": "Parking"},
        allow_redirects=False,
    )
    assert added.status == 303 and added.headers["Location"] == "/quality/causes?done=added"
    renamed = await client.post(
        "/quality/causes/parking",
        data={"csrf_token": token, "name_ar": "مواقف السيارات", "name_en": "Car parking"},
        allow_redirects=False,
    )
    assert renamed.status == 303
    bad_rename = await client.post("/quality/causes/parking", data={"csrf_token": token, "name_ar": "", "name_en": ""})
    assert bad_rename.status == 422
    assert (await client.post("/quality/causes/nothing/active", data={"csrf_token": token})).status == 404
    retired = await client.post(
        "/quality/causes/parking/active", data={"csrf_token": token, "active": "0"}, allow_redirects=False
    )
    moved = await client.post(
        "/quality/causes/parking/move", data={"csrf_token": token, "direction": "up"}, allow_redirects=False
    )
    assert retired.status == moved.status == 303
    async with sessions() as session:
        parking = await session.get_one(ReviewCause, "parking")
        causes = list(await session.scalars(select(ReviewCause.code).order_by(ReviewCause.position)))
    assert (parking.name_ar, parking.name_en, parking.active) == ("مواقف السيارات", "Car parking", False)
    assert causes[-2:] == ["parking", "other"]
    page = await (await client.get("/quality/causes?done=moved")).text()
    assert 'id="cause-parking"' in page and 'id="notice"' in page
