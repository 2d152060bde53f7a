"""Checking a report as the agent typed it, before anything is saved.

One check for every entry (the agent's form, the API, the terminal): a pydantic model whose fields carry the
rules (emergency.report_fields, and the national ID of cases.intake_fields). Every problem is collected (not just
the first), each naming its field, as requests' intake does (cases/intake.py), so the agent's screen shows them
all at once and the API lists them in one 422. Whether a mission covers the place is the register's own rule
(emergency.routing), judged once the report is well formed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cases.intake_fields import NationalId, PersonName, RequestText
from cases.models import Language
from emergency.models import ReportType, Severity
from emergency.report_fields import City, Country, LanguageOfCitizen, PhoneAbroad, SeverityOfReport, TypeOfReport
from majlis.errors import InvalidInput, field_errors


@dataclass(frozen=True)
class ReportDetails:
    """A report as checked and normalised, ready to be routed and saved."""

    national_id: str
    caller_name: str
    # E.164 (+<country code><number>), a number that takes SMS, of any country.
    phone: str
    # ISO 3166-1 alpha-2, upper case.
    country: str
    city: str
    type: ReportType
    severity: Severity
    account: str
    language: Language


Raw = Mapping[str, object]


class ReportDraft(BaseModel):
    """A report as an agent gives it; the API's body is this model (web/emergency_api_models.py)."""

    model_config = ConfigDict(extra="ignore")

    national_id: NationalId
    # Shown in lists beside other reports: bidi controls removed, spaces collapsed (cases.intake_fields).
    caller_name: PersonName
    phone: PhoneAbroad
    country: Country
    city: City
    type: TypeOfReport
    severity: SeverityOfReport
    # The caller's own words, kept as a request's text is: trimmed, line breaks kept, at most 5,000 characters.
    account: RequestText = Field(description="What happened, as the caller told it")
    language: LanguageOfCitizen = Language.AR

    @model_validator(mode="before")
    @classmethod
    def _given(cls, data: object) -> object:
        # Forms send every field, empty when not filled: a blank one is not given, so the model says it is
        # required (or takes its default) rather than that it is not one of the choices.
        if not isinstance(data, Mapping):
            return data
        return {k: v for k, v in data.items() if not (v is None or (isinstance(v, str) and not v.strip()))}

    def details(self) -> ReportDetails:
        return ReportDetails(
            national_id=self.national_id,
            caller_name=self.caller_name,
            phone=self.phone,
            country=self.country,
            city=self.city,
            type=self.type,
            severity=self.severity,
            account=self.account,
            language=self.language,
        )


def check_report(raw: Raw) -> ReportDetails:
    """The report checked and normalised; InvalidInput lists every problem."""
    try:
        return ReportDraft.model_validate(raw).details()
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
