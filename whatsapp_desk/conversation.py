"""The desk's guided conversation: the menu, each required field asked in turn, the summary, and the request.

One call handles one message of a conversation already locked by the desk (whatsapp_desk.desk). The step
says which question was asked last; the state keeps the answers so far, the steps to go back to, and how
many answers in a row could not be read. Every answer is checked as it arrives (the ID's check digit, the
name in letters), so the request made at the end passes the same checks as the portal's.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from cases.identity import IdentityProblem
from cases.intake import MAX_NAME, MAX_SUBJECT, MAX_TEXT
from majlis.clock import Clock
from rooms import service as rooms
from rooms.models import BranchSite
from whatsapp_desk import answers, evidence, inbox, media, questions, status, texts
from whatsapp_desk.answers import Control
from whatsapp_desk.context import DeskContext, Inbound
from whatsapp_desk.intake import make_request
from whatsapp_desk.models import Conversation, DeskMessage, HandoverReason, Purpose, Step
from whatsapp_desk.questions import mid_way

# Answers that could not be read, in a row, before a person takes over.
MISREADS_BEFORE_STAFF = 3
# Messages in a row whose files could not be fetched at all, before a person takes over.
MEDIA_FAILURES_BEFORE_STAFF = 3
TRACKING_EXAMPLE = "26-000417-5"

_ID_PROBLEMS = {
    IdentityProblem.LENGTH: texts.ID_LENGTH,
    IdentityProblem.PREFIX: texts.ID_PREFIX,
    IdentityProblem.CHECK_DIGIT: texts.ID_CHECK_DIGIT,
}


@dataclass(frozen=True)
class Turn:
    """The desk's answer to one message ("" for none) and the request it belongs to, if known."""

    text: str
    case_id: int | None = None


async def converse(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation: Conversation,
    message: DeskMessage,
    inbound: Inbound,
    context: DeskContext,
    expired: bool,
) -> Turn:
    """Handles one message of a locked conversation; `expired`: it was silent past the expiry before this one."""
    # The open centres, read afresh each message: an administrator may have added or closed one meanwhile.
    branches = [site for site in await rooms.branches(session=session) if site.active]
    talk = _Talk(session, clock, conversation, message, inbound, context, branches)
    await talk.run(expired=expired)
    conversation.state = talk.state
    flag_modified(conversation, "state")
    return Turn("\n\n".join(talk.lines), talk.case_id)


