"""Translations from Babel catalogs, for every layer that writes what people read.

Message ids are English; web/translations/<lang>/LC_MESSAGES/messages.po holds
the other languages. Catalogs are compiled in memory at start-up, so the
repository keeps only the .po sources and no build step is needed. The web
layer translates pages and errors with them; notify composes the applicants'
messages with them; video names what a check found.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("ar", "en")
# Languages written right to left: pages, charts and spreadsheets are mirrored for them.
RIGHT_TO_LEFT = frozenset({"ar"})


# One choice of digits for each language, set here: Western digits (0–9) in both, as Saudi government services
# write them on screens and in messages; Arabic-Indic digits typed by applicants are still read (majlis.numbers).
# A browser formatting numbers itself (charts) is given NUMBER_LOCALES, whose -u-nu-latn asks for the same digits.
DIGITS = {"ar": "latn", "en": "latn"}
NUMBER_LOCALES = {language: f"{language}-u-nu-{digits}" for language, digits in DIGITS.items()}


def known_language(language: str) -> str:
    """The language if Majlis speaks it, else Arabic, the language it speaks first."""
    return language if language in LANGUAGES else LANGUAGES[0]


def other_language(language: str) -> str:
    """The other of Majlis's two languages (the one a reader may switch to)."""
    return next(other for other in LANGUAGES if other != known_language(language))


def in_language(language: str, arabic: str, english: str) -> str:
    """Of a name kept in both languages (a department's, a mission's, a city's), the reader's — the Arabic for
    Arabic, the English for any other — or the other one when the reader's is empty."""
    first, second = (arabic, english) if language == "ar" else (english, arabic)
    return first or second


# The catalogs ship with the web package (package data), but domains that compose messages read them too.
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"


class Catalogs:
    """The loaded translations of every language."""

    def __init__(self, directory: Path = TRANSLATIONS_DIR) -> None:
        self._by_language: dict[str, NullTranslations] = {"en": NullTranslations()}
        for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
            language = po_path.parent.parent.name
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._by_language[language] = Translations(buffer)

    def gettext(self, language: str, message: str, **params: object) -> str:
        """The message in the language, with {placeholders} filled."""
        translations = self._by_language.get(language) or self._by_language["en"]
        text = translations.gettext(message)
        return text.format(**params) if params else text

    def pgettext(self, language: str, context: str, message: str, **params: object) -> str:
        """The message as said in this context (its msgctxt), with {placeholders} filled.

        English says some things alike that Arabic says in two ways: "the applicant" and "check" are feminine
        in a women's-section room and masculine in a men's room.
        """
        translations = self._by_language.get(language) or self._by_language["en"]
        text = str(translations.pgettext(context, message))  # typed `object` by Babel, a str in fact
        return text.format(**params) if params else text

    def ngettext(self, language: str, singular: str, plural: str, count: int, **params: object) -> str:
        """The message for `count` in the language's plural form (Arabic has six: zero, one, two, few, many,
        other), with {count} and the other {placeholders} filled."""
        return self.plural_form(language, singular, plural, count).format(count=count, **params)

    def plural_form(self, language: str, singular: str, plural: str, count: int) -> str:
        """The message's form for `count`, its placeholders not yet filled (a page fills them, escaping)."""
        translations = self._by_language.get(language) or self._by_language["en"]
        return translations.ngettext(singular, plural, count)


def NP_(context: str, message: str) -> tuple[str, str]:
    """Marks a message and its context (msgctxt) for extraction, without translating it here."""
    return context, message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted message's two English forms for extraction (Catalogs.ngettext gives Arabic's six)."""
    return singular, plural


@functools.cache
def shipped_catalogs() -> Catalogs:
    """The catalogs as shipped with Majlis, loaded once per process and only read after that."""
    return Catalogs()
