import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.identity import (
    ApplicantKind,
    IdentityProblem,
    check_identity_number,
    luhn_check_digit,
    luhn_valid,
)


def test_known_national_id_passes() -> None:
    assert check_identity_number(ApplicantKind.CITIZEN, "1000000008") == ("1000000008", None)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("79927398713", True),  # the textbook example: doubled digits 9, 8, 7 and 9 are 5 or more
        ("79927398710", False),
        ("1000000057", True),  # a doubled 5 counts 1 (10 - 9), not 10 or 0
        ("1000000050", False),
        ("2123456788", True),
        ("1999999996", True),  # every doubled digit is 9: 18 counts 9
        ("١٠٠٠٠٠٠٠٥٧", False),  # Arabic-Indic digits are made ASCII before, never here
        ("", False),
    ],
)
def test_luhn_known_answers(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_luhn_check_digits_computed_by_hand() -> None:
    assert [luhn_check_digit(body) for body in ("100000005", "212345678", "199999999", "100000000")] == [
        "7",
        "8",
        "6",
        "8",
    ]


def test_wrong_check_digit_is_caught() -> None:
    assert check_identity_number(ApplicantKind.CITIZEN, "1000000009")[1] is IdentityProblem.CHECK_DIGIT


def test_citizen_must_start_with_1_and_resident_with_2() -> None:
    assert check_identity_number(ApplicantKind.RESIDENT, "1000000008")[1] is IdentityProblem.PREFIX
    assert check_identity_number(ApplicantKind.CITIZEN, "2000000006")[1] is IdentityProblem.PREFIX
    assert check_identity_number(ApplicantKind.RESIDENT, "2000000006")[1] is None


def test_length_is_checked() -> None:
    assert check_identity_number(ApplicantKind.CITIZEN, "100000008")[1] is IdentityProblem.LENGTH
    assert check_identity_number(ApplicantKind.COMPANY, "10100000001")[1] is IdentityProblem.LENGTH
    assert check_identity_number(ApplicantKind.CITIZEN, "10000000a8")[1] is IdentityProblem.LENGTH


def test_arabic_indic_digits_and_spaces_are_accepted() -> None:
    assert check_identity_number(ApplicantKind.CITIZEN, "١٠٠٠ ٠٠٠ ٠٠٨") == ("1000000008", None)


def test_company_registration_has_no_check_digit() -> None:
    assert check_identity_number(ApplicantKind.COMPANY, "1010000001")[1] is None


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.sampled_from("12"))
def test_every_completed_number_passes(body: str, first: str) -> None:
    number = first + body + luhn_check_digit(first + body)
    assert luhn_valid(number)


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_mistake_fails(body: str, position: int, shift: int) -> None:
    number = body + luhn_check_digit(body)
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not luhn_valid(wrong)
