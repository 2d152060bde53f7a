"""Numbers and names in message texts keep their order in Arabic, and cost nothing in English."""

from __future__ import annotations

import re

from cases.tracking import parse_tracking_number
from emergency.alerts import ALERT_SMS
from majlis.bidi import BIDI_CONTROLS, first_strong, left_to_right
from notify.texts import (
    confirmation_call,
    confirmation_sms,
    isolated,
    receipt_sms,
    say,
    scheduled_sms,
    sms_segments,
)
from notify.twilio_channels import call_twiml

NUMBER = "6-000005-26"
LINK = "https://majlis.example/s/6-000005-26"


def test_an_arabic_sms_sets_the_tracking_number_apart_once_and_leaves_the_link_bare() -> None:
    body = receipt_sms(language="ar", tracking_number=NUMBER, status_url=LINK)
    assert left_to_right(NUMBER) in body
    assert body.count("\u2066") == body.count("\u2069") == 1
    # A phone's link finder would take a closing isolate into the address: the link ends the text bare.
    assert body.endswith(LINK)


def test_an_english_sms_carries_no_isolate_and_stays_in_gsm_7() -> None:
    body = receipt_sms(language="en", tracking_number=NUMBER, status_url=LINK)
    assert not set(body) & BIDI_CONTROLS
    assert body == f"Request {NUMBER} received. Track it: {LINK}"
    assert sms_segments(body) == 1  # 160 characters a segment; an isolate would make it 70


def test_places_and_dates_take_their_own_direction_and_arrival_codes_read_left_to_right() -> None:
    when = "الأحد، 13 ديسمبر 2026 م — 10:30 ص"
    body = confirmation_sms(
        language="ar", tracking_number=NUMBER, when=when, place="Hall A", arrival="{arrival}", link="{link}"
    )
    assert first_strong(when) in body and first_strong("Hall A") in body
    # The dispatcher writes the code in later, inside the isolate the text already holds.
    assert left_to_right("{arrival}") in body
    assert body.rstrip().endswith("{link}") and not body.rstrip().endswith("\u2069")


def test_a_value_its_caller_already_isolated_is_not_isolated_again() -> None:
    values = isolated("ar", {"number": left_to_right(NUMBER), "name": first_strong("Ali"), "choices": "1, 2"})
    assert values == {"number": left_to_right(NUMBER), "name": first_strong("Ali"), "choices": "1, 2"}
    assert isolated("en", {"number": NUMBER}) == {"number": NUMBER}


def test_each_placeholder_of_a_number_in_every_arabic_sms_is_isolated() -> None:
    body = scheduled_sms(language="ar", tracking_number=NUMBER, when="x", place="y", status_url=LINK)
    bare = re.sub("\u2066[^\u2069]*\u2069", "", body)
    assert NUMBER not in bare.replace(LINK, "")


def test_a_spoken_text_goes_to_the_voice_without_isolates() -> None:
    body = confirmation_call(language="ar", tracking_number=NUMBER, when="الأحد", place="القاعة")
    assert "\u2066" in body  # the written text carries them ...
    twiml = call_twiml(body=body, voice="Polly.Zeina", language="arb", goodbye=first_strong("x"), gather_action="/g")
    assert not set(twiml) & BIDI_CONTROLS  # ... the voice is not given them
    assert NUMBER in twiml


def test_a_tracking_number_copied_from_an_arabic_sms_is_still_read() -> None:
    body = receipt_sms(language="ar", tracking_number="26-000001-9", status_url=LINK)
    [copied] = re.findall("\u2066[^\u2069]*\u2069", body)
    assert parse_tracking_number(f"\u200f{copied}") == "26-000001-9"


def test_an_emergency_alert_sms_is_isolated_in_arabic_only() -> None:
    values = {"severity": "x", "type": "y", "place": "Sydney, Australia", "link": LINK}
    english = say("en", ALERT_SMS, number="E26-000001-9", **values)
    arabic = say("ar", ALERT_SMS, number="E26-000001-9", **values)
    assert not set(english) & BIDI_CONTROLS and sms_segments(english) == 1
    assert left_to_right("E26-000001-9") in arabic and first_strong("Sydney, Australia") in arabic


def test_an_arabic_place_in_an_english_text_takes_its_own_direction() -> None:
    # A room with no English name yet: the Arabic makes the SMS UCS-2 anyway, and the isolate keeps the place's
    # words from pulling the link or the full stop around them.
    body = scheduled_sms(language="en", tracking_number=NUMBER, when="Sunday", place="قاعة المجلس", status_url=LINK)
    assert first_strong("قاعة المجلس") in body and left_to_right(NUMBER) not in body and NUMBER in body
