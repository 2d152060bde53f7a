"""Errors that domain code raises for people to read, in any language.

Domain code writes messages in English and marks them with N_ so that the
extractor puts them in the catalogs; the web layer translates them for the
reader. A message may hold {field}, which the web layer fills with the
translated name of the field, and other {placeholders} from params.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable


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
