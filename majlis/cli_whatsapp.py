"""`majlis whatsapp say --from PHONE TEXT`: a WhatsApp message played through the desk, for development.

The webhook takes only messages Twilio signed, so without a Twilio account (the console backend of
`make run`) nobody could talk to the desk. This command hands a message to the same `whatsapp_desk.desk.receive`
the webhook calls, in one transaction, and prints the desk's answer. It is refused outside development: the
sender is whoever the command says, where WhatsApp would have verified the number.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from cases.phones import to_e164
from followup.attachments import AttachmentStore
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.settings import Settings
from whatsapp_desk import desk
from whatsapp_desk.context import DeskContext, Inbound

COMMAND = "whatsapp"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    whatsapp = commands.add_parser(COMMAND, help="the WhatsApp desk (development: talk to it without Twilio)")
    each = whatsapp.add_subparsers(dest="whatsapp_command", required=True)
    say = each.add_parser("say", help="send the desk a WhatsApp message as PHONE and print its answer")
    say.add_argument("--from", dest="sender", required=True, metavar="PHONE", help="the sender's mobile number")
    say.add_argument("text", help="what the message says (quote it)")


async def _say(settings: Settings, sender: str, text: str) -> str:
    engine = create_engine(settings.database_url_value)
    try:
        store = AttachmentStore(
            Path(settings.attachments_dir),
            max_bytes=settings.attachment_max_bytes,
            max_files=settings.attachment_max_files,
        )
        context = DeskContext.from_settings(settings, fetcher=None, store=store)
        inbound = Inbound(sender=sender, body=text, message_sid="CLI" + secrets.token_hex(16), media=())
        async with transaction(session_factory(engine)) as session:
            reply = await desk.receive(session=session, clock=SystemClock(), inbound=inbound, context=context)
        return reply.text
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_development:
        print(
            "majlis: `whatsapp say` is for development only; WhatsApp reaches the desk through its webhook",
            file=sys.stderr,
        )
        return 2
    sender = to_e164(args.sender)
    if not sender:
        print(f"majlis: {args.sender!r} is not a mobile number (e.g. +966501234567)", file=sys.stderr)
        return 2
    answer = asyncio.run(_say(settings, sender, args.text))
    print(answer or "(no answer: the conversation is with staff, or the sender is blocked or over the rate)")
    return 0
