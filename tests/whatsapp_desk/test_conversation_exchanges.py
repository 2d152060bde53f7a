"""Each exchange of a conversation keeps to itself, through the signed webhook: a hand-over weeks after a request
goes into the history of the request staff link, not the old one's; at the summary, what the sender reads is
what their reply does, after a language switch or an unreadable answer too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from accounts.roles import Role
from cases import service as cases
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, details, make_staff
from tests.whatsapp_desk.test_conversation import (
    Sessions,
    app,  # noqa: F401 (the fixture: an app whose webhooks Twilio signs)
    conversation,
    requests,
    say,
    up_to_evidence,
)
from whatsapp_desk import inbox, inbox_lists
from whatsapp_desk.models import DeskMessage, Step

URL = "http://127.0.0.1:8080/status"


async def bodies_of(sessions: Sessions, case_id: int) -> list[str]:
    async with sessions() as session:
        return [m.body for m in await inbox_lists.messages_of_case(session=session, case_id=case_id)]


async def test_a_hand_over_weeks_after_a_request_goes_into_the_request_staff_link(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await up_to_evidence(client, arabic=False)
    await say(client, "done")
    await say(client, "1")
    (first,) = await requests(sessions)
    async with transaction(sessions) as session:
        # Another request of the same sender, made on the portal with the same phone.
        second = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
    first_history = await bodies_of(sessions, first.id)

    clock.advance(timedelta(days=21))
    await say(client, "Hello")
    clock.advance(timedelta(minutes=1))
    assert "member of our staff" in await say(client, "4")
    assert (await conversation(sessions)).case_id is None
    assert await say(client, "What about my interview request?") == ""
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    talk = await conversation(sessions)
    async with transaction(sessions) as session:
        await inbox.reply(
            session=session, clock=clock, conversation_id=talk.id, actor_id=staff.id, text="Which request is it?"
        )
    assert "What about my interview request?" not in await bodies_of(sessions, first.id)
    assert await say(client, "The one I sent on the portal") == ""
    async with transaction(sessions) as session:
        await inbox.link_case(
            session=session,
            clock=clock,
            conversation_id=talk.id,
            tracking_number=second.tracking_number,
            actor_id=staff.id,
        )

    # The old request's history is as it was; the hand-over's exchange is the second request's.
    assert await bodies_of(sessions, first.id) == first_history
    second_history = await bodies_of(sessions, second.id)
    assert second_history[0] == "4" and "What about my interview request?" in second_history
    assert second_history[-2:] == ["Which request is it?", "The one I sent on the portal"]
    assert "Hello" not in second_history  # a minute before the sender asked for staff

    # Handed back, the conversation belongs to no request: the next exchange is no one's until it is.
    async with transaction(sessions) as session:
        await inbox.hand_back(session=session, clock=clock, conversation_id=talk.id, actor_id=staff.id)
    assert (await conversation(sessions)).case_id is None
    await say(client, "Thanks")
    async with sessions() as session:
        last = await session.scalar(select(DeskMessage).order_by(DeskMessage.id.desc()).limit(1))
    assert last is not None and last.case_id is None
    assert await bodies_of(sessions, second.id) == second_history


async def test_a_new_request_is_not_documented_in_the_previous_one(client: Client, sessions: Sessions) -> None:
    await up_to_evidence(client, arabic=False)
    await say(client, "done")
    await say(client, "1")
    await say(client, "Hello")
    await say(client, "1")
    # Mid-way through the next request, the conversation is no longer the first one's.
    assert (await conversation(sessions)).case_id is None


async def test_after_choosing_to_change_an_answer_the_list_is_asked_again_and_the_reply_picks_from_it(
    client: Client, sessions: Sessions
) -> None:
    await up_to_evidence(client, arabic=False)
    assert "Please review your request" in await say(client, "done")
    assert "Which answer" in await say(client, "2")
    # A language switch asks the same question in the other language: the list, not the summary.
    switched = await say(client, "عربي")
    assert "أي إجابة تودّون تعديلها؟" in switched and "1. " in switched
    # An answer that cannot be read: the list again, with the reason.
    misread = await say(client, "perhaps")
    assert "أي إجابة تودّون تعديلها؟" in misread
    # "1" is the first of the list (the name), as the text shown says.
    assert "اسمكم الكامل" in await say(client, "1")
    assert (await conversation(sessions)).step is Step.NAME
    summary = await say(client, "Fatimah M. Alharbi")
    assert "Fatimah M. Alharbi" in summary and "1. " not in summary
    # Back at the summary, "1" sends.
    await say(client, "1")
    (case,) = await requests(sessions)
    assert case.applicant_name == "Fatimah M. Alharbi"


async def test_after_a_day_of_silence_at_the_list_of_answers_to_change_the_list_is_asked_again(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await up_to_evidence(client, arabic=False)
    await say(client, "done")
    await say(client, "2")
    clock.advance(timedelta(hours=25))
    assert "Welcome back" in await say(client, "hello?")
    resumed = await say(client, "1")
    assert "Which answer" in resumed and "Please review your request" not in resumed
    assert "subject" in await say(client, "6")
