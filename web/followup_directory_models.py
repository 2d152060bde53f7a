"""The JSON shapes of the directory's API (web/followup_directory_api.py): departments, their contacts, working
calendars and service-level policies. Field names are those of the pages' forms, so refusals name the same fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_UNITS: dict[str, Any] = {"enum": ["hours", "working_days"]}
# A field a PATCH may leave out: its default, null, is one of its values too.
_UNITS_OR_NONE: dict[str, Any] = {"enum": ["hours", "working_days", None]}
_UNIT_HELP = "hours, or working days of 7 working hours (420 minutes: the government's day, 08:00-15:00)"
_CODE_HELP = "Small Latin letters, digits, - or _ (2 to 40); it cannot change later"


class DirectoryDepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=40, description=_CODE_HELP)
    name_ar: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent: str | None = Field(default=None, description="The parent department's code; none at the top of the tree")
    calendar: str = Field(default="government", max_length=40, description="The working calendar's code")
    email: str = Field(max_length=254, description="Where referrals are announced when no liaison officer is named")


class DirectoryDepartmentPatch(BaseModel):
    """Only the fields sent change; `parent: null` moves the department to the top of the tree."""

    model_config = ConfigDict(extra="forbid")
    name_ar: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    parent: str | None = Field(default=None, max_length=40)
    calendar: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    active: bool | None = Field(default=None, description="False takes it out of the directory (not its referrals)")


class DirectoryDepartmentOut(BaseModel):
    code: str
    name_ar: str
    name_en: str
    parent: str | None
    calendar: str
    email: str
    active: bool
    depth: int = Field(description="0 at the top of the tree; the list comes each department under its parent")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(json_schema_extra={"enum": ["head", "deputy", "liaison"]})
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=30, description="A mobile number, for reminders by SMS")
    language: str = Field(default="ar", json_schema_extra={"enum": ["ar", "en"]})


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(default=None, json_schema_extra={"enum": ["head", "deputy", "liaison", None]})
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    language: str | None = Field(default=None, json_schema_extra={"enum": ["ar", "en", None]})
    active: bool | None = None


class ContactOut(BaseModel):
    id: int
    role: str
    name: str
    email: str
    phone: str = Field(description="E.164, or empty")
    language: str
    active: bool


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weekday: int = Field(description="0 Monday … 6 Sunday")
    opens: str = Field(max_length=5, description="HH:MM in the calendar's zone")
    closes: str = Field(max_length=5, description="HH:MM; at or before `opens`, the stretch runs past midnight")


class HoursOut(BaseModel):
    weekday: int
    opens: str
    closes: str


class WorkingHolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    name: str = Field(max_length=120)


class WorkingHolidayOut(BaseModel):
    day: date
    name: str


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=40, description=_CODE_HELP)
    name_ar: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    time_zone: str = Field(max_length=64, description="An IANA zone such as Asia/Riyadh")
    always_open: bool = Field(default=False, description="Every minute is working time; hours and holidays unused")
    hours: list[HoursIn] = Field(default_factory=list, max_length=50)


class CalendarPatch(BaseModel):
    """Only the fields sent change; `hours` replaces the whole week."""

    model_config = ConfigDict(extra="forbid")
    name_ar: str | None = Field(default=None, max_length=120)
    name_en: str | None = Field(default=None, max_length=120)
    time_zone: str | None = Field(default=None, max_length=64)
    always_open: bool | None = None
    hours: list[HoursIn] | None = Field(default=None, max_length=50)


class CalendarOut(BaseModel):
    code: str
    name_ar: str
    name_en: str
    time_zone: str
    always_open: bool
    hours: list[HoursOut]
    holidays: list[WorkingHolidayOut]


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent_of_solution: int = Field(description="1 to 1000: the share of the solution time when it is reached")
    extra_amount: int = Field(default=0, description="Working time added to that share")
    extra_unit: str = Field(default="working_days", description=_UNIT_HELP, json_schema_extra=_UNITS)
    rank: int = Field(default=0, description="0 the department itself, 1 its parent, …; past the top, the top")
    contact_role: str = Field(json_schema_extra={"enum": ["head", "deputy"]})


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120)
    category_code: str | None = Field(default=None, max_length=40, description="A category's code; none for any")
    urgency: str | None = Field(default=None, json_schema_extra={"enum": ["critical", "urgent", "normal", None]})
    first_response_amount: int
    first_response_unit: str = Field(default="working_days", description=_UNIT_HELP, json_schema_extra=_UNITS)
    update_amount: int | None = Field(default=None, description="None: no news asked for until the answer")
    update_unit: str = Field(default="working_days", json_schema_extra=_UNITS)
    solution_amount: int
    solution_unit: str = Field(default="working_days", json_schema_extra=_UNITS)
    round_the_clock: bool = Field(default=False, description="Escalations go out outside working time too")
    levels: list[LevelIn] = Field(default_factory=list, max_length=20, description="Each strictly later than the last")


class PolicyPatch(BaseModel):
    """Only the fields sent change; `levels` replaces the whole ladder, checked with the new solution time."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=120)
    category_code: str | None = Field(default=None, max_length=40)
    urgency: str | None = Field(default=None, json_schema_extra={"enum": ["critical", "urgent", "normal", None]})
    first_response_amount: int | None = None
    first_response_unit: str | None = Field(default=None, json_schema_extra=_UNITS_OR_NONE)
    update_amount: int | None = None
    update_unit: str | None = Field(default=None, json_schema_extra=_UNITS_OR_NONE)
    solution_amount: int | None = None
    solution_unit: str | None = Field(default=None, json_schema_extra=_UNITS_OR_NONE)
    round_the_clock: bool | None = None
    active: bool | None = None
    levels: list[LevelIn] | None = Field(default=None, max_length=20)


