"""Bidi controls (overrides, embeddings, isolates, direction marks) are taken out of names and subjects at intake,
from the portal, the desks and the API alike (cases.intake) and from the emergency line (emergency.intake).
"""

from __future__ import annotations

import pytest

from emergency.intake import check_report
from majlis.bidi import BIDI_CONTROLS, without_bidi_controls
from majlis.errors import InvalidInput
from tests.emergency.arrange import report_fields
from tests.factories import details


def test_every_bidi_control_is_removed_and_nothing_else() -> None:
    assert without_bidi_controls("".join(sorted(BIDI_CONTROLS))) == ""
    assert len(BIDI_CONTROLS) == 12
    # Arabic letters, digits, the Arabic comma and zero-width joiners are text, not direction controls.
    kept = "نورة، ٢٠٢٦ a\u200db\u200c"
    assert without_bidi_controls(kept) == kept


def test_names_and_subjects_lose_them_the_request_text_keeps_its_marks() -> None:
    checked = details(
        applicant_name="\u202eنورة\u202c \u2066عبدالله\u2069\u200f",
        subject="\u202dطلب\u202c مقابلة\u061c",
        text="نص \u200fالطلب",
    )
    assert checked.applicant.name == "نورة عبدالله"
    assert checked.subject == "طلب مقابلة"
    assert checked.text == "نص \u200fالطلب"


def test_a_name_of_only_controls_is_missing() -> None:
    with pytest.raises(InvalidInput) as caught:
        details(applicant_name="\u202e\u202c", subject="\u2066 \u2069")
    assert {(e.field, e.code) for e in caught.value.errors} == {("applicant.name", "missing"), ("subject", "missing")}


def test_an_emergency_callers_name_loses_them() -> None:
    assert check_report(report_fields(caller_name="\u202eسعد\u202c العتيبي\u200e")).caller_name == "سعد العتيبي"
