import pytest

from cases.phones import same_phone, to_e164


@pytest.mark.parametrize(
    "raw",
    ["0501234567", "+966501234567", "00966501234567", "966501234567", "050 123 4567", "٠٥٠١٢٣٤٥٦٧", "(050) 123-4567"],
)
def test_saudi_mobile_numbers_are_stored_in_e164(raw: str) -> None:
    assert to_e164(raw) == "+966501234567"


def test_foreign_mobile_numbers_keep_their_country() -> None:
    assert to_e164("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize("raw", ["", "12345", "+9665", "0112345678", "not a phone", "05012345678901"])
def test_invalid_or_landline_numbers_are_refused(raw: str) -> None:
    # A landline (011…) cannot receive the SMS receipt.
    assert to_e164(raw) is None


def test_same_phone_ignores_how_it_was_typed() -> None:
    assert same_phone("+966501234567", "0501234567")
    assert not same_phone("+966501234567", "0501234568")
