"""The administrator's audit log page: each entry's action, record and details in words, 50 a page, newest first.

The log keeps codes and JSON (accounts.audit); this page says them as labels and values, and a before/after or
from/to pair as "old → new", so an administrator reads what was done without decoding \\u escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from markupsafe import Markup, escape
from sqlalchemy import select

from accounts import service as accounts
from accounts.models import AuditEntry
from majlis import paging
from majlis.errors import N_
from web import audit_labels, fairness_files, pagination
from web.bidi_filters import ltr
from web.keys import CATALOGS, DB, LANGUAGE
from web.pages import render

PER_PAGE = 50
Say = Callable[[str], str]
# A category's or branch's code (a detail's value) as its name in the reader's language, else None.
Named = Callable[[str, str], str | None]

# Pairs written as one change: the first key the value before, the second after.
CHANGE_PAIRS = (("before", "after"), ("from", "to"))


@dataclass(frozen=True)
class Detail:
    """One line of an entry's details: a field's label and its value, or its old and new value."""

    label: str | Markup
    value: str | Markup
    old: str | Markup | None = None


@dataclass(frozen=True)
class EntryView:
    entry: AuditEntry
    actor: str
    action: str | Markup
    target: str | Markup
    details: list[Detail]


def _code(code: str) -> Markup:
    # A code with no label yet, shown as it is stored (left to right), never dropped.
    return ltr(code)


def action_label(action: str, say: Say) -> str | Markup:
    if action in audit_labels.ACTIONS:
        return say(audit_labels.ACTIONS[action])
    for prefix, label in audit_labels.ACTION_FAMILIES.items():
        if action.startswith(prefix):
            field = action.removeprefix(prefix)
            named = audit_labels.FIELDS.get(field) or audit_labels.VALUES["field"].get(field)
            return Markup("{} — {}").format(say(label), say(named) if named else _code(field))
    return _code(action)


def field_label(key: str, say: Say) -> str | Markup:
    return say(audit_labels.FIELDS[key]) if key in audit_labels.FIELDS else _code(key)


def value_text(key: str, value: Any, say: Say, named: Named = lambda key, code: None) -> str | Markup:
    """A detail's value in words: yes/no, a label for a known code, a list joined, a nested record as its fields."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return say(N_("Yes")) if value else say(N_("No"))
    if isinstance(value, int | float):
        return ltr(value)
    if isinstance(value, list):
        return escape(say(N_(", "))).join(value_text(key, item, say, named) for item in value)
    if isinstance(value, dict):
        return Markup("; ").join(
            Markup("{}: {}").format(field_label(k, say), value_text(k, v, say, named)) for k, v in value.items()
        )
    text = str(value)
    known = audit_labels.VALUES.get(key, {})
    if text in known:
        return say(known[text])
    name = named(key, text)
    if name is not None:
        return Markup("<bdi>{}</bdi>").format(name)
    # Codes, numbers and dates read left to right; words (names, reasons) keep their own direction.
    return Markup("<bdi>{}</bdi>").format(text)


def details_of(details: Mapping[str, Any], say: Say, named: Named = lambda key, code: None) -> list[Detail]:
    """The details as lines: each before/after (or from/to) pair first, as its fields' old → new; then the rest."""
    lines: list[Detail] = []
    rest = dict(details)
    for old_key, new_key in CHANGE_PAIRS:
        if old_key not in rest and new_key not in rest:
            continue
        old, new = rest.pop(old_key, None), rest.pop(new_key, None)
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
            for key in [*old, *(k for k in new if k not in old)]:
                lines.append(
                    Detail(
                        field_label(key, say),
                        value_text(key, new.get(key), say, named),
                        old=value_text(key, old.get(key), say, named),
                    )
                )
        else:
            now, before = value_text(new_key, new, say, named), value_text(old_key, old, say, named)
            lines.append(Detail(say(N_("Change")), now, old=before))
    lines.extend(Detail(field_label(key, say), value_text(key, value, say, named)) for key, value in rest.items())
    return lines


async def audit_log_page(request: web.Request) -> web.Response:
    catalogs, language = request.app[CATALOGS], request.get(LANGUAGE, "ar")

    def say(message: str) -> str:
        return catalogs.gettext(language, message)

    number = pagination.asked_page(request)
    if number is None:
        return pagination.refused(request)
    session = request[DB]
    paged = await paging.page_of(
        session, select(AuditEntry).order_by(AuditEntry.id.desc()), page=number, per_page=PER_PAGE
    )
    entries = paged.items
    found = await fairness_files.names(session=session)

    def named(key: str, code: str) -> str | None:
        if key == "category" and code in found.categories:
            return found.category(code, language)
        if key == "branch" and code in found.branches:
            return found.branch(code, language)
        return None

    actors = await accounts.names_by_id(session=session, ids={e.actor_id for e in entries if e.actor_id is not None})
    views = [
        EntryView(
            entry=e,
            actor=actors.get(e.actor_id, "—") if e.actor_id is not None else say(N_("The system")),
            action=action_label(e.action, say),
            target=say(audit_labels.TARGETS[e.target_type])
            if e.target_type in audit_labels.TARGETS
            else _code(e.target_type),
            details=details_of(e.details or {}, say, named),
        )
        for e in entries
    ]
    context = {"views": views, "pager": pagination.pager(request, paged, N_("Pages of the audit log"))}
    return render(request, "admin/audit.html", context)
