"""The API's request model carries the domain's rules field by field (web/domain_fields.py): one check, every
problem named at once, the values normalised as the domain stores them. Pure: no database needed.
"""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict, MultiDictProxy
from pydantic import ValidationError

from cases.identity import ApplicantKind
from cases.models import Channel
from majlis.errors import InvalidInput
from tests.factories import api_payload, form_data
from web.api_models import RequestIn
from web.errors import pydantic_errors
from web.intake_forms import checked_request, read_form


def problems(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        RequestIn.model_validate(api_payload(**overrides))
    return {e.field: e.code for e in pydantic_errors(caught.value)}


def test_values_are_normalised_as_the_domain_stores_them() -> None:
    details = RequestIn.model_validate(
        api_payload(
            applicant_national_id="١٠٠٠ ٠٠٠ ٠٠٨",
            applicant_phone="0501234567",
            applicant_email=" Noura@Example.SA ",
            applicant_name="  نورة \u202e عبدالله ",
            applicant_special_care=["wheelchair", "elderly"],
            subject="طلب\u2066 مقابلة",
        )
    ).details()
    assert details.applicant.id_number == "1000000008"
    assert details.applicant.phone == "+966501234567"
    assert details.applicant.email == "noura@example.sa"
    assert details.applicant.name == "نورة عبدالله"
    assert details.applicant.special_care == ("elderly", "wheelchair")
    assert details.subject == "طلب مقابلة"


def test_each_kind_sends_its_own_number_checked_by_its_own_rule() -> None:
    assert problems(applicant_national_id="2000000006") == {"applicant.national_id": "prefix"}
    assert problems(applicant_national_id="1000000009") == {"applicant.national_id": "check_digit"}
    assert problems(applicant_national_id="12345") == {"applicant.national_id": "length"}
    assert problems(applicant_kind="resident") == {
        "applicant.national_id": "extra_forbidden",
        "applicant.iqama": "missing",
    }
    company = api_payload(applicant_kind="company", applicant_cr_number="7001234567", applicant_gender=None)
    del company["applicant"]["national_id"]
    assert RequestIn.model_validate(company).details().applicant.kind is ApplicantKind.COMPANY
    assert problems(applicant_gender=None) == {"applicant.gender": "missing"}


def test_every_problem_is_named_at_once() -> None:
    assert problems(
        applicant_phone="12",
        applicant_email="not-an-address",
        applicant_name="\u202e\u202c",
        subject=" ",
        text="",
        # Only a code's shape is the model's: whether it names an open centre is the branches table's
        # (cases.branches.require_open; tests/web/test_admin_branches.py).
        branch="Mecca!",
        applicant_special_care=["massage"],
    ) == {
        "applicant.phone": "invalid_phone",
        "applicant.email": "invalid_email",
        "applicant.name": "missing",
        "subject": "missing",
        "text": "missing",
        "branch": "string_pattern_mismatch",
        "applicant.special_care": "invalid_choice",
    }


def test_the_forms_are_checked_by_the_same_model_under_their_own_field_names() -> None:
    form = {**form_data(), "applicant.kind": "resident", "applicant.id_number": "1000000008", "subject": ""}
    applicant, request = read_form(MultiDictProxy(MultiDict(form)))
    with pytest.raises(InvalidInput) as caught:
        checked_request(applicant, request, channel=Channel.PORTAL)
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("applicant.id_number", "prefix"),
        ("subject", "missing"),
    }
    iqama = {**form, "applicant.id_number": "٢٠٠٠٠٠٠٠٠٦", "subject": "طلب", "applicant.email": ""}
    applicant, request = read_form(MultiDictProxy(MultiDict(iqama)))
    details = checked_request(applicant, request, channel=Channel.WALK_IN)
    assert (details.applicant.id_number, details.applicant.email, details.channel) == (
        "2000000006",
        None,
        Channel.WALK_IN,
    )
