"""What every part of the OpenAPI document shares: references to the models' schemas, JSON answers, and the
staff's credentials as security schemes (marked on every operation that needs them, in one place)."""

from __future__ import annotations

from typing import Any

from web.api_models import ID_LIMIT
from web.security import CSRF_HEADER, SESSION_COOKIE

REF_TEMPLATE = "#/components/schemas/{model}"


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def json_answer(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema_ref(name)}}}


# The staff's credentials as security schemes: the session cookie, and the CSRF token that every change
# made with that cookie must also carry (GET /api/v1/session gives it).
SECURITY_SCHEMES = {
    "staffSession": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": "Set at sign-in"},
    "csrfToken": {"type": "apiKey", "in": "header", "name": CSRF_HEADER, "description": "From GET /api/v1/session"},
}
CHANGES = frozenset({"post", "put", "patch", "delete"})


def with_security(paths: dict[str, Any]) -> dict[str, Any]:
    """Marks every operation that answers 401 as needing the staff session (and the CSRF token on changes).

    Integer path parameters get the database keys' bounds here too, in one place for every area's paths.
    """
    for item in paths.values():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", ID_LIMIT)
            if "401" in operation["responses"]:
                needed: dict[str, list[str]] = (
                    {"staffSession": [], "csrfToken": []} if method in CHANGES else {"staffSession": []}
                )
                operation["security"] = [needed]
    return paths
