"""The duty officer's link: signed for its own purpose, naming the report and its generation."""

from __future__ import annotations

import pytest

from notify.links import LinkRefused, Links
from tests.conftest import TEST_SECRET

LINKS = Links(public_url="https://majlis.example.sa/", secret=TEST_SECRET)


def test_a_token_names_its_report_and_generation() -> None:
    token = LINKS.emergency_token(42, 3)
    assert LINKS.check_emergency_token(token) == (42, 3)
    assert LINKS.emergency_page(42, 3) == f"https://majlis.example.sa/e/{token}"


@pytest.mark.parametrize(
    "token",
    [
        LINKS.emergency_token(42, 3).replace("42.", "43.", 1),  # another report
        LINKS.emergency_token(42, 3).replace(".3.", ".4.", 1),  # a later generation
        LINKS.referral_token(42, 3),  # a referral's link does not open a report of the same number
        Links(public_url="https://x", secret=TEST_SECRET + "other").emergency_token(42, 3),
        "42.3",
        "٤٢.3." + LINKS.emergency_token(42, 3).split(".")[2],
        "9" * 13 + ".1.abc",
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    with pytest.raises(LinkRefused):
        LINKS.check_emergency_token(token)


def test_referral_tokens_keep_working() -> None:
    assert LINKS.check_referral_token(LINKS.referral_token(7, 1)) == (7, 1)
    with pytest.raises(LinkRefused):
        LINKS.check_referral_token(LINKS.emergency_token(7, 1))
