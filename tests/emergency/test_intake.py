"""Checking a report as typed: every bad field named at once, the rest normalised."""

from __future__ import annotations

import pytest

from cases.models import Language
from emergency.checks import phone_abroad
from emergency.intake import check_report
from emergency.models import ReportType, Severity
from majlis.errors import InvalidInput
from tests.emergency.arrange import report_fields


def refusals(**overrides: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        check_report(report_fields(**overrides))
    return {e.field: e.code for e in caught.value.errors}


def test_a_valid_report_is_normalised() -> None:
    details = check_report(report_fields(country="United Arab Emirates", type="ACCIDENT", language=""))
    assert details.national_id == "1000000008"
    assert details.caller_name == "سعد العتيبي"
    assert details.phone == "+971501234567"
    assert details.country == "AE"
    assert (details.type, details.severity, details.language) == (ReportType.ACCIDENT, Severity.URGENT, Language.AR)
    assert check_report(report_fields(country="أستراليا", city="Sydney")).country == "AU"
    assert check_report(report_fields(national_id="١٠٠٠٠٠٠٠٠٨")).national_id == "1000000008"


def test_phones_of_any_country_that_take_sms() -> None:
    assert phone_abroad("٠٠٩٧١٥٠١٢٣٤٥٦٧") == "+971501234567"
    assert phone_abroad("+61 412 345 678") == "+61412345678"
    assert phone_abroad("+44 7911 123456") == "+447911123456"
    assert phone_abroad("+1 (202) 555-0123") == "+12025550123"  # the US does not tell mobiles from fixed lines
    assert phone_abroad("+966 50 123 4567") == "+966501234567"  # a Saudi number roaming
    assert phone_abroad("+61 2 9374 4000") is None  # a fixed line in Sydney cannot take the SMS
    assert phone_abroad("0501234567") is None  # no country code
    assert phone_abroad("+971 50 123") is None
    assert phone_abroad("+97150123456x") is None


def test_every_bad_field_is_named_at_once() -> None:
    assert refusals(
        national_id="1000000009",
        caller_name=" ",
        phone="+61 2 9374 4000",
        country="Atlantis",
        city="x" * 121,
        type="kidnap",
        severity="",
        account="y" * 5001,
        language="fr",
    ) == {
        "national_id": "check_digit",
        "caller_name": "missing",
        "phone": "invalid_phone",
        "country": "invalid_country",
        "city": "too_long",
        "type": "invalid_choice",
        "severity": "missing",
        "account": "too_long",
        "language": "invalid_choice",
    }


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("national_id", "", "missing"),
        ("national_id", "12345", "length"),
        ("national_id", "2000000006", "prefix"),  # an iqama number: the line is for citizens
        ("phone", "", "missing"),
        ("phone", "0501234567", "invalid_phone"),
        ("country", "", "missing"),
        ("country", "EU", "invalid_country"),
        ("city", "", "missing"),
        ("type", "", "missing"),
        ("severity", "dire", "invalid_choice"),
        ("account", "", "missing"),
    ],
)
def test_each_bad_field_alone(field: str, value: str, code: str) -> None:
    assert refusals(**{field: value}) == {field: code}
