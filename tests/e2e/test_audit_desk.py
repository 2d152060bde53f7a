"""The audit desk in a real browser: triage a request in one form, merge a duplicate; a manager reads the fairness
report."""

from __future__ import annotations

import pyotp
import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import PASSWORD, Client, api_payload, make_staff
from tests.followup.arrange import add_department

pytestmark = pytest.mark.browser


async def sign_in(page: Page, base: str, username: str, clock: FrozenClock | None = None) -> None:
    """Signs in by the form; a role that must have an authenticator sets one up there, with the server's clock."""
    await page.goto(base + "/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    if "/login/enrol" in page.url:
        assert clock is not None, f"{username} must set up an authenticator: pass the server's clock to sign_in"
        secret = (await page.text_content("#totp-secret") or "").replace(" ", "")
        await page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
        await page.click("#enrol button.primary")
        await page.click("#continue")


async def test_classify_merge_and_read_the_fairness_report(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    first = await (
        await client.post(
            "/api/v1/requests",
            json=api_payload(text="أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ"),
        )
    ).json()
    second = await (
        await client.post(
            "/api/v1/requests",
            json=api_payload(text="اطلب مقابلة معالي الوزير بخصوص قضيه حضانه ابنائي لتعثر تنفيذ الحكم"),
        )
    ).json()
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    base = str(client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 1180, "height": 820})

    await sign_in(page, base, "audit", clock)
    # The audit desk lands on its home page: the requests waiting for triage, oldest first.
    assert page.url == base + "/staff"
    await page.click(f"#home-triage a[href='/audit/cases/{first['tracking_number']}']")
    # One form: verification, classification and the route (already the video audience the applicant asked for).
    assert await page.input_value("#route") == "audience_video"
    await page.check("#verified")
    await page.select_option("#category", "family_personal_status")
    await page.select_option("#urgency", "urgent")  # above what the category implies
    await page.click("#save-triage")
    assert "سبب" in (await page.text_content(".error-summary") or "")
    assert "سبب" in (await page.text_content("#change_reason-error") or "")
    assert await page.is_checked("#verified")  # what was chosen stays chosen
    await page.select_option("#change_reason", "health_or_safety")
    await page.fill("#change_text", "الأطفال في خطر")
    await page.click("#save-triage")
    assert first["tracking_number"] in (await page.text_content(".notice-done") or "")
    assert (await page.text_content("#current-urgency") or "").strip() == "عاجلة"
    assert (await page.text_content("#case-status") or "").strip() == "بانتظار المقابلة"  # routed in the same save

    await page.goto(f"{base}/audit/cases/{second['tracking_number']}")
    merge = page.locator("button.merge")
    assert await merge.count() == 1
    await merge.click()
    await page.click("dialog.confirm-dialog .confirm-yes")  # closing as a duplicate asks first
    assert (await page.text_content("#case-status") or "").strip() == "مغلق لتكراره"
    assert "منقول من الطلب المكرر" not in await page.content()  # the words went to the original
    await page.goto(f"{base}/audit/cases/{first['tracking_number']}")
    assert second["tracking_number"] in await page.content()
    await page.close()

    page = await browser.new_page()
    await sign_in(page, base, "manager", clock)
    await page.goto(base + "/reports/fairness")
    rows = await page.locator("#changes-by-staff tbody tr").all_text_contents()
    assert any("Staff audit_desk" in row for row in rows)
    assert await page.locator("#waiting tbody tr").count() > 0
    await page.close()


async def test_a_written_referral_shows_its_departments_only_when_chosen(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    number = (await (await client.post("/api/v1/requests", json=api_payload())).json())["tracking_number"]
    await add_department(sessions, "moj", name_ar="وزارة العدل", name_en="Ministry of Justice")
    await add_department(sessions, "enforcement", name_ar="محكمة التنفيذ", name_en="Enforcement Court", parent="moj")
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    base = str(client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 1180, "height": 820})
    await sign_in(page, base, "audit", clock)
    await page.goto(f"{base}/audit/cases/{number}")
    await page.check("#verified")
    await page.select_option("#category", "housing")
    await page.select_option("#urgency", "normal")
    departments = page.locator("#departments")
    assert not await departments.is_visible()  # an audience needs none
    await page.select_option("#route", "written_referral")
    assert await departments.is_visible() and await page.locator("#referral_text").is_visible()
    child = await page.locator("#departments label.depth-1").bounding_box()
    parent = await page.locator("#departments label.depth-0").bounding_box()
    # Each level of the tree a step in from its parent, on the reading side (the right in Arabic).
    assert child is not None and parent is not None
    assert child["x"] + child["width"] < parent["x"] + parent["width"]
    await page.check("#departments input[value='enforcement']")
    await page.fill("#referral_text", "يحال لتنفيذ الحكم وإفادة صاحبه")
    await page.click("#save-triage")
    assert (await page.text_content("#case-status") or "").strip() == "أُحيل إلى الإدارة المختصة"
    assert "محكمة التنفيذ" in (await page.text_content("#history") or "")
    await page.close()
