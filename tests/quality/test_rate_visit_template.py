"""The WhatsApp invitation to rate an audience, sent outside the 24-hour window as the approved template rate_visit:
through the real dispatcher and the real twilio library against the fake Twilio API, on SQLite and PostgreSQL. The
template's one variable is the whole message with its signed link written in; a ContentSid or variables Twilio
would refuse are refused by the fake as by Twilio."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.links import Links
from notify.texts import rate_audience_sms
from quality import invites
from tests.conftest import TEST_SECRET, make_settings, start_client
from tests.factories import Client, csrf_token, details, make_staff
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio
from web.keys import DISPATCHER, SESSIONS

Sessions = async_sessionmaker[AsyncSession]
RATE_VISIT_SID = "HX" + "e" * 32
PUBLIC_URL = "https://majlis.example"
URL = f"{PUBLIC_URL}/status"


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def live(database_url: str, clock: FrozenClock, twilio_api: FakeTwilio) -> AsyncIterator[Client]:
    settings = make_settings(
        database_url,
        notify_backend="providers",
        public_url=PUBLIC_URL,
        twilio_account_sid=FAKE_ACCOUNT_SID,
        twilio_auth_token=FAKE_AUTH_TOKEN,
        twilio_api_base=twilio_api.base_url,
        twilio_whatsapp_from="+966110000000",
        twilio_voice_from="+966110000001",
        whatsapp_templates={invites.RATE_TEMPLATE: RATE_VISIT_SID},
    )
    client = await start_client(create_app(settings, clock=clock))
    yield client
    await client.close()


async def test_an_audience_is_offered_for_rating_by_the_rate_visit_template_with_its_link_written_in(
    live: Client, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    sessions: Sessions = live.app[SESSIONS]
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    async with transaction(sessions) as session:
        case = (
            await cases.submit(session=session, clock=clock, details=details(channel="whatsapp"), status_url=URL)
        ).case
        invite = await invites.after_audience(
            session=session, clock=clock, case=case, appointment_id=5, staff_id=official.id
        )
    assert invite is not None
    await live.app[DISPATCHER].run_once()
    # The applicant never wrote on WhatsApp (a request taken another way): the window is closed.
    [sent] = [a for a in twilio_api.accepted if a.params.get("ContentSid") == RATE_VISIT_SID]
    assert "Body" not in sent.params and sent.params["To"] == f"whatsapp:{case.phone}"
    [text] = json.loads(sent.params["ContentVariables"]).values()
    link = text.rsplit(" ", 1)[-1]
    assert text == rate_audience_sms(
        language=case.language.value, tracking_number=case.tracking_number, rating_link=link
    )
    token = link.removeprefix(f"{PUBLIC_URL}/rate/")
    assert Links(public_url=PUBLIC_URL, secret=TEST_SECRET).check_rating_token(token, now=clock.now()) == invite.id
    # Followed, the link opens the rating page, which takes the rating once.
    page = await live.get(f"/rate/{token}")
    assert page.status == 200 and (await page.text()).count('name="score"') == 5
    form = {"score": "4", "comment": "", "csrf_token": await csrf_token(live, f"/rate/{token}")}
    rated = await live.post(f"/rate/{token}", data=form, allow_redirects=False)
    assert rated.status == 303 and rated.headers["Location"] == f"/rate/{token}?done=1"
    assert (await live.get(f"/rate/{token}")).status == 409


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"ContentSid": "HX123", "ContentVariables": '{"1": "x"}'}, 21655),
        ({"ContentSid": RATE_VISIT_SID, "ContentVariables": "not json"}, 21656),
        ({"ContentSid": RATE_VISIT_SID, "ContentVariables": '{"1": "two\\nlines"}'}, 21656),
        ({"ContentSid": RATE_VISIT_SID, "ContentVariables": '{"1": ""}'}, 21656),
        ({"Body": "x", "ContentVariables": '{"1": "x"}'}, 21654),
    ],
)
async def test_the_fake_refuses_a_template_send_twilio_would_refuse(
    twilio_api: FakeTwilio, params: dict[str, str], code: int
) -> None:
    form = {"To": "whatsapp:+966501234567", "From": "whatsapp:+966110000000"} | params
    url = f"{twilio_api.base_url}/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json"
    credentials = base64.b64encode(f"{FAKE_ACCOUNT_SID}:{FAKE_AUTH_TOKEN}".encode()).decode()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {credentials}"}) as http:
        async with http.post(url, data=form) as answer:
            assert (answer.status, (await answer.json())["code"]) == (400, code)
    assert twilio_api.accepted == []