class _Talk:
    """One message's handling: a working copy of the state, and the paragraphs of the answer."""

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        conversation: Conversation,
        message: DeskMessage,
        inbound: Inbound,
        context: DeskContext,
        branches: list[BranchSite],
    ) -> None:
        self.session, self.clock, self.conversation = session, clock, conversation
        self.branches = branches
        self.message, self.inbound, self.context = message, inbound, context
        self.body = inbound.body
        self.state: dict[str, Any] = copy.deepcopy(conversation.state or {})
        self.lines: list[str] = []
        self.case_id: int | None = None

    # --- saying --------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.conversation.language

    def t(self, message: str, **params: str) -> str:
        return texts.text(self.language, message, **params)

    def say(self, message: str, **params: str) -> None:
        self.lines.append(self.t(message, **params))

    def ask(self, step: Step) -> None:
        """Puts the question of `step` in the answer."""
        purpose, store = self.conversation.purpose, self.context.store
        self.lines.append(
            questions.question(
                step, language=self.language, purpose=purpose, state=self.state, store=store, branches=self.branches
            )
        )

    # --- moving --------------------------------------------------------------------------------

    def go(self, step: Step, *, remember: bool = True) -> None:
        """Moves to `step` and asks its question; the step left is remembered for "back"."""
        if remember and mid_way(self.conversation.step):
            self.state.setdefault("previous", []).append(self.conversation.step.value)
        self.conversation.step = step
        self.ask(step)

    def answered(self, field: str, value: str) -> None:
        """Keeps a good answer and asks the next question (the summary again while an answer is being edited)."""
        self.state.setdefault("answers", {})[field] = value
        self.state["misreads"] = 0
        if self.state.pop("editing", False):
            self.go(Step.CONFIRM, remember=False)
            return
        order = list(questions.REQUEST_STEPS)
        if self.conversation.purpose is Purpose.COMPLAINT:
            order.remove(Step.KIND)
        self.go(order[order.index(self.conversation.step) + 1])

    @property
    def gathering_since(self) -> int:
        """The first message of the request being gathered: its files are those sent from there on."""
        return int(self.state.get("first_message_id") or self.message.id)

    async def end_gathering(self) -> None:
        """Forgets what was gathered, files included (the language and the rate-limit mark stay)."""
        if self.state.get("first_message_id") is not None:
            await media.discard_pending(
                session=self.session, conversation=self.conversation, since_message_id=self.gathering_since
            )
        self.state = {key: value for key, value in self.state.items() if key == "rate_warned_at"}

    async def start_over(self) -> None:
        """Back to the menu with nothing gathered."""
        await self.end_gathering()
        self.conversation.purpose = None
        self.conversation.step = Step.MENU

    async def misread(self, reason: str) -> None:
        """Says why the answer could not be used (`reason`, already in the conversation's language) and asks
        again; after three unreadable answers in a row a person takes over."""
        misreads = int(self.state.get("misreads", 0)) + 1
        self.state["misreads"] = misreads
        if misreads >= MISREADS_BEFORE_STAFF:
            await self.hand_over(HandoverReason.UNREADABLE, texts.HANDED_OVER_UNREADABLE)
            return
        self.lines.append(reason)
        self.ask(self.conversation.step)

    async def hand_over(self, reason: HandoverReason, said: str) -> None:
        """A person takes over from this message on; a request being gathered is dropped, files and all."""
        await self.end_gathering()
        await inbox.hand_over(
            session=self.session, clock=self.clock, conversation=self.conversation, reason=reason, at=self.message.at
        )
        self.lines = []
        self.say(said)

    # --- the message ---------------------------------------------------------------------------

    async def run(self, *, expired: bool) -> None:
        conversation = self.conversation
        step = conversation.step
        if step is Step.STAFF:
            # A person handles it: the bot keeps the files for them and says nothing.
            if self.inbound.media:
                await evidence.keep_for_staff(
                    session=self.session,
                    clock=self.clock,
                    context=self.context,
                    conversation=conversation,
                    message=self.message,
                    files=self.inbound.media,
                )
            return
        if expired and mid_way(step):
            # The files are the paused request's: kept (or refused, and named) before the question.
            if self.inbound.media and not await self.take_media(resuming=True):
                return  # handed to a person
            self.state["resume_step"] = step.value
            conversation.step = Step.RESUME
            self.ask(Step.RESUME)
            return
        if step is Step.IDLE or (expired and step in (Step.MENU, Step.FOLLOW)):
            conversation.language = answers.language_switch(self.body) or answers.script_language(
                self.body, conversation.language
            )
            await self.start_over()
            if self.inbound.media:
                self.say(texts.MEDIA_NOT_NOW)
            self.lines.append(texts.greeting(self.language))
            return
        switch = answers.language_switch(self.body)
        if switch is not None:
            # The files of the same message are still taken (and named) below, in the new language.
            conversation.language = switch
        if switch is not None and not self.inbound.media:
            self.ask(step)
            return
        if self.inbound.media:
            if not mid_way(step):
                self.say(texts.MEDIA_NOT_NOW)
                self.ask(step)
                return
            if not await self.take_media():
                return  # handed to a person
            if step is Step.EVIDENCE:
                if answers.is_done(self.body):
                    self.answered_evidence()
                else:
                    self.say(texts.EVIDENCE_RECEIVED, count=texts.isolated(str(self.state.get("files", 0))))
                return
            if switch is not None or not self.body.strip():
                self.ask(step)
                return
        command = answers.control(self.body)
        if command is Control.CANCEL:
            await self.start_over()
            self.say(texts.CANCELLED)
            self.ask(Step.MENU)
            return
        if command is Control.BACK:
            await self.back()
            return
        await _HANDLERS[step](self)

    async def take_media(self, *, resuming: bool = False) -> bool:
        """Keeps the message's files for the request being gathered and names those refused; False when a
        person took over (the files could not be fetched, again and again). At the evidence question the
        count of files is said instead of "kept", unless the resume question is asked."""
        taken = await evidence.take(
            session=self.session,
            clock=self.clock,
            context=self.context,
            conversation=self.conversation,
            message=self.message,
            files=self.inbound.media,
            since_message_id=self.gathering_since,
        )
        self.state["files"] = int(self.state.get("files", 0)) + taken.kept
        self.lines.extend(taken.said)
        failures = int(self.state.get("media_failures", 0)) + 1 if taken.unreachable else 0
        self.state["media_failures"] = failures
        if failures >= MEDIA_FAILURES_BEFORE_STAFF:
            await self.hand_over(HandoverReason.MEDIA, texts.HANDED_OVER_MEDIA)
            return False
        if taken.kept and (resuming or self.conversation.step is not Step.EVIDENCE):
            self.say(texts.MEDIA_KEPT)
        return True

    async def back(self) -> None:
        step = self.conversation.step
        if step is Step.CONFIRM and self.state.pop("choosing", False):
            self.ask(Step.CONFIRM)
            return
        if self.state.pop("editing", False):
            self.conversation.step = Step.CONFIRM
            self.ask(Step.CONFIRM)
            return
        previous = self.state.get("previous", [])
        if not mid_way(step) or not previous:
            await self.start_over()
            self.ask(Step.MENU)
            return
        self.conversation.step = Step(previous.pop())
        self.ask(self.conversation.step)

    # --- each step -----------------------------------------------------------------------------

    async def on_menu(self) -> None:
        purpose = answers.pick(self.body, questions.MENU_CHOICES)
        if purpose is None:
            await self.misread(self.t(texts.CHOOSE_A_NUMBER))
            return
        self.state["misreads"] = 0
        self.conversation.purpose = purpose
        if purpose in (Purpose.REQUEST, Purpose.COMPLAINT):
            # A new exchange: the request made last is not this one's (its history keeps what it had).
            self.conversation.case_id = None
            self.state.update(answers={}, previous=[], files=0, first_message_id=self.message.id)
            self.go(Step.NAME)
        elif purpose is Purpose.FOLLOW:
            self.conversation.step = Step.FOLLOW
            await self.status(None)
        else:
            await self.hand_over(HandoverReason.ASKED, texts.HANDED_OVER)

    async def status(self, tracking_number: str | None) -> None:
        self.lines.append(
            await status.status_answer(
                session=self.session,
                clock=self.clock,
                phone=self.conversation.phone,
                tracking_number=tracking_number,
                language=self.language,
            )
        )
        self.ask(Step.FOLLOW)

    async def on_follow(self) -> None:
        number = answers.tracking_number(self.body)
        if number is not None:
            self.state["misreads"] = 0
            await self.status(number)
        elif answers.pick(self.body, questions.MENU_CHOICES) is not None:
            await self.on_menu()
        else:
            await self.misread(self.t(texts.FOLLOW_UNREADABLE, example=texts.isolated(TRACKING_EXAMPLE)))

    async def on_name(self) -> None:
        name, too_long = answers.full_name(self.body)
        if name is None:
            await self.misread(
                self.t(texts.NAME_TOO_LONG if too_long else texts.NAME_UNREADABLE, max=texts.isolated(str(MAX_NAME)))
            )
            return
        self.answered("name", name)

    async def on_id_number(self) -> None:
        kind, number, problem = answers.identity(self.body)
        if problem is not None or kind is None:
            await self.misread(self.t(_ID_PROBLEMS[problem or IdentityProblem.LENGTH]))
            return
        self.state.setdefault("answers", {})["kind"] = kind.value
        self.answered("id_number", number)

    async def on_choice(self, field: str, options: dict[str, Any]) -> None:
        value = answers.pick(self.body, options)
        if value is None:
            await self.misread(self.t(texts.CHOOSE_A_NUMBER))
            return
        self.answered(field, str(value))

    async def on_free_text(self, field: str, limit: int) -> None:
        value, too_long = answers.free_text(self.body, limit)
        if value is None:
            await self.misread(
                self.t(texts.TOO_LONG, max=texts.isolated(str(limit))) if too_long else self.t(texts.EMPTY_ANSWER)
            )
            return
        self.answered(field, value)

    def answered_evidence(self) -> None:
        self.state["misreads"] = 0
        editing = self.state.pop("editing", False)
        self.go(Step.CONFIRM, remember=not editing)

    async def on_evidence(self) -> None:
        if answers.is_done(self.body):
            self.answered_evidence()
        else:
            await self.misread(self.t(texts.EVIDENCE_UNREADABLE))

    async def on_confirm(self) -> None:
        if self.state.get("choosing"):
            fields = questions.editable(self.conversation.purpose)
            chosen = answers.pick(self.body, answers.choices(fields))
            if chosen is None:
                await self.misread(self.t(texts.CHOOSE_A_NUMBER))
                return
            self.state.update(choosing=False, editing=True, misreads=0)
            self.conversation.step = chosen
            self.ask(chosen)
            return
        choice = answers.pick(self.body, questions.CONFIRM_CHOICES)
        if choice == "edit":
            self.state.update(choosing=True, misreads=0)
            self.ask(Step.CONFIRM)
        elif choice == "send":
            await self.send()
        else:
            await self.misread(self.t(texts.CHOOSE_A_NUMBER))

    async def send(self) -> None:
        made = await make_request(
            session=self.session,
            clock=self.clock,
            conversation=self.conversation,
            answers=self.state.get("answers", {}),
            message=self.message,
            context=self.context,
            first_message_id=self.state.get("first_message_id"),
        )
        if made.refused_phone:
            await self.start_over()
            self.say(texts.PHONE_REFUSED, portal_url=texts.isolated(self.context.portal_url))
            return
        if made.missing is not None:
            self.say(texts.NOT_UNDERSTOOD)
            self.conversation.step = made.missing
            self.ask(made.missing)
            return
        assert made.case is not None
        self.case_id = made.case.id
        number = texts.isolated(made.case.tracking_number)
        url = texts.isolated(self.context.status_url)
        if made.earlier is not None:
            original = texts.isolated(made.earlier.tracking_number)
            self.say(texts.REPEATED, number=number, original=original, status_url=url)
        else:
            self.say(texts.SUBMITTED, number=number, status_url=url)
        # Every file of the gathering is the request's now: nothing left to discard.
        self.state.pop("first_message_id", None)
        await self.start_over()
        self.conversation.step = Step.IDLE

    async def on_resume(self) -> None:
        choice = answers.pick(self.body, questions.RESUME_CHOICES)
        if choice == "continue":
            step = Step(self.state.pop("resume_step", Step.NAME.value))
            self.state["misreads"] = 0
            self.conversation.step = step
            self.ask(step)
        elif choice == "restart":
            await self.start_over()
            self.ask(Step.MENU)
        else:
            await self.misread(self.t(texts.CHOOSE_A_NUMBER))


_HANDLERS: dict[Step, Callable[[_Talk], Awaitable[None]]] = {
    Step.MENU: _Talk.on_menu,
    Step.FOLLOW: _Talk.on_follow,
    Step.NAME: _Talk.on_name,
    Step.ID_NUMBER: _Talk.on_id_number,
    Step.GENDER: lambda talk: talk.on_choice("gender", questions.GENDER_CHOICES),
    Step.KIND: lambda talk: talk.on_choice("request_kind", questions.KIND_CHOICES),
    Step.BRANCH: lambda talk: talk.on_choice("branch", questions.branch_choices(talk.branches)),
    Step.SUBJECT: lambda talk: talk.on_free_text("subject", MAX_SUBJECT),
    Step.TEXT: lambda talk: talk.on_free_text("text", MAX_TEXT),
    Step.EVIDENCE: _Talk.on_evidence,
    Step.CONFIRM: _Talk.on_confirm,
    Step.RESUME: _Talk.on_resume,
}
