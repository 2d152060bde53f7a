"""Every action and detail Majlis writes to the audit log has a label (web/audit_labels.py), so the administrator's
log never shows a code where a word belongs; and codes under a known key read as their labels."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import audit
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in
from web import audit_labels

ROOT = Path(__file__).resolve().parents[2]
# Where the domain code lives (web/ only reads the log).
SKIPPED = {".venv", "node_modules", "tests", "bench", "migrations", "web"}
# An action written as a literal, passed to audit.record or to a module's own recording helper.
ACTION = re.compile(r'"((?:worktime|staff|quality)\.[a-z_]+(?:\.[a-z_]+)?)"')


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIPPED & set(p.relative_to(ROOT).parts)]


def _recorded() -> tuple[set[str], set[str], set[str]]:
    """The literal actions and details keys of every audit.record(...) call in the domain code, and the actions
    passed as literals to the recording helpers of worktime, accounts and quality."""
    actions: set[str] = set()
    keys: set[str] = set()
    targets: set[str] = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        actions.update(ACTION.findall(text) if "audit" in text else [])
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    # A literal, or either side of a literal choice; an f-string's verbs are checked by its module's
                    # own tests (quality.review: record, correct).
                    choices = [keyword.value.body, keyword.value.orelse] if isinstance(keyword.value, ast.IfExp) else []
                    for value in [keyword.value, *choices]:
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            actions.add(value.value)
                if keyword.arg == "target_type" and isinstance(keyword.value, ast.Constant):
                    targets.add(str(keyword.value.value))
                if keyword.arg == "details" and isinstance(keyword.value, ast.Dict):
                    keys.update(
                        k.value for k in keyword.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    )
    return actions, keys, targets


def test_every_recorded_action_detail_and_record_kind_has_a_label() -> None:
    actions, keys, targets = _recorded()
    assert len(actions) > 60 and len(keys) > 40  # the scan found the calls
    families = tuple(audit_labels.ACTION_FAMILIES)
    unlabelled = {a for a in actions if a not in audit_labels.ACTIONS and not a.startswith(families)}
    assert unlabelled == set()
    assert {k for k in keys if k not in audit_labels.FIELDS} == set()
    assert {t for t in targets if t not in audit_labels.TARGETS} == set()


async def test_statuses_kinds_roles_and_languages_read_as_words(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    async with transaction(sessions) as session:
        for action, target, details in (
            ("case.intake", "case", {"channel": "walk_in", "kind": "petition"}),
            ("case.status", "case", {"from": "received", "to": "awaiting_audience"}),
            ("room.add", "room", {"name": "Hall", "kind": "audience_hall"}),
            ("department.contact_add", "department", {"role": "deputy", "languages": ["ar", "en"]}),
        ):
            await audit.record(
                session=session, clock=clock, actor_id=admin.id, action=action, target_type=target, target_id="1",
                details=details,
            )  # fmt: skip
    await sign_in(client, "admin")
    page = await (await client.get("/admin/audit?lang=en")).text()
    for words in ("Written petition", "Received", "Awaiting an audience", "Audience hall", "Deputy", "Arabic, English"):
        assert words in page, words
    for code in ("petition", "awaiting_audience", "audience_hall", "deputy"):
        assert f">{code}<" not in page, code
