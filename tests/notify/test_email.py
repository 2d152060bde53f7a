"""Invitations read back with icalendar; e-mail sent through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import cv2
import numpy as np
import pytest
from icalendar import Calendar, Event, vCalAddress

from majlis.bidi import left_to_right
from majlis.clock import RIYADH, FrozenClock
from notify.arrival_qr import arrival_qr
from notify.channels import Outgoing, PermanentSendError, TransientSendError, Unresolvable
from notify.email_channel import SmtpEmail
from notify.invitation import audience_uid, invitation, tracking_number_in, uid_for
from notify.links import Links
from notify.texts import confirmation_email
from tests.conftest import TEST_SECRET
from tests.fake_smtp import FakeSmtpServer

STARTS = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 in Riyadh
STAMP = datetime(2026, 2, 20, 9, 15, tzinfo=UTC)
UID = "audience-26-000123-4@majlis.example"
SUMMARY = "مقابلة في المجلس المفتوح"
LOCATION = "قصر الحكم، الرياض; القاعة ١"
DESCRIPTION = "رقم الطلب 26-000123-4\nيرجى الحضور قبل الموعد بخمس عشرة دقيقة, مع الهوية."
APPLICANT = "applicant@example.com"
SENDER = "مجلس الإمارة <noreply@majlis.example>"


def make_invitation(
    *,
    method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    sequence: int = 0,
    starts_at: datetime = STARTS,
) -> bytes:
    return invitation(
        uid=UID,
        sequence=sequence,
        method=method,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        summary=SUMMARY,
        location=LOCATION,
        description=DESCRIPTION,
        organizer_email="majlis@majlis.example",
        organizer_name="مكتب سمو الأمير",
        attendee_email=APPLICANT,
        attendee_name="محمد بن عبدالله، الحربي",
        stamp=STAMP,
    )


def only_event(calendar: Calendar) -> Event:
    events = calendar.events
    assert len(events) == 1
    return events[0]


def test_invitation_request_reads_back() -> None:
    calendar = Calendar.from_ical(make_invitation())

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//Majlis//Audience invitations//EN"
    assert calendar["METHOD"] == "REQUEST"
    assert [timezone["TZID"] for timezone in calendar.timezones] == ["Asia/Riyadh"]
    assert calendar.get_missing_tzids() == set()
    event = only_event(calendar)
    assert event["UID"] == UID
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert event["DTSTART"].params["TZID"] == "Asia/Riyadh"
    assert event["DTEND"].params["TZID"] == "Asia/Riyadh"
    assert event.start == STARTS
    assert isinstance(event.start, datetime)
    assert (event.start.hour, event.start.minute) == (10, 0)  # Riyadh wall time in the file
    assert event.end == STARTS + timedelta(minutes=20)
    assert event["SUMMARY"] == SUMMARY
    assert event["LOCATION"] == LOCATION
    assert event["DESCRIPTION"] == DESCRIPTION
    assert event["STATUS"] == "CONFIRMED"
    organizer = event["ORGANIZER"]
    assert isinstance(organizer, vCalAddress)
    assert str(organizer) == "mailto:majlis@majlis.example"
    assert organizer.params["CN"] == "مكتب سمو الأمير"
    [attendee] = event.attendees
    assert str(attendee) == f"mailto:{APPLICANT}"
    assert dict(attendee.params) == {
        "CN": "محمد بن عبدالله، الحربي",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        # Answers come by WhatsApp, keypad or the portal link; a calendar's reply would go unread.
        "RSVP": "FALSE",
    }


def test_invitation_text_is_utf8_with_crlf_and_folded_lines() -> None:
    text = make_invitation()

    assert SUMMARY.encode() in text
    assert b"DTSTART;TZID=Asia/Riyadh:20260302T100000\r\n" in text
    assert b"DTSTAMP:20260220T091500Z\r\n" in text
    assert all(len(line) <= 75 for line in text.split(b"\r\n"))
    assert b"\n" not in text.replace(b"\r\n", b"")


def test_same_audience_gives_the_same_invitation() -> None:
    # No wall clock and no random calendar UID go into the file.
    assert make_invitation() == make_invitation()


def test_moved_audience_keeps_its_uid_and_raises_sequence() -> None:
    first = only_event(Calendar.from_ical(make_invitation(sequence=0)))
    moved = only_event(Calendar.from_ical(make_invitation(sequence=1, starts_at=STARTS + timedelta(days=7))))

    assert moved["UID"] == first["UID"] == UID
    assert (first["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert moved.start == datetime(2026, 3, 9, 10, 0, tzinfo=RIYADH)


def test_cancellation() -> None:
    calendar = Calendar.from_ical(make_invitation(method="CANCEL", sequence=2))

    assert calendar["METHOD"] == "CANCEL"
    event = only_event(calendar)
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == UID
    assert event["SEQUENCE"] == 2
    assert str(event["ATTENDEE"]) == f"mailto:{APPLICANT}"


def test_invitation_refuses_naive_times_and_backwards_audiences() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_invitation(starts_at=datetime(2026, 3, 2, 10, 0))
    with pytest.raises(ValueError, match="end after it starts"):
        invitation(
            uid=UID,
            sequence=0,
            method="REQUEST",
            starts_at=STARTS,
            ends_at=STARTS,
            summary="",
            location="",
            description="",
            organizer_email="majlis@majlis.example",
            organizer_name="",
            attendee_email=APPLICANT,
            attendee_name="",
            stamp=STAMP,
        )


def test_uid_for() -> None:
    assert uid_for("26-000123-4", "Majlis.Example") == "audience-26-000123-4@majlis.example"
    with pytest.raises(ValueError, match="tracking number"):
        uid_for("26 000123 4", "majlis.example")
    with pytest.raises(ValueError, match="domain"):
        uid_for("26-000123-4", "majlis.example>\r\nX")


def test_the_audience_uid_takes_the_organizers_domain_and_gives_back_its_tracking_number() -> None:
    uid = audience_uid("26-000123-4", "majlis@Majlis.Example")
    assert uid == "audience-26-000123-4@majlis.example"
    assert tracking_number_in(uid) == "26-000123-4"
    assert tracking_number_in("audience-26-000123-4@another.example") == "26-000123-4"
    assert tracking_number_in("appointment-17@majlis") is None
    assert tracking_number_in("audience-26-000123-4@") is None
    assert tracking_number_in("xaudience-26-000123-4@majlis.example") is None


# E-mail through SMTP.


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


def channel_for(smtp: FakeSmtpServer, **overrides: Any) -> SmtpEmail:
    settings: dict[str, Any] = {
        "host": smtp.host,
        "port": smtp.port,
        "username": "",
        "password": "",
        "starttls": False,
        "timeout": 5.0,
        "sender": SENDER,
    }
    settings.update(overrides)
    return SmtpEmail(**settings)


def outgoing(*, message_id: int = 123, recipient: str = APPLICANT, **payload: Any) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        channel="email",
        recipient=recipient,
        language="ar",
        body="السلام عليكم،\nموعد مقابلتكم يوم الإثنين ٢ مارس الساعة ١٠:٠٠ صباحًا.",
        purpose="audience_invitation",
        payload={"subject": "موعد مقابلتكم في المجلس", **payload},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_invitation_arrives_by_email(smtp: FakeSmtpServer) -> None:
    ics = make_invitation().decode()
    clock = FrozenClock(datetime(2026, 2, 20, 9, 15, 30, tzinfo=UTC))
    channel = channel_for(smtp, clock=clock)
    sent = outgoing(ics=ics, method="REQUEST")

    delivery = await channel.send(sent)

    assert delivery.provider_id == "<outbox-123@majlis.example>"
    assert delivery.status == "accepted"
    [mail] = smtp.received
    assert mail.mail_from == "noreply@majlis.example"
    assert mail.rcpt_tos == (APPLICANT,)
    message = mail.message
    assert message["Subject"] == "موعد مقابلتكم في المجلس"
    assert message["From"].addresses[0].display_name == "مجلس الإمارة"
    assert message["To"] == APPLICANT
    assert message["Message-ID"] == "<outbox-123@majlis.example>"
    assert message["Date"].datetime == clock.now()
    assert message["Auto-Submitted"] == "auto-generated"

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert isinstance(alternative, EmailMessage) and isinstance(attachment, EmailMessage)
    assert alternative.get_content_type() == "multipart/alternative"
    text, calendar_part = alternative.iter_parts()
    assert isinstance(text, EmailMessage) and isinstance(calendar_part, EmailMessage)
    assert text.get_content_type() == "text/plain"
    assert text.get_content().splitlines() == sent.body.splitlines()

    assert calendar_part.get_content_type() == "text/calendar"
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert calendar_part.get_content().encode() == ics.encode()  # CRLF line ends kept through base64
    calendar = Calendar.from_ical(calendar_part.get_content())
    assert calendar["METHOD"] == "REQUEST"
    event = only_event(calendar)
    assert event["UID"] == UID
    assert event["SUMMARY"] == SUMMARY
    assert event.start == STARTS

    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == ics.encode()


async def test_cancellation_by_email_says_cancel(smtp: FakeSmtpServer) -> None:
    ics = make_invitation(method="CANCEL", sequence=1).decode()

    await channel_for(smtp).send(outgoing(ics=ics, method="CANCEL"))

    [mail] = smtp.received
    calendar_part = mail.message.get_body(preferencelist=("calendar",))
    assert calendar_part is not None
    assert calendar_part.get_param("method") == "CANCEL"
    assert Calendar.from_ical(calendar_part.get_content())["METHOD"] == "CANCEL"


async def test_plain_email_has_only_its_text(smtp: FakeSmtpServer) -> None:
    await channel_for(smtp).send(outgoing(message_id=7))

    [mail] = smtp.received
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message["Message-ID"] == "<outbox-7@majlis.example>"
    assert "Date" not in mail.message  # no clock given: the submission server dates it
    assert "مارس" in mail.message.get_content()


async def test_refused_recipient_is_permanent(smtp: FakeSmtpServer) -> None:
    smtp.refuse(APPLICANT)

    with pytest.raises(PermanentSendError) as refused:
        await channel_for(smtp).send(outgoing())

    assert refused.value.code == "550"
    assert smtp.received == []


async def test_greylisted_recipient_is_transient(smtp: FakeSmtpServer) -> None:
    smtp.refuse(APPLICANT, code=450, text="4.2.0 Greylisted, come back later")

    with pytest.raises(TransientSendError, match="450"):
        await channel_for(smtp).send(outgoing())


async def test_deferred_message_is_transient_and_goes_on_the_next_try(smtp: FakeSmtpServer) -> None:
    smtp.defer_next(1)
    channel = channel_for(smtp)

    with pytest.raises(TransientSendError, match="451"):
        await channel.send(outgoing())
    assert smtp.received == []

    delivery = await channel.send(outgoing())
    assert delivery.provider_id == "<outbox-123@majlis.example>"
    assert len(smtp.received) == 1


async def test_closed_port_is_transient() -> None:
    channel = SmtpEmail(
        host="127.0.0.1",
        port=free_port(),
        username="",
        password="",
        starttls=False,
        timeout=2.0,
        sender=SENDER,
    )

    with pytest.raises(TransientSendError):
        await channel.send(outgoing())


async def test_silent_server_times_out_as_transient() -> None:
    # Listening but never accepting: the connection opens, the greeting never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        channel = SmtpEmail(
            host="127.0.0.1",
            port=silent.getsockname()[1],
            username="",
            password="",
            starttls=False,
            timeout=0.3,
            sender=SENDER,
        )

        with pytest.raises(TransientSendError, match="Timed out"):
            await channel.send(outgoing())


@pytest.mark.parametrize(
    ("recipient", "payload", "code"),
    [
        (APPLICANT, {"subject": ""}, "invalid-message"),
        (APPLICANT, {"subject": "Injected\r\nBcc: someone@example.com"}, "invalid-message"),
        (APPLICANT, {"ics": "BEGIN:VCALENDAR"}, "invalid-message"),
        (APPLICANT, {"ics": "BEGIN:VCALENDAR", "method": "PUBLISH"}, "invalid-message"),
        ("not an address", {}, "invalid-address"),
        ("one@example.com, two@example.com", {}, "invalid-address"),
        ("a@", {}, "invalid-message"),
    ],
)
async def test_message_that_cannot_be_written_is_permanent(
    smtp: FakeSmtpServer, recipient: str, payload: dict[str, Any], code: str
) -> None:
    with pytest.raises(PermanentSendError) as refused:
        await channel_for(smtp).send(outgoing(recipient=recipient, **payload))

    assert refused.value.code == code
    assert smtp.received == []


async def test_find_sent_is_unresolvable(smtp: FakeSmtpServer) -> None:
    channel = channel_for(smtp)

    with pytest.raises(Unresolvable):
        await channel.find_sent(outgoing(), since=STAMP)
    await channel.close()


def test_channel_needs_a_sender_domain_and_hides_its_password() -> None:
    with pytest.raises(ValueError, match="domain"):
        SmtpEmail(host="h", port=25, username="u", password="p", starttls=True, timeout=1.0, sender="noreply")
    channel = SmtpEmail(
        host="smtp.example", port=587, username="u", password="s3cret", starttls=True, timeout=1.0, sender=SENDER
    )
    assert "s3cret" not in repr(channel)


# The confirmation's arrival code as an inline QR code.

LINKS = Links(public_url="https://majlis.example", secret=TEST_SECRET)
ANSWER_PAGE = "https://majlis.example/a/eyJhIjoxN30.c2lnbmF0dXJl"


def read_qr(png: bytes) -> str:
    """The text of the QR code in a PNG, read with OpenCV (as a camera would, not by asking segno)."""
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture is not None, "not a PNG OpenCV can read"
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(picture)
    return str(text)


def pictures(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_maintype() == "image"]


def confirmation(language: str, code: str, *, message_id: int, images: bool) -> Outgoing:
    subject, body = confirmation_email(
        language=language, tracking_number="26-000123-4", when="2 March", place="Hall 1", link=ANSWER_PAGE, arrival=code
    )
    return dataclasses.replace(
        outgoing(message_id=message_id, ics=make_invitation().decode(), method="REQUEST", subject=subject),
        language=language,
        body=body,
        images=(arrival_qr(code, language=language),) if images else (),
    )


@pytest.mark.parametrize(("language", "direction", "alt"), [("ar", "rtl", "رمز الحضور"), ("en", "ltr", "Arrival code")])
async def test_the_confirmation_shows_the_arrival_code_as_an_inline_qr_code_beside_the_invitation(
    smtp: FakeSmtpServer, language: str, direction: str, alt: str
) -> None:
    code = LINKS.arrival_code(17)
    channel = channel_for(smtp)
    await channel.send(confirmation(language, code, message_id=124, images=True))
    await channel.send(confirmation(language, code, message_id=125, images=False))
    with_picture, without = (mail.message for mail in smtp.received)

    assert with_picture.get_content_type() == "multipart/mixed"
    alternative, attachment = with_picture.iter_parts()
    assert isinstance(alternative, EmailMessage) and isinstance(attachment, EmailMessage)
    assert alternative.get_content_type() == "multipart/alternative"
    text, related, calendar_part = alternative.iter_parts()
    assert isinstance(text, EmailMessage) and isinstance(related, EmailMessage)
    assert isinstance(calendar_part, EmailMessage)
    assert text.get_content_type() == "text/plain" and code in text.get_content()
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    page, picture = related.iter_parts()
    assert isinstance(page, EmailMessage) and isinstance(picture, EmailMessage)

    assert picture.get_content_type() == "image/png"
    assert picture["Content-ID"] == "<image0.outbox-124@majlis.example>"
    assert picture.get_content_disposition() == "inline"
    assert picture.get_filename() == "arrival-code.png"
    decoded = read_qr(picture.get_content())
    assert decoded == code
    assert LINKS.check_arrival_code(decoded) == 17

    assert page.get_content_type() == "text/html"
    markup = page.get_content()
    assert f'<html lang="{language}" dir="{direction}">' in markup
    # In Arabic the code reads left to right between isolates (notify.texts.isolated); in English it is bare.
    shown = left_to_right(code) if language == "ar" else code
    assert f'<img src="cid:image0.outbox-124@majlis.example" alt="{alt} {shown}"' in markup
    assert f">{code}</p>" in markup  # the code in text under the picture, too
    assert f'<a href="{ANSWER_PAGE}" dir="ltr">{ANSWER_PAGE}</a>' in markup

    # The invitation travels as it does without the picture, part for part.
    assert calendar_part.get_content_type() == "text/calendar"
    alternative_without, attachment_without = without.iter_parts()
    assert isinstance(alternative_without, EmailMessage) and isinstance(attachment_without, EmailMessage)
    *_, calendar_without = alternative_without.iter_parts()
    assert calendar_part.as_bytes() == calendar_without.as_bytes()
    assert attachment.as_bytes() == attachment_without.as_bytes()
    assert calendar_part.get_content() == make_invitation().decode()
    assert pictures(without) == []
    assert without.get_body(preferencelist=("html",)) is None


async def test_the_html_alternative_escapes_the_text_and_a_picture_alone_needs_no_invitation(
    smtp: FakeSmtpServer,
) -> None:
    code = LINKS.arrival_code(8)
    sent = dataclasses.replace(
        outgoing(),
        body='<b>Hello</b> & "welcome"\n\nYour code: ' + code + "\n",
        images=(arrival_qr(code, language="ar"),),
    )

    await channel_for(smtp).send(sent)

    [mail] = smtp.received
    assert mail.message.get_content_type() == "multipart/alternative"
    markup = mail.message.get_body(preferencelist=("html",))
    assert markup is not None
    html = markup.get_content()
    assert "&lt;b&gt;Hello&lt;/b&gt; &amp; &quot;welcome&quot;" in html and "<b>" not in html
    # The picture follows the paragraph that gives its code.
    assert html.index("Your code:") < html.index("<img") < html.index("</body>")
    [picture] = pictures(mail.message)
    assert read_qr(picture.get_content()) == code
