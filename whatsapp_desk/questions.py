"""The questions the WhatsApp desk asks, in the conversation's language, and the answers each choice accepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cases.intake import MAX_SUBJECT, MAX_TEXT
from cases.models import Gender, RequestKind
from followup.attachments import AttachmentStore, megabytes
from rooms.models import BranchSite
from scheduler.replies import normalise
from whatsapp_desk import answers, texts
from whatsapp_desk.models import Purpose, Step

# The questions of a request, in the order they are asked; a complaint skips the kind.
REQUEST_STEPS = (
    Step.NAME,
    Step.ID_NUMBER,
    Step.GENDER,
    Step.KIND,
    Step.BRANCH,
    Step.SUBJECT,
    Step.TEXT,
    Step.EVIDENCE,
    Step.CONFIRM,
)
# The summary shows the start of a long text; the whole text is in the request.
SUMMARY_TEXT = 300

MENU_CHOICES = answers.choices(
    [
        (Purpose.REQUEST, texts.MENU_NEW_REQUEST),
        (Purpose.COMPLAINT, texts.MENU_COMPLAINT),
        (Purpose.FOLLOW, texts.MENU_FOLLOW),
        (Purpose.STAFF, texts.MENU_STAFF),
    ],
    {
        "new request": Purpose.REQUEST,
        "request": Purpose.REQUEST,
        "طلب": Purpose.REQUEST,
        "طلب جديد": Purpose.REQUEST,
        "complaint": Purpose.COMPLAINT,
        "شكوى": Purpose.COMPLAINT,
        "follow": Purpose.FOLLOW,
        "status": Purpose.FOLLOW,
        "track": Purpose.FOLLOW,
        "متابعة": Purpose.FOLLOW,
        "متابعة طلب": Purpose.FOLLOW,
        "staff": Purpose.STAFF,
        "agent": Purpose.STAFF,
        "موظف": Purpose.STAFF,
        "التحدث الى موظف": Purpose.STAFF,
    },
)
GENDER_CHOICES = answers.choices(
    [(gender, texts.GENDER_LABELS[gender]) for gender in Gender],
    {"man": Gender.MALE, "رجل": Gender.MALE, "woman": Gender.FEMALE, "امرأة": Gender.FEMALE, "انثى": Gender.FEMALE},
)
# A complaint is chosen from the menu; the other kinds are asked.
REQUEST_KINDS = [kind for kind in RequestKind if kind is not RequestKind.COMPLAINT]
KIND_CHOICES = answers.choices([(kind, texts.KIND_LABELS[kind]) for kind in REQUEST_KINDS])
CONFIRM_CHOICES = answers.choices(
    [],
    {
        "1": "send",
        "send": "send",
        "confirm": "send",
        "yes": "send",
        "ارسال": "send",
        "تأكيد": "send",
        "نعم": "send",
        "موافق": "send",
        "2": "edit",
        "edit": "edit",
        "change": "edit",
        "تعديل": "edit",
        "تغيير": "edit",
    },
)
RESUME_CHOICES = answers.choices(
    [],
    {
        "1": "continue",
        "continue": "continue",
        "متابعة": "continue",
        "استمرار": "continue",
        "2": "restart",
        "start over": "restart",
        "restart": "restart",
        "من جديد": "restart",
        "البدء من جديد": "restart",
    },
)
EDITABLE = (
    (Step.NAME, texts.EDIT_NAME),
    (Step.ID_NUMBER, texts.EDIT_ID),
    (Step.GENDER, texts.EDIT_GENDER),
    (Step.KIND, texts.EDIT_KIND),
    (Step.BRANCH, texts.EDIT_BRANCH),
    (Step.SUBJECT, texts.EDIT_SUBJECT),
    (Step.TEXT, texts.EDIT_TEXT),
    (Step.EVIDENCE, texts.EDIT_FILES),
)


def mid_way(step: Step) -> bool:
    """True while a request or complaint is being gathered: the steps an expiry offers to resume."""
    return step in REQUEST_STEPS


def editable(purpose: Purpose | None) -> list[tuple[Step, str]]:
    """The answers the summary offers to change (a complaint has no kind to change)."""
    return [(step, label) for step, label in EDITABLE if not (purpose is Purpose.COMPLAINT and step is Step.KIND)]


def _listed(language: str, question: str, labels: list[str]) -> str:
    return f"{texts.text(language, question)}\n{texts.numbered(language, labels)}"


def branch_choices(branches: Sequence[BranchSite]) -> dict[str, str]:
    """The words that pick each open centre: its number as listed, its name in Arabic or English, its code."""
    found: dict[str, str] = {}
    for index, site in enumerate(branches, start=1):
        found[str(index)] = site.code
        for word in (site.name_ar, site.name_en, site.code):
            found.setdefault(normalise(word), site.code)
    return found


def question(
    step: Step,
    *,
    language: str,
    purpose: Purpose | None,
    state: dict[str, Any],
    store: AttachmentStore,
    branches: Sequence[BranchSite],
) -> str:
    """The question of `step` (for the menu, the menu; for the confirmation, the summary and the choices, or
    the answers to change once the sender chose to change one)."""
    if step is Step.NAME:
        return f"{texts.text(language, texts.ASK_NAME)}\n\n{texts.text(language, texts.CONTROLS_HINT)}"
    if step is Step.ID_NUMBER:
        return texts.text(language, texts.ASK_ID)
    if step is Step.GENDER:
        return _listed(language, texts.ASK_GENDER, [texts.GENDER_LABELS[gender] for gender in Gender])
    if step is Step.KIND:
        return _listed(language, texts.ASK_KIND, [texts.KIND_LABELS[kind] for kind in REQUEST_KINDS])
    if step is Step.BRANCH:
        # The centres are the branches table's (an administrator adds them), named as they are stored.
        listed = "\n".join(f"{index}. {site.name_in(language)}" for index, site in enumerate(branches, start=1))
        return f"{texts.text(language, texts.ASK_BRANCH)}\n{listed}"
    if step is Step.SUBJECT:
        return texts.text(language, texts.ASK_SUBJECT, max=texts.isolated(str(MAX_SUBJECT)))
    if step is Step.TEXT:
        asked = texts.ASK_COMPLAINT_TEXT if purpose is Purpose.COMPLAINT else texts.ASK_REQUEST_TEXT
        return texts.text(language, asked, max=texts.isolated(str(MAX_TEXT)))
    if step is Step.EVIDENCE:
        return texts.text(
            language,
            texts.ASK_EVIDENCE,
            count=texts.isolated(str(store.max_files)),
            max=texts.isolated(megabytes(store.max_bytes)),
        )
    if step is Step.CONFIRM and state.get("choosing"):
        # "2" was chosen at the summary: the reply is read as one of these, so these are what is asked again.
        return _listed(language, texts.EDIT_WHICH, [label for _, label in editable(purpose)])
    if step is Step.CONFIRM:
        return f"{summary(language, state, branches)}\n\n{texts.text(language, texts.CONFIRM_CHOICES)}"
    if step is Step.FOLLOW:
        return texts.text(language, texts.FOLLOW_PROMPT)
    if step is Step.RESUME:
        return texts.text(language, texts.RESUME)
    return texts.menu(language)


def summary(language: str, state: dict[str, Any], branches: Sequence[BranchSite]) -> str:
    """What the request will say, for the sender to check before it is sent."""
    given = state.get("answers", {})
    kind = given.get("request_kind") or RequestKind.COMPLAINT.value
    text = given.get("text", "")
    if len(text) > SUMMARY_TEXT:
        text = text[:SUMMARY_TEXT].rstrip() + "…"
    gender = texts.GENDER_LABELS.get(given.get("gender", ""))
    branch = next((site.name_in(language) for site in branches if site.code == given.get("branch")), "")
    return texts.text(
        language,
        texts.SUMMARY,
        name=given.get("name", ""),
        id_number=texts.isolated(given.get("id_number", "")),
        gender=texts.text(language, gender) if gender else "",
        kind=texts.text(language, texts.KIND_LABELS[kind]),
        branch=branch,
        subject=given.get("subject", ""),
        text=text,
        files=texts.isolated(str(state.get("files", 0))),
    )
