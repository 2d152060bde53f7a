"""Protocol's calendar: the week grid (days × times, rooms as lanes), the month, and moving an appointment.

The grid's data is scheduler.week_grid's; the move goes through scheduler.by_hand.move_appointment, so every rule
of the allocation holds whether the seat was picked in the dialog's list, typed, or dropped on in the grid. The
Move dialog is one template, served as a page of its own (without JavaScript) and as a fragment that
calendar.js puts in a <dialog>.
"""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web
from babel.dates import format_date

from accounts.roles import Role
from majlis.clock import riyadh
from majlis.dates import hijri_date
from majlis.errors import N_, DomainError, InvalidInput
from scheduler import by_hand as manual
from scheduler import confirmations, week_grid
from scheduler import service as scheduling
from scheduler.allocation import priority_key
from scheduler.models import Slot
from scheduler.week_grid import Confirmed
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.errors import domain_message
from web.feeds import official_feed_url
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.notices import done, notice
from web.pages import render
from web.public import status_url

routes = web.RouteTableDef()
PROTOCOL = (Role.PROTOCOL,)
# Where an appointment's confirmation stands, on its card: in words, never by colour alone.
CONFIRMATION_LABELS = {
    Confirmed.NOT_ASKED: N_("Not yet asked to confirm"),
    Confirmed.ASKED: N_("Awaiting confirmation"),
    Confirmed.CONFIRMED: N_("Confirmed"),
    Confirmed.ARRIVED: N_("Arrived"),
    Confirmed.IN_AUDIENCE: N_("In the audience"),
}
MOVED = notice(N_("The appointment has moved; the applicant is told."))
MOVED_ON_DIRECTIVE = notice(
    N_("The appointment has moved on the official's directive; the applicant is told by message and called.")
)
MOVE_FIELDS = ("to_slot", "change_reason", "change_text", "directive")


def _day_query(request: web.Request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.query.get(name, ""))
    except ValueError:
        return None


def _branch(request: web.Request, names: dict[str, str]) -> str | None:
    """The branch chosen in the filter; None for all (and for a code that is not a branch)."""
    chosen = request.query.get("branch", "")
    return chosen if chosen in names else None


def day_header(day: date, language: str) -> tuple[str, str]:
    """A day as a column's head shows it: the weekday and Gregorian date, and the Umm al-Qura date."""
    return format_date(day, format="EEEE d MMMM y", locale=language), hijri_date(day, language)


