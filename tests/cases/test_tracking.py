from hypothesis import given
from hypothesis import strategies as st

from cases.tracking import damm_digit, format_tracking_number, parse_tracking_number

serials = st.integers(min_value=1, max_value=2_000_000)
years = st.integers(min_value=2020, max_value=2099)


def test_format_is_year_serial_check() -> None:
    number = format_tracking_number(2026, 417)
    assert number.startswith("26-000417-")
    assert number == f"26-000417-{damm_digit('26000417')}"


def test_serial_widens_past_a_million() -> None:
    assert format_tracking_number(2026, 1_234_567).startswith("26-1234567-")


@given(years, serials)
def test_round_trip(year: int, serial: int) -> None:
    number = format_tracking_number(year, serial)
    assert parse_tracking_number(number) == number
    assert parse_tracking_number(number.replace("-", " ")) == number


def test_arabic_digits_parse() -> None:
    number = format_tracking_number(2026, 417)
    arabic = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert parse_tracking_number(arabic) == number


@given(years, serials, st.data())
def test_every_single_digit_mistake_is_caught(year: int, serial: int, data: st.DataObject) -> None:
    digits = format_tracking_number(year, serial).replace("-", "")
    position = data.draw(st.integers(min_value=0, max_value=len(digits) - 1))
    shift = data.draw(st.integers(min_value=1, max_value=9))
    wrong = digits[:position] + str((int(digits[position]) + shift) % 10) + digits[position + 1 :]
    assert parse_tracking_number(wrong) is None


@given(years, serials, st.data())
def test_every_swap_of_neighbours_is_caught(year: int, serial: int, data: st.DataObject) -> None:
    digits = format_tracking_number(year, serial).replace("-", "")
    position = data.draw(st.integers(min_value=0, max_value=len(digits) - 2))
    a, b = digits[position], digits[position + 1]
    if a == b:
        return
    swapped = digits[:position] + b + a + digits[position + 2 :]
    assert parse_tracking_number(swapped) is None


def test_garbage_is_refused() -> None:
    for raw in ("", "abc", "26-", "26-0004", "٢٦"):
        assert parse_tracking_number(raw) is None
