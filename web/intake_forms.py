"""The request form shared by the public portal and the desks: reading it and filling it back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import MultiDictProxy
from pydantic import ValidationError

from cases.identity import ApplicantKind
from cases.intake import RequestDetails
from cases.models import Channel
from majlis.errors import FieldError, InvalidInput
from web.api_models import RequestIn
from web.domain_fields import ID_FIELDS
from web.errors import field_message, pydantic_errors
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
    """The form's request checked by the API's own model (one set of rules); InvalidInput names the form's fields.

    A form sends every field, empty when not filled: an empty field is left out, so that the model says it is
    required rather than not one of the choices. The form has one identity field; the model, one per kind.
    """
    applicant_in = {k: v for k, v in applicant.items() if v not in ("", [], None) and k != "id_number"}
    request_in = {k: v for k, v in request.items() if v not in ("", None) and k != "channel"}
    kind = str(applicant.get("kind"))
    id_key = ID_FIELDS[ApplicantKind(kind)] if kind in tuple(ApplicantKind) else "national_id"
    if applicant.get("id_number"):
        applicant_in[id_key] = applicant["id_number"]
    payload = {**request_in, "applicant": applicant_in, "channel": str(channel)}
    try:
        return RequestIn.model_validate(payload).details()
    except ValidationError as exc:
        errors = pydantic_errors(exc)
    form_id = f"applicant.{id_key}"
    raise InvalidInput(
        [FieldError(e.field.replace(form_id, "applicant.id_number"), e.code, e.message, e.params) for e in errors]
    )


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
