"""The fake's inbound traffic: forms as Twilio posts them, signed so the real RequestValidator accepts them at the
public address, through a test client and through a base URL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]

from tests.fake_twilio import FAKE_ACCOUNT_SID, FakeTwilio, Inbound, InboundRefused

PUBLIC = "https://majlis.example"
TOKEN = "inbound-test-token"


async def echo(request: web.Request) -> web.Response:
    """Twilio's check as Majlis makes it, then the fields posted, one per line."""
    form = {name: str(value) for name, value in (await request.post()).items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(TOKEN).validate(PUBLIC + request.raw_path, form, signature):
        return web.Response(status=403, text="not signed")
    return web.Response(text="\n".join(f"{name}={value}" for name, value in form.items()), content_type="text/xml")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_post("/{path:.*}", echo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def fields(answer: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in answer.splitlines())


async def test_a_whatsapp_message_with_media_is_signed_as_twilio_signs_it(server: TestServer) -> None:
    fake = FakeTwilio()
    photo = fake.add_media(b"\xff\xd8\xff", "image/jpeg")
    client = TestClient(server)
    await client.start_server()
    inbound = Inbound(client, PUBLIC, TOKEN)
    try:
        sent = fields(
            await inbound.whatsapp("١٢٣", sender="+966501112222", media=[(photo, "image/jpeg")], profile_name="Noura")
        )
    finally:
        await client.close()
    assert sent["From"] == "whatsapp:+966501112222" and sent["WaId"] == "966501112222"
    assert sent["Body"] == "١٢٣" and sent["ProfileName"] == "Noura" and sent["AccountSid"] == FAKE_ACCOUNT_SID
    assert sent["MessageSid"].startswith("MM") and len(sent["MessageSid"]) == 34
    assert (sent["NumMedia"], sent["MediaUrl0"], sent["MediaContentType0"]) == ("1", photo, "image/jpeg")
    assert sent["MessageType"] == "image"


async def test_calls_through_a_base_url_and_a_wrong_signature_refused(server: TestServer) -> None:
    inbound = Inbound(str(server.make_url("/")), PUBLIC, TOKEN)
    try:
        ringing = fields(await inbound.call("/webhooks/twilio/enquiry", caller="+966503334444"))
        pressed = fields(await inbound.call("/webhooks/twilio/enquiry?step=2", call_sid=ringing["CallSid"], digits="1"))
        assert ringing["From"] == "+966503334444" and "Digits" not in ringing
        assert pressed["CallSid"] == ringing["CallSid"] and pressed["Digits"] == "1"
        answer = await inbound.post("/webhooks/twilio/whatsapp", inbound.whatsapp_form("hi"), signature="forged")
        assert answer.status == 403
        stranger = Inbound(str(server.make_url("/")), PUBLIC, "another-token")
        with pytest.raises(InboundRefused) as refused:
            await stranger.whatsapp("hi")
        assert refused.value.status == 403
        await stranger.close()
    finally:
        await inbound.close()
