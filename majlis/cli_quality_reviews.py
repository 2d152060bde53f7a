"""`majlis quality reviews | review | causes`: the daily review of ratings from the command line.

`reviews` prints the overdue reviews and a Riyadh day's ratings, negative ones first (as /quality/reviews shows
them); `review` records or corrects one for the manager named by `--by`; `causes` lists the managed list, adds a
cause or retires one. A refusal is printed in English and Arabic with exit status 2, as majlis/cli_day.py does.
"""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Role
from majlis import cli_day, cli_quality
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory
from majlis.errors import InvalidInput
from majlis.settings import Settings
from quality import causes, review
from web.api_models import ID_LIMIT

REVIEWER_ROLES = (Role.MANAGER, Role.ADMINISTRATOR)


def _rating_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= ID_LIMIT:
        raise argparse.ArgumentTypeError(f"not a rating id: {text!r}")
    return int(text)


def add_reviews(each: cli_quality.Subparsers) -> None:
    reviews = each.add_parser("reviews", help="the overdue reviews and a day's ratings, negative ones first")
    reviews.add_argument("--day", default="", metavar="YYYY-MM-DD", help="a Riyadh day (today by default)")
    reviews.add_argument("--overdue", action="store_true", help="only the overdue reviews")


def add_review(each: cli_quality.Subparsers) -> None:
    one = each.add_parser("review", help="review a rating (a negative one needs --note, --cause and --action)")
    one.add_argument("rating_id", type=_rating_id, metavar="RATING_ID")
    one.add_argument("--note", default="", help="the investigation note (optional for a rating that is not negative)")
    one.add_argument("--cause", default="", metavar="CODE", help="a cause from the active list (majlis quality causes)")
    one.add_argument("--action", default="", help="what was decided: " + ", ".join(review.ACTIONS))
    one.add_argument("--by", required=True, metavar="USERNAME", help="the manager (or administrator)")


def add_causes(each: cli_quality.Subparsers) -> None:
    managed = each.add_parser("causes", help="the managed list of causes of negative ratings")
    steps = managed.add_subparsers(dest="causes_command", required=True)
    steps.add_parser("list", help="every cause in its order, retired ones marked")
    add = steps.add_parser("add", help="add a cause at the end of the list")
    add.add_argument("code", metavar="CODE", help="2 to 40 small Latin letters, digits or _")
    add.add_argument("--ar", required=True, help="the name in Arabic")
    add.add_argument("--en", required=True, help="the name in English")
    add.add_argument("--by", required=True, metavar="USERNAME", help="the manager (or administrator)")
    retire = steps.add_parser("retire", help="offer a cause no more (the reviews that gave it keep it)")
    retire.add_argument("code", metavar="CODE")
    retire.add_argument("--by", required=True, metavar="USERNAME", help="the manager (or administrator)")


def item_line(item: review.QueueItem) -> str:
    """One rating as a terminal shows it."""
    r = item.rating
    head = (
        f"  rating {r.id:<6} face {r.score}{' NEGATIVE' if item.negative else '         '}"
        f"  {riyadh(r.rated_at):%Y-%m-%d %H:%M}  {r.visit.value:<10} {item.tracking_number}"
        f"  served by {item.staff_name or '-'}  centre {r.branch_code or '-'}"
    )
    if item.age is not None:
        head += f"  {item.age} working day(s) old"
    if r.comment:
        head += f'\n      comment: "{r.comment}"'
    if item.review is None:
        return head + "\n      not reviewed"
    done = item.review
    said = f"      reviewed by {item.reviewer_name or '-'} {riyadh(done.reviewed_at):%Y-%m-%d %H:%M}"
    if done.cause_code:
        said += f"; cause {done.cause_code}"
    if done.action:
        said += f"; action {done.action.value}"
    if done.note:
        said += f'; note "{done.note}"'
    return f"{head}\n{said}"


async def _reviews(settings: Settings, day_text: str, overdue_only: bool) -> int:
    clock = SystemClock()
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            try:
                day = review.asked_day(day_text, now=clock.now())
            except InvalidInput as exc:
                print("\n".join(cli_day._refusal_lines(exc)))
                return 2
            late = await review.overdue(session=session, clock=clock)
            queue = [] if overdue_only else await review.day_queue(session=session, day=day)
    finally:
        await engine.dispose()
    print(f"Overdue reviews (negative ratings not reviewed by the end of the next working day): {len(late)}")
    print("\n".join(item_line(item) for item in late) or "  none")
    if not overdue_only:
        negatives = sum(1 for item in queue if item.negative)
        unreviewed = sum(1 for item in queue if item.review is None)
        print(f"Ratings of {day.isoformat()}: {len(queue)}, {negatives} negative, {unreviewed} not reviewed")
        print("\n".join(item_line(item) for item in queue) or "  none")
    return 0


async def _review(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> list[str]:
        actor_id = await cli_day._staff(
            session=session, username=args.by, roles=REVIEWER_ROLES, doing="reviewing a rating"
        )
        await review.record_review(
            session=session,
            clock=SystemClock(),
            rating_id=args.rating_id,
            actor_id=actor_id,
            note=args.note,
            cause=args.cause,
            action=args.action,
        )
        item = await review.rating_item(session=session, rating_id=args.rating_id)
        return [f"reviewed rating {args.rating_id}", item_line(item)]

    return await cli_day._run(settings, work)


async def _causes(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> list[str]:
        clock = SystemClock()
        if args.causes_command == "list":
            return [
                f"  {c.code:<24} {'active ' if c.active else 'RETIRED'}  {c.name_en} / {c.name_ar}"
                for c in await causes.causes(session=session)
            ]
        actor_id = await cli_day._staff(
            session=session, username=args.by, roles=REVIEWER_ROLES, doing="changing the list of causes"
        )
        if args.causes_command == "add":
            added = await causes.add_cause(
                session=session, clock=clock, actor_id=actor_id, code=args.code, name_ar=args.ar, name_en=args.en
            )
            return [f"added cause {added.code}: {added.name_en} / {added.name_ar}"]
        retired = await causes.set_cause_active(
            session=session, clock=clock, actor_id=actor_id, code=args.code, active=False
        )
        return [f"retired cause {retired.code}; the reviews that gave it keep it"]

    return await cli_day._run(settings, work)


def run_reviews(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_reviews(settings, args.day, args.overdue))


def run_review(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_review(settings, args))


def run_causes(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_causes(settings, args))


cli_quality.register("reviews", add_reviews, run_reviews)
cli_quality.register("review", add_review, run_review)
cli_quality.register("causes", add_causes, run_causes)
