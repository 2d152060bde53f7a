"""Service-level policies: administrators set the deadlines per category and urgency and each policy's escalation
ladder; follow-up reads them."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from followup import policies
from followup.models import EscalationLevel, SlaPolicy
from followup.policies import Duration, LevelInput, PolicyInput, as_duration
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from majlis.i18n import in_language
from priority import service as triage
from web import labels
from web.auth import requires
from web.followup_directory import READERS, actor, can_edit, field_errors, form_values, not_found
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()

POLICY_ADDED = notice(N_("The policy was added. Set its escalation levels below."))
POLICY_SAVED = notice(N_("The policy was saved."))
POLICY_PUT_BACK = notice(N_("The policy was put back in use."))
POLICY_STOPPED = notice(N_("The policy was taken out of use."))
LEVELS_SAVED = notice(N_("The escalation levels were saved."))
DURATIONS = ("first_response", "update", "solution")
POLICY_FIELDS = ("name", "category_code", "urgency", *(f"{d}_{part}" for d in DURATIONS for part in ("amount", "unit")))
LEVEL_FIELDS = ("percent_of_solution", "extra_amount", "extra_unit", "rank", "contact_role")
# A ladder form never has more rows than this (the levels kept, and one empty row to add another).
MAX_ROWS = 20
_LEVEL_FIELD = re.compile(r"levels\.([0-9]+)\.(\w+)")


def _policy_input(form: MultiDictProxy[Any]) -> tuple[PolicyInput, dict[str, str]]:
    values = form_values(form, POLICY_FIELDS)
    values["round_the_clock"] = "1" if form.get("round_the_clock") == "1" else ""
    data = PolicyInput(
        name=values["name"],
        category_code=values["category_code"],
        urgency=values["urgency"],
        first_response=Duration(values["first_response_amount"], values["first_response_unit"]),
        update=Duration(values["update_amount"], values["update_unit"]),
        solution=Duration(values["solution_amount"], values["solution_unit"]),
        round_the_clock=bool(values["round_the_clock"]),
    )
    return data, values


def _policy_values(policy: SlaPolicy) -> dict[str, str]:
    values = {
        "name": policy.name,
        "category_code": policy.category_code or "",
        "urgency": policy.urgency.value if policy.urgency else "",
        "round_the_clock": "1" if policy.round_the_clock else "",
        "update_amount": "",
        "update_unit": "working_days",
    }
    for name, minutes in (
        ("first_response", policy.first_response_minutes),
        ("update", policy.update_minutes),
        ("solution", policy.solution_minutes),
    ):
        if minutes is not None:
            amount, unit = as_duration(minutes)
            values[f"{name}_amount"], values[f"{name}_unit"] = str(amount), unit.value
    return values


def _level_values(ladder: list[EscalationLevel]) -> dict[str, str]:
    values: dict[str, str] = {}
    for row, level in enumerate(ladder, start=1):
        amount, unit = as_duration(level.extra_minutes)
        values.update(
            {
                f"levels.{row}.percent_of_solution": str(level.percent_of_solution),
                f"levels.{row}.extra_amount": str(amount) if amount else "",
                f"levels.{row}.extra_unit": unit.value,
                f"levels.{row}.rank": str(level.rank),
                f"levels.{row}.contact_role": level.contact_role.value,
            }
        )
    return values


def duration_text(request: web.Request, minutes: int | None) -> str:
    """Stored minutes as people read them: working days where they divide, else hours; a dash for none."""
    if minutes is None:
        return "—"
    amount, unit = as_duration(minutes)
    message = N_("Working days: {count}") if unit is policies.DurationUnit.WORKING_DAYS else N_("Hours: {count}")
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, count=amount)


async def _common(request: web.Request) -> dict[str, Any]:
    language = request[LANGUAGE]
    found = await triage.categories(session=request[DB], active_only=False)
    names = {c.code: in_language(language, c.name_ar, c.name_en) for c in found}
    catalogs = request.app[CATALOGS]
    return {
        "category_names": names,
        "category_choices": [("", catalogs.gettext(language, N_("Any category"))), *names.items()],
        "urgency_choices": [
            ("", catalogs.gettext(language, N_("Any urgency"))),
            *((k, catalogs.gettext(language, v)) for k, v in labels.URGENCIES.items()),
        ],
        "units": [(k, catalogs.gettext(language, v)) for k, v in labels.DURATION_UNITS.items()],
        "duration": lambda minutes: duration_text(request, minutes),
        "editable": can_edit(request),
        "labels": labels,
    }


async def _list_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    context = {
        "views": await policies.policies(session=request[DB]),
        "values": values,
        "errors": errors,
        **await _common(request),
    }
    return render(request, "directory/policies.html", context, status=status)


@routes.get("/followup/policies")
@requires(*READERS)
async def policy_list(request: web.Request) -> web.Response:
    units = {f"{d}_unit": "working_days" for d in DURATIONS}
    return await _list_page(request, units, {})


@routes.post("/followup/policies")
@requires()
async def add_policy(request: web.Request) -> web.Response:
    data, values = _policy_input(await request.post())
    try:
        made = await policies.add_policy(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), data=data, ladder=[]
        )
    except InvalidInput as exc:
        return await _list_page(request, values, field_errors(request, exc), 422)
    return done(request, f"/followup/policies/{made.id}#levels", POLICY_ADDED)


async def _policy_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    rows: int | None = None,
    status: int = 200,
) -> web.Response:
    try:
        view = await policies.policy_view(session=request[DB], policy_id=int(request.match_info["policy_id"]))
    except DomainError as exc:
        raise not_found(exc) from None
    shown = {**_policy_values(view.policy), **_level_values(view.levels), **(values or {})}
    count = rows if rows is not None else len(view.levels) + 1
    for row in range(1, count + 1):
        shown.setdefault(f"levels.{row}.extra_unit", "working_days")
        shown.setdefault(f"levels.{row}.contact_role", "head")
    context = {
        "view": view,
        "rows": range(1, count + 1),
        "values": shown,
        "errors": errors or {},
        "form_error": form_error,
        "role_choices": [(r.value, labels.CONTACT_ROLES[r]) for r in policies.LEVEL_ROLES],
        **await _common(request),
    }
    return render(request, "directory/policy.html", context, status=status)


@routes.get("/followup/policies/{policy_id:\\d{1,9}}")
@requires(*READERS)
async def policy_page(request: web.Request) -> web.Response:
    return await _policy_page(request)


@routes.post("/followup/policies/{policy_id:\\d{1,9}}")
@requires()
async def update_policy(request: web.Request) -> web.Response:
    data, values = _policy_input(await request.post())
    try:
        await policies.update_policy(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            policy_id=int(request.match_info["policy_id"]),
            data=data,
        )
    except InvalidInput as exc:
        return await _policy_page(request, values=values, errors=field_errors(request, exc), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/followup/policies/{request.match_info['policy_id']}", POLICY_SAVED)


@routes.post("/followup/policies/{policy_id:\\d{1,9}}/active")
@requires()
async def set_active(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await policies.set_policy_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            policy_id=int(request.match_info["policy_id"]),
            active=form.get("active") == "1",
        )
    except InvalidInput as exc:
        return await _policy_page(request, form_error=" ".join(field_errors(request, exc).values()), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    active = form.get("active") == "1"
    return done(
        request, f"/followup/policies/{request.match_info['policy_id']}", POLICY_PUT_BACK if active else POLICY_STOPPED
    )


def _ladder(form: MultiDictProxy[Any]) -> tuple[list[LevelInput], list[int], dict[str, str], int]:
    """The levels kept from the form's rows (removed and empty rows left out), the row of each, every row's
    values to show again, and how many rows the form had."""
    rows = min(max(int(str(form.get("rows", "0"))) if str(form.get("rows", "0")).isdigit() else 0, 0), MAX_ROWS)
    ladder: list[LevelInput] = []
    kept_rows: list[int] = []
    values: dict[str, str] = {}
    for row in range(1, rows + 1):
        typed = form_values(form, LEVEL_FIELDS, f"levels.{row}.")
        values.update({f"levels.{row}.{name}": value for name, value in typed.items()})
        removed = form.get(f"levels.{row}.remove") == "1"
        if removed or not (typed["percent_of_solution"] or typed["extra_amount"] or typed["rank"]):
            values[f"levels.{row}.remove"] = "1" if removed else ""
            continue
        extra = Duration(typed["extra_amount"], typed["extra_unit"])
        ladder.append(LevelInput(typed["percent_of_solution"], extra, typed["rank"], typed["contact_role"]))
        kept_rows.append(row)
    return ladder, kept_rows, values, rows


def _on_rows(exc: InvalidInput, kept_rows: list[int]) -> InvalidInput:
    """The domain numbers the levels kept; the page names the rows they were typed in."""
    moved = []
    for error in exc.errors:
        found = _LEVEL_FIELD.fullmatch(error.field)
        if found and 0 < int(found[1]) <= len(kept_rows):
            error = FieldError(
                f"levels.{kept_rows[int(found[1]) - 1]}.{found[2]}", error.code, error.message, error.params
            )
        moved.append(error)
    return InvalidInput(moved)


@routes.post("/followup/policies/{policy_id:\\d{1,9}}/levels")
@requires()
async def set_levels(request: web.Request) -> web.Response:
    ladder, kept_rows, values, rows = _ladder(await request.post())
    try:
        await policies.set_levels(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            policy_id=int(request.match_info["policy_id"]),
            ladder=ladder,
        )
    except InvalidInput as exc:
        errors = field_errors(request, _on_rows(exc, kept_rows))
        return await _policy_page(request, values=values, errors=errors, rows=rows, status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/followup/policies/{request.match_info['policy_id']}#levels", LEVELS_SAVED)
