"""Errors that domain code raises for people to read, in any language.

Domain code writes messages in English and marks them with N_ so that the
extractor puts them in the catalogs; the web layer translates them for the
reader. A message may hold {field}, which the web layer fills with the
translated name of the field, and other {placeholders} from params.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pydantic import ValidationError


def N_(message: str) -> str:
    """Mark a message for translation without translating it here."""
    return message


@dataclasses.dataclass(frozen=True)
class FieldError:
    """What is wrong with one field: its dotted path and a message to translate."""

    field: str
    code: str
    message: str
    params: dict[str, str] = dataclasses.field(default_factory=dict)


class InvalidInput(Exception):
    """Input that cannot be accepted; lists every field that is wrong."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class DomainError(Exception):
    """An operation refused for a reason a person can read (translated by the web layer)."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params


def invalid_choice(field: str, choices: Iterable[str]) -> FieldError:
    """The error for a value that is not one of the allowed ones, listing them."""
    return FieldError(
        field, "invalid_choice", N_("{field} must be one of: {choices}."), {"choices": ", ".join(choices)}
    )


def required(field: str) -> FieldError:
    return FieldError(field, "missing", N_("{field} is required."))


def too_long(field: str, limit: int) -> FieldError:
    return FieldError(field, "too_long", N_("{field} must be at most {max} characters."), {"max": str(limit)})


# What pydantic says of a field, in words Majlis translates.
_PYDANTIC_MESSAGES = {
    "missing": N_("{field} is required."),
    "literal_error": N_("{field} must be one of: {choices}."),
    "enum": N_("{field} must be one of: {choices}."),
    "string_type": N_("{field} must be text."),
    "string_too_long": N_("{field} must be at most {max} characters."),
    "extra_forbidden": N_("{field} is not a field of this API."),
    "model_type": N_("{field} must be a JSON object."),
    "model_attributes_type": N_("{field} must be a JSON object."),
    "list_type": N_("{field} must be a list."),
    "too_long": N_("{field} may hold at most {max} items."),
    "int_type": N_("{field} must be a whole number."),
    "int_parsing": N_("{field} must be a whole number."),
    "greater_than_equal": N_("{field} must be at least {min}."),
    "less_than_equal": N_("{field} must be at most {max}."),
}
_FALLBACK_MESSAGE = N_("{field} has a value of the wrong kind.")
# Pydantic's names for refusals Majlis has always named its own way (invalid_choice, too_long above).
_CODES = {"literal_error": "invalid_choice", "enum": "invalid_choice", "string_too_long": "too_long"}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """What pydantic found wrong, as the fields' errors Majlis translates."""
    errors = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "body"
        ctx = err.get("ctx") or {}
        params: dict[str, str] = {}
        if "expected" in ctx:
            params["choices"] = str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
        if "max_length" in ctx:
            params["max"] = str(ctx["max_length"])
        if "ge" in ctx:
            params["min"] = str(ctx["ge"])
        if "le" in ctx:
            params["max"] = str(ctx["le"])
        # A domain rule's refusal (web.domain_fields) carries its own message and parameters.
        message = ctx.get("domain_message") or _PYDANTIC_MESSAGES.get(err["type"], _FALLBACK_MESSAGE)
        params.update({k: str(v) for k, v in ctx.items() if k != "domain_message" and k not in params})
        errors.append(FieldError(path, _CODES.get(err["type"], err["type"]), str(message), params))
    return errors