async def calendar_page(
    request: web.Request,
    *,
    notice: str | None = None,
    form_error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The week grid with protocol's tools (allocation, the official's commitments, placing by hand)."""
    session, clock = request[DB], request.app[CLOCK]
    today = riyadh(clock.now()).date()
    # ?week= is the page's own; ?from= is what links made before the grid still carry.
    start = week_grid.week_start(_day_query(request, "week") or _day_query(request, "from") or today)
    names = await branch_context(request)
    branch = _branch(request, names["branch_names"])
    grid = await week_grid.week_grid(session=session, clock=clock, start=start, branch=branch)
    shown = {d.day for d in grid.days}
    # At a phone's width one day shows at a time: the one asked for, today in this week, or the first.
    chosen = _day_query(request, "day")
    chosen = chosen if chosen in shown else (today if today in shown else grid.days[0].day)
    case_ids = [
        card.case_id for d in grid.days for lane in d.lanes for cell in lane.cells.values() for card in cell.cards
    ]
    # Whose each card is, for requests within the reader's need to know (each view logged); others show as taken.
    visible = await personal_data.seen_in_list(request, case_ids)
    open_slots = [(cell, lane.room) for d in grid.days for lane in d.lanes for cell in lane.cells.values() if cell.open]
    open_slots.sort(key=lambda pair: (pair[0].starts_at, pair[1].id))
    waiting = sorted(await scheduling.waiting_requests(session=session, clock=clock), key=priority_key)
    placeable = await personal_data.reachable(request, {w.case_id for w in waiting})
    language = request[LANGUAGE]
    context = {
        "grid": grid,
        "start": start,
        "chosen_day": chosen,
        "branch": branch or "",
        "headers": {d.day: day_header(d.day, language) for d in grid.days},
        "previous": start - timedelta(days=7),
        "next": start + timedelta(days=7),
        "this_week": week_grid.week_start(today),
        "open_slots": open_slots,
        "waiting": [w for w in waiting if not w.has_live_appointment and w.case_id in placeable],
        "visible": visible,
        "labels": labels,
        "confirmation_labels": CONFIRMATION_LABELS,
        "notice": notice,
        "form_error": form_error,
        "errors": errors or {},
        "values": {},
        "feed_url": official_feed_url(request),
        **names,
    }
    return render(request, "protocol/calendar.html", context, status=status)


@routes.get("/protocol")
@requires(*PROTOCOL)
async def week(request: web.Request) -> web.Response:
    return await calendar_page(request)


@routes.get("/protocol/month")
@requires(*PROTOCOL)
async def month(request: web.Request) -> web.Response:
    """A month: per day its sessions and seats taken and free, each day a link into its week."""
    today = riyadh(request.app[CLOCK].now()).date()
    try:
        year, number = (int(part) for part in request.query.get("month", "").split("-"))
        first = date(year, number, 1)
    except ValueError:
        first = today.replace(day=1)
    names = await branch_context(request)
    branch = _branch(request, names["branch_names"])
    days = await week_grid.month_days(session=request[DB], first=first, branch=branch)
    # Rows of weeks from Sunday, the days outside the month left blank.
    lead = (first.weekday() + 1) % 7
    cells: list[week_grid.MonthDay | None] = [None] * lead + list(days)
    cells += [None] * (-len(cells) % 7)
    language = request[LANGUAGE]
    context = {
        "first": first,
        "weeks": [cells[i : i + 7] for i in range(0, len(cells), 7)],
        "weekdays": [format_date(first + timedelta(days=n - lead), "EEE", locale=language) for n in range(7)],
        "month_name": format_date(first, "MMMM y", locale=language),
        "hijri_span": (hijri_date(days[0].day, language), hijri_date(days[-1].day, language)),
        "hijri_of": {d.day: hijri_date(d.day, language) for d in days},
        "week_of": {d.day: week_grid.week_start(d.day) for d in days},
        "previous": (first - timedelta(days=1)).replace(day=1),
        "next": (first + timedelta(days=32)).replace(day=1),
        "today": today,
        "branch": branch or "",
        **names,
    }
    return render(request, "protocol/calendar_month.html", context)


def by_hand_from_form(request: web.Request, form: dict[str, str]) -> manual.ByHand:
    """The slot, reason and directive a move or placement form gives, chosen by the member of protocol signed in."""
    to_slot = form.get("to_slot", "")
    return manual.ByHand(
        to_slot_id=int(to_slot) if to_slot.isascii() and to_slot.isdigit() and len(to_slot) < 10 else -1,
        actor_id=signed_in_user(request).id,
        change_reason=form.get("change_reason", ""),
        change_text=form.get("change_text", ""),
        status_url=status_url(request),
        directive=form.get("directive") == "1",
        policy=confirmations.policy_from(request.app[SETTINGS]),
    )


async def _move_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """The Move dialog: the compatible slots (the one dropped on chosen, or why it cannot be), a reason, and
    the directive; a page of its own, or with ?partial=1 the dialog's inside."""
    session, clock = request[DB], request.app[CLOCK]
    appointment_id = int(request.match_info["appointment_id"])
    choices = await week_grid.move_choices(session=session, clock=clock, appointment_id=appointment_id)
    if choices is None:
        raise web.HTTPNotFound()
    if choices.case.id not in await personal_data.reachable(request, {choices.case.id}):
        raise web.HTTPNotFound()  # beyond the reader's need to know, as on the grid
    errors = dict(errors or {})
    target = values.get("to_slot", "")
    if target.isascii() and target.isdigit() and len(target) < 10 and "to_slot" not in errors:
        why = await week_grid.target_refusal(session=session, clock=clock, choices=choices, slot_id=int(target))
        if why is not None:
            errors["to_slot"] = request.app[CATALOGS].gettext(request[LANGUAGE], why)
    names = await branch_context(request)
    context = {
        "choices": choices,
        "values": values,
        "errors": errors,
        "labels": labels,
        "back": f"/protocol?week={week_grid.week_start(riyadh(choices.slot.starts_at).date()).isoformat()}",
        "partial": request.query.get("partial") == "1",
        **names,
    }
    template = "protocol/calendar_move_form.html" if context["partial"] else "protocol/calendar_move.html"
    return render(request, template, context, status=status)


@routes.get("/protocol/appointments/{appointment_id:\\d{1,9}}/move")
@requires(*PROTOCOL)
async def move_form(request: web.Request) -> web.Response:
    return await _move_page(request, {"to_slot": request.query.get("to_slot", "")})


@routes.post("/protocol/appointments/{appointment_id:\\d{1,9}}/move")
@requires(*PROTOCOL)
async def move_appointment(request: web.Request) -> web.Response:
    """Moves the appointment as the dialog asks: 303 to the week it is now in, saying so; a refusal names the
    field (the slot, the reason, the explanation) on the dialog's page again."""
    posted = await request.post()
    form = {name: str(posted.get(name, "")) for name in MOVE_FIELDS}
    by_hand = by_hand_from_form(request, form)
    session, clock = request[DB], request.app[CLOCK]
    try:
        moved = await manual.move_appointment(
            session=session,
            clock=clock,
            appointment_id=int(request.match_info["appointment_id"]),
            by_hand=by_hand,
        )
    except InvalidInput as exc:
        await session.rollback()
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _move_page(request, form, errors, status=422)
    except DomainError as exc:
        await session.rollback()
        errors = {"to_slot": domain_message(request.app[CATALOGS], request[LANGUAGE], exc)}
        return await _move_page(request, form, errors, status=422)
    slot = await session.get_one(Slot, moved.slot_id)
    week_of = week_grid.week_start(riyadh(slot.starts_at).date()).isoformat()
    location = f"/protocol?week={week_of}&day={riyadh(slot.starts_at).date().isoformat()}#appointment-{moved.id}"
    return done(request, location, MOVED_ON_DIRECTIVE if by_hand.directive else MOVED)