class LevelOut(BaseModel):
    level: int
    percent_of_solution: int
    extra_minutes: int = Field(description="Working minutes")
    rank: int
    contact_role: str


class PolicyOut(BaseModel):
    id: int
    name: str
    category_code: str | None
    urgency: str | None
    first_response_minutes: int = Field(description="Working minutes of the receiving department")
    update_minutes: int | None
    solution_minutes: int
    round_the_clock: bool
    active: bool
    levels: list[LevelOut]


DIRECTORY_INPUTS: tuple[type[BaseModel], ...] = (
    DirectoryDepartmentIn,
    DirectoryDepartmentPatch,
    ContactIn,
    ContactPatch,
    CalendarIn,
    CalendarPatch,
    WorkingHolidayIn,
    PolicyIn,
    PolicyPatch,
)
DIRECTORY_OUTPUTS: tuple[type[BaseModel], ...] = (
    DirectoryDepartmentOut,
    ContactOut,
    CalendarOut,
    WorkingHolidayOut,
    PolicyOut,
)

_READ = "Follow-up and administrators: the staff session cookie."
_CHANGE = "Administrators only: the staff session cookie, and X-CSRF-Token."
# (method, path, body model or None, answer model or None, a list?, success status, summary)
DIRECTORY_OPERATIONS = (
    (
        "get",
        "/api/v1/departments",
        None,
        "DirectoryDepartmentOut",
        True,
        "200",
        "Every department, each under its parent",
    ),
    (
        "post",
        "/api/v1/departments",
        "DirectoryDepartmentIn",
        "DirectoryDepartmentOut",
        False,
        "201",
        "Add a department",
    ),
    (
        "patch",
        "/api/v1/departments/{code}",
        "DirectoryDepartmentPatch",
        "DirectoryDepartmentOut",
        False,
        "200",
        "Change a department",
    ),
    ("get", "/api/v1/departments/{code}/contacts", None, "ContactOut", True, "200", "A department's people"),
    ("post", "/api/v1/departments/{code}/contacts", "ContactIn", "ContactOut", False, "201", "Add a person"),
    (
        "patch",
        "/api/v1/departments/{code}/contacts/{contact_id}",
        "ContactPatch",
        "ContactOut",
        False,
        "200",
        "Change a person, or take them off the list",
    ),
    ("get", "/api/v1/calendars", None, "CalendarOut", True, "200", "Working calendars with hours and holidays"),
    ("post", "/api/v1/calendars", "CalendarIn", "CalendarOut", False, "201", "Add a working calendar"),
    ("patch", "/api/v1/calendars/{code}", "CalendarPatch", "CalendarOut", False, "200", "Change a calendar"),
    (
        "post",
        "/api/v1/calendars/{code}/holidays",
        "WorkingHolidayIn",
        "WorkingHolidayOut",
        False,
        "201",
        "Add a holiday (not to the official's audiences calendar: protocol's holidays do that)",
    ),
    ("delete", "/api/v1/calendars/{code}/holidays/{day}", None, None, False, "204", "Take a holiday back"),
    ("get", "/api/v1/policies", None, "PolicyOut", True, "200", "Service-level policies with their ladders"),
    ("post", "/api/v1/policies", "PolicyIn", "PolicyOut", False, "201", "Add a service-level policy"),
    ("patch", "/api/v1/policies/{policy_id}", "PolicyPatch", "PolicyOut", False, "200", "Change a policy"),
)
_PARAMETERS = {
    "code": {"type": "string"},
    "contact_id": {"type": "integer", "minimum": 1},
    "policy_id": {"type": "integer", "minimum": 1},
    "day": {"type": "string", "format": "date"},
}


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The directory's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    paths: dict[str, Any] = {}
    for method, path, body, answer, many, ok, summary in DIRECTORY_OPERATIONS:
        responses: dict[str, Any] = {
            "401": json("ErrorOut", "Not signed in"),
            "403": json("ErrorOut", "Not a role of this path, or no valid X-CSRF-Token"),
        }
        if answer is None:
            responses[ok] = {"description": summary}
        else:
            schema = {"type": "array", "items": ref(answer)} if many else ref(answer)
            responses[ok] = {"description": summary, "content": {"application/json": {"schema": schema}}}
        if "{" in path:
            responses["404"] = json("ErrorOut", "No such department, contact, calendar or policy")
        if method != "get":
            responses["409"] = json("ErrorOut", "Refused: the official's days off belong to protocol's page")
            responses["422"] = json("ErrorOut", "Invalid fields, each named as on the pages (levels.<n>.<field>)")
        operation: dict[str, Any] = {
            "operationId": method + "".join(p.title() for p in path.split("/")[3:] if not p.startswith("{")),
            "summary": summary,
            "description": _READ if method == "get" else _CHANGE,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": schema}
                for name, schema in _PARAMETERS.items()
                if "{" + name + "}" in path
            ],
            "responses": responses,
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
        paths.setdefault(path, {})[method] = operation
    return paths
