import pytest

from cases.identity import ApplicantKind
from cases.intake import check_request
from cases.models import Channel, Gender
from majlis.errors import InvalidInput

APPLICANT = {
    "kind": "citizen",
    "id_number": "1000000008",
    "name": "  نورة   عبدالله ",
    "gender": "female",
    "phone": "0501234567",
    "email": "Noura@Example.SA",
    "language": "ar",
    "special_care": ["wheelchair"],
}
REQUEST = {"kind": "audience_video", "subject": "طلب", "text": "نص الطلب", "branch": "riyadh"}


def test_valid_request_is_normalised() -> None:
    details = check_request(APPLICANT, REQUEST)
    assert details.applicant.kind is ApplicantKind.CITIZEN
    assert details.applicant.name == "نورة عبدالله"
    assert details.applicant.phone == "+966501234567"
    assert details.applicant.email == "noura@example.sa"
    assert details.applicant.gender is Gender.FEMALE
    assert details.applicant.special_care == ("wheelchair",)
    assert details.channel is Channel.PORTAL


def test_every_problem_is_listed_at_once() -> None:
    applicant = {**APPLICANT, "id_number": "1000000009", "phone": "123", "email": "nope", "name": ""}
    with pytest.raises(InvalidInput) as caught:
        check_request(applicant, {**REQUEST, "kind": "bribe", "branch": "", "text": "x" * 5001})
    fields = {e.field: e.code for e in caught.value.errors}
    assert fields == {
        "applicant.id_number": "check_digit",
        "applicant.phone": "invalid_phone",
        "applicant.email": "invalid_email",
        "applicant.name": "missing",
        "kind": "invalid_choice",
        "branch": "missing",
        "text": "too_long",
    }


def test_company_may_omit_gender_but_people_may_not() -> None:
    company = {**APPLICANT, "kind": "company", "id_number": "1010000001", "gender": ""}
    assert check_request(company, REQUEST).applicant.gender is None
    with pytest.raises(InvalidInput) as caught:
        check_request({**APPLICANT, "gender": ""}, REQUEST)
    assert [e.field for e in caught.value.errors] == ["applicant.gender"]


def test_desk_channel_overrides_the_form() -> None:
    assert (
        check_request(APPLICANT, {**REQUEST, "channel": "portal"}, channel=Channel.WALK_IN).channel is Channel.WALK_IN
    )


def test_unknown_special_care_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_request({**APPLICANT, "special_care": ["vip"]}, REQUEST)
    assert caught.value.errors[0].field == "applicant.special_care"


def test_fingerprint_tells_different_requests_apart() -> None:
    a = check_request(APPLICANT, REQUEST)
    assert a.fingerprint() == check_request(APPLICANT, REQUEST).fingerprint()
    assert a.fingerprint() != check_request(APPLICANT, {**REQUEST, "subject": "آخر"}).fingerprint()
