"""Service-level policies and their escalation ladders: kept by administrators, chosen for each referral.

Durations are stored in working minutes of the receiving department. They are
entered in hours or in working days; a working day entered here is 7 hours
(420 minutes), the government's day from 08:00 to 15:00, whatever the
department's own hours, so one policy means the same amount of work everywhere.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from followup.models import ContactRole, EscalationLevel, SlaPolicy
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, invalid_choice, required, too_long
from majlis.numbers import whole_number
from priority import service as triage
from priority.score import Urgency

WORKING_DAY_MINUTES = 7 * 60
NAME_LIMIT = 120
MAX_AMOUNT = 1000
MAX_PERCENT = 1000
# Ranks above the top of the tree stop at the top; more than this is a typing mistake.
MAX_RANK = 20
LEVEL_ROLES = (ContactRole.HEAD, ContactRole.DEPUTY)


class DurationUnit(enum.StrEnum):
    HOURS = "hours"
    WORKING_DAYS = "working_days"


UNIT_MINUTES = {DurationUnit.HOURS: 60, DurationUnit.WORKING_DAYS: WORKING_DAY_MINUTES}


class PolicyNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("policy_not_found", N_("There is no such service-level policy."))


@dataclass(frozen=True)
class Duration:
    """An amount of working time as typed: a whole number and its unit (an empty amount is none)."""

    amount: str
    unit: str


@dataclass(frozen=True)
class PolicyInput:
    name: str
    # Empty: any category, any urgency.
    category_code: str
    urgency: str
    first_response: Duration
    update: Duration
    solution: Duration
    round_the_clock: bool = False


@dataclass(frozen=True)
class LevelInput:
    percent_of_solution: str
    extra: Duration
    rank: str
    contact_role: str


@dataclass(frozen=True)
class PolicyView:
    policy: SlaPolicy
    levels: list[EscalationLevel]


def as_duration(minutes: int) -> tuple[int, DurationUnit]:
    """Stored minutes as the form shows them: whole working days where they divide (none too), else hours."""
    if minutes % WORKING_DAY_MINUTES == 0:
        return minutes // WORKING_DAY_MINUTES, DurationUnit.WORKING_DAYS
    return minutes // 60, DurationUnit.HOURS


def _minutes(field: str, value: Duration, errors: list[FieldError], *, least: int = 1) -> int | None:
    """The duration in minutes, or None when its amount is left empty; errors name `<field>_amount`/`_unit`."""
    if not value.amount.strip():
        return None
    amount = whole_number(value.amount)
    if amount is None or not least <= amount <= MAX_AMOUNT:
        errors.append(
            FieldError(
                f"{field}_amount",
                "out_of_range",
                N_("{field} must be between {min} and {max}."),
                {"min": str(least), "max": str(MAX_AMOUNT)},
            )
        )
        amount = None
    try:
        unit = DurationUnit(value.unit)
    except ValueError:
        errors.append(invalid_choice(f"{field}_unit", (u.value for u in DurationUnit)))
        return None
    return None if amount is None else amount * UNIT_MINUTES[unit]


async def policies(*, session: AsyncSession) -> list[PolicyView]:
    """Every policy with its ladder, the default first, then by category and urgency."""
    rows = list(await session.scalars(select(SlaPolicy)))
    ladders: dict[int, list[EscalationLevel]] = {p.id: [] for p in rows}
    for level in await session.scalars(
        select(EscalationLevel).order_by(EscalationLevel.policy_id, EscalationLevel.level)
    ):
        ladders[level.policy_id].append(level)
    rows.sort(key=lambda p: (p.category_code or "", p.urgency or "", p.id))
    return [PolicyView(p, ladders[p.id]) for p in rows]


async def policy_view(*, session: AsyncSession, policy_id: int) -> PolicyView:
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        raise PolicyNotFound()
    return PolicyView(policy, await levels(session=session, policy_id=policy_id))


async def levels(*, session: AsyncSession, policy_id: int) -> list[EscalationLevel]:
    rows = await session.scalars(
        select(EscalationLevel).where(EscalationLevel.policy_id == policy_id).order_by(EscalationLevel.level)
    )
    return list(rows)


async def policy_for(*, session: AsyncSession, category_code: str | None, urgency: Urgency | str | None) -> SlaPolicy:
    """The most specific active policy: category and urgency, then category, then urgency, then the default."""
    level = Urgency(urgency) if urgency else None
    found = await session.scalars(
        select(SlaPolicy).where(
            SlaPolicy.active.is_(True),
            (SlaPolicy.category_code == category_code) | SlaPolicy.category_code.is_(None)
            if category_code
            else SlaPolicy.category_code.is_(None),
            (SlaPolicy.urgency == level) | SlaPolicy.urgency.is_(None) if level else SlaPolicy.urgency.is_(None),
        )
    )
    # A category says more about who must act than the urgency does, so it weighs more.
    ranked = sorted(found, key=lambda p: (p.category_code is not None, p.urgency is not None), reverse=True)
    if not ranked:
        raise PolicyNotFound()
    return ranked[0]


def _is_default(category_code: str | None, urgency: Urgency | None) -> bool:
    return category_code is None and urgency is None


async def _checked(
    session: AsyncSession, data: PolicyInput, errors: list[FieldError], editing: SlaPolicy | None
) -> tuple[str, str | None, Urgency | None, int, int | None, int]:
    name = " ".join(data.name.split())
    if not name:
        errors.append(required("name"))
    elif len(name) > NAME_LIMIT:
        errors.append(too_long("name", NAME_LIMIT))
    category_code = data.category_code.strip() or None
    if category_code is not None:
        known = {c.code for c in await triage.categories(session=session, active_only=False)}
        if category_code not in known:
            errors.append(FieldError("category_code", "unknown", N_("{field} is not one of the categories.")))
    urgency: Urgency | None = None
    if data.urgency.strip():
        try:
            urgency = Urgency(data.urgency.strip())
        except ValueError:
            errors.append(invalid_choice("urgency", (u.value for u in Urgency)))
    first = _minutes("first_response", data.first_response, errors)
    update = _minutes("update", data.update, errors)
    solution = _minutes("solution", data.solution, errors)
    for field, value in (("first_response", first), ("solution", solution)):
        if value is None and not getattr(data, field).amount.strip():
            errors.append(required(f"{field}_amount"))
    if first is not None and solution is not None and first > solution:
        errors.append(
            FieldError(
                "first_response_amount",
                "after_solution",
                N_("The first response cannot be due after the solution."),
            )
        )
    others = select(SlaPolicy.id).where(
        SlaPolicy.category_code == category_code if category_code else SlaPolicy.category_code.is_(None),
        SlaPolicy.urgency == urgency if urgency else SlaPolicy.urgency.is_(None),
    )
    if editing is not None:
        others = others.where(SlaPolicy.id != editing.id)
    if await session.scalar(others.limit(1)) is not None:
        errors.append(
            FieldError(
                "category_code",
                "taken",
                N_("A policy for this category and urgency already exists (perhaps deactivated); edit that one."),
            )
        )
    elif (
        editing is not None
        and _is_default(editing.category_code, editing.urgency)
        and not _is_default(category_code, urgency)
    ):
        errors.append(_default_stays("category_code"))
    return name, category_code, urgency, first or 0, update, solution or 0


def _default_stays(field: str) -> FieldError:
    return FieldError(
        field,
        "default_policy",
        N_("The default policy (any category, any urgency) applies when no other does; it must stay so and active."),
    )


def _first_out_of_order(ladder: list[tuple[int, int]], solution: int) -> int | None:
    """The number of the first level (percent, extra minutes) not reached strictly after the one before, if any."""
    thresholds = [percent * solution + 100 * extra for percent, extra in ladder]  # in hundredths of a minute
    return next((n for n in range(2, len(ladder) + 1) if thresholds[n - 1] <= thresholds[n - 2]), None)


def _checked_levels(ladder: list[LevelInput], solution: int | None) -> tuple[list[EscalationLevel], list[FieldError]]:
    """The ladder typed, numbered from 1; errors name "levels.<n>.<field>"."""
    errors: list[FieldError] = []
    built: list[EscalationLevel] = []
    previous: tuple[int, tuple[int, int]] | None = None  # the last good level: its number, percent and extra
    for number, data in enumerate(ladder, start=1):
        prefix = f"levels.{number}."
        before = len(errors)
        percent = whole_number(data.percent_of_solution)
        if percent is None or not 1 <= percent <= MAX_PERCENT:
            errors.append(
                FieldError(
                    prefix + "percent_of_solution",
                    "out_of_range",
                    N_("{field} must be between {min} and {max}."),
                    {"min": "1", "max": str(MAX_PERCENT)},
                )
            )
        extra = _minutes(prefix + "extra", data.extra, errors, least=0) or 0
        rank = whole_number(data.rank)
        if rank is None or not 0 <= rank <= MAX_RANK:
            errors.append(
                FieldError(
                    prefix + "rank",
                    "out_of_range",
                    N_("{field} must be between {min} and {max}."),
                    {"min": "0", "max": str(MAX_RANK)},
                )
            )
        role = ContactRole(data.contact_role) if data.contact_role in set(LEVEL_ROLES) else None
        if role is None:
            errors.append(invalid_choice(prefix + "contact_role", (r.value for r in LEVEL_ROLES)))
        if len(errors) > before or percent is None or rank is None or role is None:
            continue
        if (
            solution is not None
            and previous is not None
            and _first_out_of_order([previous[1], (percent, extra)], solution)
        ):
            errors.append(
                FieldError(
                    prefix + "percent_of_solution",
                    "not_later",
                    N_("Level {level} must be reached after level {previous}: raise its percentage or extra time."),
                    {"level": str(number), "previous": str(previous[0])},
                )
            )
        previous = (number, (percent, extra))
        built.append(
            EscalationLevel(
                level=number, percent_of_solution=percent, extra_minutes=extra, rank=rank, contact_role=role
            )
        )
    return built, errors


async def add_policy(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, data: PolicyInput, ladder: list[LevelInput]
) -> SlaPolicy:
    """A new active policy with its ladder; InvalidInput names every bad field and nothing is saved."""
    errors: list[FieldError] = []
    name, category_code, urgency, first, update, solution = await _checked(session, data, errors, None)
    built, ladder_errors = _checked_levels(ladder, solution or None)
    errors.extend(ladder_errors)
    if errors:
        raise InvalidInput(errors)
    policy = SlaPolicy(
        name=name,
        category_code=category_code,
        urgency=urgency,
        first_response_minutes=first,
        update_minutes=update,
        solution_minutes=solution,
        round_the_clock=data.round_the_clock,
        active=True,
    )
    session.add(policy)
    await session.flush()
    await _replace_ladder(session, policy.id, built)
    await _record(session, clock, actor_id, "sla_policy.add", policy, {**_described(policy), "levels": _ladder(built)})
    return policy


async def update_policy(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    policy_id: int,
    data: PolicyInput,
    ladder: list[LevelInput] | None = None,
) -> SlaPolicy:
    """New name, scope or durations, and with `ladder` a new ladder checked against the new solution time;
    without one the ladder kept must still climb with it.

    Referrals already sent keep the deadlines they were given.
    """
    view = await policy_view(session=session, policy_id=policy_id)
    policy = view.policy
    errors: list[FieldError] = []
    name, category_code, urgency, first, update, solution = await _checked(session, data, errors, policy)
    built: list[EscalationLevel] | None = None
    if ladder is not None:
        built, ladder_errors = _checked_levels(ladder, solution or None)
        errors.extend(ladder_errors)
    elif solution and _first_out_of_order([(lv.percent_of_solution, lv.extra_minutes) for lv in view.levels], solution):
        errors.append(
            FieldError(
                "solution_amount",
                "ladder_out_of_order",
                N_("With this solution time the escalation levels would no longer come one after another; "
                   "change the levels first."),
            )
        )  # fmt: skip
    if errors:
        raise InvalidInput(errors)
    before = _described(policy)
    policy.name, policy.category_code, policy.urgency = name, category_code, urgency
    policy.first_response_minutes, policy.update_minutes, policy.solution_minutes = first, update, solution
    policy.round_the_clock = data.round_the_clock
    await session.flush()
    details: dict[str, object] = {"before": before, "after": _described(policy)}
    if built is not None:
        await _replace_ladder(session, policy.id, built)
        details["levels"] = {"before": _ladder(view.levels), "after": _ladder(built)}
    await _record(session, clock, actor_id, "sla_policy.update", policy, details)
    return policy


async def _replace_ladder(session: AsyncSession, policy_id: int, built: list[EscalationLevel]) -> None:
    await session.execute(delete(EscalationLevel).where(EscalationLevel.policy_id == policy_id))
    for level in built:
        level.policy_id = policy_id
    session.add_all(built)
    await session.flush()


async def set_levels(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, policy_id: int, ladder: list[LevelInput]
) -> list[EscalationLevel]:
    """The policy's whole ladder at once, numbered in the order given; each level strictly later than the last.

    Referrals already past a level keep their place (their level number).
    """
    view = await policy_view(session=session, policy_id=policy_id)
    built, errors = _checked_levels(ladder, view.policy.solution_minutes)
    if errors:
        raise InvalidInput(errors)
    await _replace_ladder(session, policy_id, built)
    details = {"before": _ladder(view.levels), "after": _ladder(built)}
    await _record(session, clock, actor_id, "sla_policy.levels", view.policy, details)
    return built


async def set_policy_active(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, policy_id: int, active: bool
) -> SlaPolicy:
    policy = (await policy_view(session=session, policy_id=policy_id)).policy
    if not active and _is_default(policy.category_code, policy.urgency):
        raise InvalidInput([_default_stays("active")])
    if policy.active != active:
        policy.active = active
        await session.flush()
        await _record(
            session, clock, actor_id, "sla_policy.activate" if active else "sla_policy.deactivate", policy, {}
        )
    return policy


def _described(policy: SlaPolicy) -> dict[str, object]:
    return {
        "name": policy.name,
        "category_code": policy.category_code,
        "urgency": policy.urgency.value if policy.urgency else None,
        "first_response_minutes": policy.first_response_minutes,
        "update_minutes": policy.update_minutes,
        "solution_minutes": policy.solution_minutes,
        "round_the_clock": policy.round_the_clock,
    }


def _ladder(built: list[EscalationLevel]) -> list[dict[str, object]]:
    return [
        {
            "level": level.level,
            "percent_of_solution": level.percent_of_solution,
            "extra_minutes": level.extra_minutes,
            "rank": level.rank,
            "contact_role": level.contact_role.value,
        }
        for level in built
    ]


async def _record(
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    action: str,
    policy: SlaPolicy,
    details: Mapping[str, object],
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type="sla_policy",
        target_id=policy.id,
        details=dict(details),
    )
