"""The request form shared by the public portal and the desks: reading it and filling it back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import MultiDictProxy

from cases.intake import RequestDetails, check_request
from cases.models import Channel
from majlis.errors import FieldError
from web.errors import field_message
from web.i18n import Catalogs

APPLICANT_FIELDS = ("kind", "id_number", "name", "gender", "phone", "email", "language")
REQUEST_FIELDS = ("kind", "subject", "text", "branch", "channel")


def read_form(form: MultiDictProxy[Any]) -> tuple[dict[str, object], dict[str, object]]:
    """The applicant's and the request's raw values from a posted form."""
    applicant: dict[str, object] = {name: str(form.get(f"applicant.{name}", "")) for name in APPLICANT_FIELDS}
    applicant["special_care"] = [str(v) for v in form.getall("applicant.special_care", [])]
    request: dict[str, object] = {name: str(form.get(name, "")) for name in REQUEST_FIELDS}
    return applicant, request


def checked_request(
    applicant: Mapping[str, object], request: Mapping[str, object], *, channel: Channel | str
) -> RequestDetails:
    """The form's request checked by the rules every intake shares (cases.intake); InvalidInput names each field."""
    return check_request(applicant, {**request, "channel": str(channel)}, channel=None)


def form_values(applicant: Mapping[str, object], request: Mapping[str, object]) -> dict[str, object]:
    """The values to put back into the form, keyed by field name."""
    values: dict[str, object] = {f"applicant.{k}": v for k, v in applicant.items()}
    values.update(request)
    return values


def errors_by_field(catalogs: Catalogs, language: str, errors: list[FieldError]) -> dict[str, str]:
    """One readable message per field (the first problem found)."""
    messages: dict[str, str] = {}
    for error in errors:
        messages.setdefault(error.field, field_message(catalogs, language, error))
    return messages
