"""`majlis two-factor reset USERNAME` (a lost phone: the account enrols again at its next sign-in) and, in
development, `majlis two-factor demo-code` (the demo key's current code, majlis/demo_two_factor.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from accounts import service as accounts
from accounts import sessions, two_factor
from majlis import demo_two_factor
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.settings import Settings

COMMANDS = ("two-factor",)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`majlis two-factor …`, on `majlis`'s parser."""
    parser = commands.add_parser("two-factor", help="staff two-factor sign-in")
    subcommands = parser.add_subparsers(dest="two_factor_command", required=True)
    reset = subcommands.add_parser(
        "reset", help="remove an account's authenticator and recovery codes (it enrols again at its next sign-in)"
    )
    reset.add_argument("username")
    subcommands.add_parser("demo-code", help="the demo accounts' current code (development only)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.two_factor_command == "demo-code":
        if not settings.is_development:
            print("majlis: the demo's key is for development only", file=sys.stderr)
            return 2
        print(demo_two_factor.current_code(SystemClock()))
        return 0
    return asyncio.run(_reset(settings, args.username))


async def _reset(settings: Settings, username: str) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            user = await accounts.user_by_username(session=session, username=username)
            if user is None:
                print(f"majlis: no staff account is called {username!r}", file=sys.stderr)
                return 2
            await two_factor.reset(session=session, clock=SystemClock(), user=user, actor_id=None)
            # As from the administrator's page: no session signed in with the old authenticator outlives it.
            await sessions.revoke_all_sessions(session=session, user_id=user.id)
    finally:
        await engine.dispose()
    print(
        f"{user.username}: authenticator removed and every session signed out;"
        " the next sign-in sets one up again if the role requires it"
    )
    return 0
