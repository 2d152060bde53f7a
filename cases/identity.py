"""Identity numbers: national ID, iqama (Luhn check digit) and commercial registration."""

from __future__ import annotations

import enum

from cases.digits import ascii_digits


class ApplicantKind(enum.StrEnum):
    CITIZEN = "citizen"
    RESIDENT = "resident"
    COMPANY = "company"


# A national ID starts with 1, an iqama with 2; both are 10 digits.
_FIRST_DIGIT = {ApplicantKind.CITIZEN: "1", ApplicantKind.RESIDENT: "2"}


def luhn_valid(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the others."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for position, ch in enumerate(reversed(digits)):
        d = int(ch)
        if position % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes body + digit pass the Luhn check."""
    for candidate in "0123456789":
        if luhn_valid(body + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


class IdentityProblem(enum.StrEnum):
    LENGTH = "length"
    PREFIX = "prefix"
    CHECK_DIGIT = "check_digit"


def check_identity_number(kind: ApplicantKind, raw: str) -> tuple[str, IdentityProblem | None]:
    """The normalised number and what is wrong with it, if anything."""
    number = ascii_digits(raw)
    if len(number) != 10 or not number.isdigit():
        return number, IdentityProblem.LENGTH
    if kind is ApplicantKind.COMPANY:
        # Commercial registration numbers carry no published check digit.
        return number, None
    if number[0] != _FIRST_DIGIT[kind]:
        return number, IdentityProblem.PREFIX
    if not luhn_valid(number):
        return number, IdentityProblem.CHECK_DIGIT
    return number, None
