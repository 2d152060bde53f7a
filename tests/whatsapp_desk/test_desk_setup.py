"""Setting up the WhatsApp desk: a staff account made from the command line, and the demo's inbox (a conversation
waiting for staff, one that made a request), made once and shown to the demo's `whatsapp` account."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.roles import Role
from cases import service as cases
from cases.models import Channel
from majlis import demo, demo_whatsapp
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from tests.factories import Client, sign_in
from tests.majlis.test_cli import run
from whatsapp_desk import inbox_lists
from whatsapp_desk.models import Conversation, DeskMessage, HandoverReason, Step

URL = "http://127.0.0.1:8080/status"


def test_a_desk_account_is_made_from_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    assert run(["db", "upgrade"], env).returncode == 0
    create = ["users", "create", "--password-stdin", "--username", "mona", "--name", "منى", "--gender", "female"]
    created: subprocess.CompletedProcess[str] = run([*create, "--role", "whatsapp_desk"], env, "a-long-password\n")
    assert created.returncode == 0, created.stderr
    assert "created mona (whatsapp_desk)" in created.stdout


async def test_the_demo_inbox_is_made_once_and_shown_to_the_desk(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH))
    async with transaction(sessions) as session:
        first = await demo.load(session=session, clock=clock, status_url=URL)
    assert first.whatsapp is not None
    assert (demo_whatsapp.USERNAME, Role.WHATSAPP_DESK) in [(s.username, s.role) for s in first.staff]

    async with sessions() as session:
        member = await accounts.user_by_username(session=session, username=demo_whatsapp.USERNAME)
        assert member is not None and member.role is Role.WHATSAPP_DESK
        waiting = await session.get_one(Conversation, first.whatsapp.waiting_conversation_id)
        case = await cases.find_by_tracking_number(session=session, tracking_number=first.whatsapp.tracking_number)
        assert case is not None
        documented = await inbox_lists.messages_of_case(session=session, case_id=case.id)
    assert (waiting.step, waiting.handover_reason, waiting.phone) == (
        Step.STAFF,
        HandoverReason.ASKED,
        demo_whatsapp.WAITING_PHONE,
    )
    assert waiting.needs_staff_since is not None and waiting.needs_staff_since < clock.now()
    assert case.channel is Channel.WHATSAPP and case.phone == demo_whatsapp.FINISHED_PHONE
    # The whole exchange is in the request's history, ending with its tracking number.
    assert len(documented) == len(demo_whatsapp.FINISHED) + 1
    assert case.tracking_number in documented[-1].body

    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=RIYADH))
    async with transaction(sessions) as session:
        again = await demo.load(session=session, clock=clock, status_url=URL)
    assert again.whatsapp == first.whatsapp
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 2
        assert await session.scalar(select(func.count()).select_from(DeskMessage)) == len(documented) + len(
            demo_whatsapp.WAITING
        )

    await sign_in(client, demo_whatsapp.USERNAME, demo.DEMO_PASSWORD)
    page = await (await client.get("/whatsapp")).text()
    assert f'id="conversation-{waiting.id}"' in page
    assert "أرغب في معرفة هل يمكن لابني حضور المقابلة" in page
