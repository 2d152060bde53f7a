"""Every text people read exists in Arabic, with the same placeholders as the English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from web.i18n import TRANSLATIONS_DIR, Catalogs, pick_language

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\w+\}")


def arabic_catalog() -> Catalog:
    with (TRANSLATIONS_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale="ar")


def test_every_message_in_the_code_is_in_the_arabic_catalog(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-default-keywords",
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "NP_:1c,2",
            "-k",
            "_p:1c,2",
            # Counted messages (Catalogs.ngettext, the templates' _n, NN_ marks): the singular is the id.
            "-k",
            "_n:1,2",
            "-k",
            "NN_:1,2",
            "-k",
            "ngettext:2,3",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    # A message is its id and its context (msgctxt): Arabic may say one English text two ways.
    with pot.open("rb") as fh:
        wanted = {(m.context or "", _key(m.id)) for m in read_po(fh) if m.id}
    translated = {(m.context or "", _key(m.id)) for m in arabic_catalog() if m.id and m.string}
    assert ("", "{count} request found") in wanted
    assert ("men's room", "Check the applicant in") in wanted
    assert sorted(wanted - translated) == []


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    """A message's id: a counted message's singular."""
    return message_id if isinstance(message_id, str) else message_id[0]


def test_translations_keep_their_placeholders() -> None:
    wrong = [
        m.id
        for m in arabic_catalog()
        if m.id
        and not m.pluralizable
        and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    ]
    assert wrong == []


def test_counted_translations_have_arabic_s_six_forms_and_keep_their_placeholders() -> None:
    """Each form may leave {count} out (zero, one and two say the number in words: "طلبان"), never add one, and
    every other placeholder of the English stays in every form."""
    wrong = []
    for m in arabic_catalog():
        if not m.pluralizable:
            continue
        english = set(PLACEHOLDER.findall(m.id[0])) | set(PLACEHOLDER.findall(m.id[1]))
        forms = [m.string] if isinstance(m.string, str) else [form or "" for form in m.string or ()]
        if len(forms) != 6 or not all(forms):
            wrong.append((m.id[0], "needs six forms"))
            continue
        for form in forms:
            found = set(PLACEHOLDER.findall(form))
            if not found <= english or (english - {"{count}"}) - found:
                wrong.append((m.id[0], form))
        if "{count}" not in forms[3] + forms[4] + forms[5]:
            wrong.append((m.id[0], "the forms for 3 and more must show the number"))
    assert wrong == []


def test_catalogs_translate_and_fill_placeholders() -> None:
    catalogs = Catalogs()
    assert catalogs.gettext("ar", "Received") == "تم الاستلام"
    assert catalogs.gettext("en", "{field} is required.", field="Subject") == "Subject is required."
    assert "الموضوع" in catalogs.gettext("ar", "{field} is required.", field="الموضوع")
    # A message in a context: the same English, said of a man in a men's room.
    assert catalogs.gettext("ar", "Check the applicant in") == "تسجيل حضور المستفيدة"
    assert catalogs.pgettext("ar", "men's room", "Check the applicant in") == "تسجيل حضور المستفيد"
    assert catalogs.pgettext("en", "men's room", "Check the applicant in") == "Check the applicant in"


def test_language_choice() -> None:
    assert pick_language(query=None, cookie=None, accept=None, default="ar") == "ar"
    assert pick_language(query="en", cookie="ar", accept=None, default="ar") == "en"
    assert pick_language(query=None, cookie=None, accept="fr-FR, en;q=0.8, ar;q=0.9", default="en") == "ar"
    assert pick_language(query="xx", cookie=None, accept="de", default="ar") == "ar"
