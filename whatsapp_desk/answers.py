"""Reading what a sender wrote to the WhatsApp desk: control words, choices, names, ID numbers, tracking numbers.

Everything is compared in its normalised form (scheduler.replies.normalise): ASCII digits, one alef, no
marks or punctuation, lower case, so "١", "1." and "1" are one answer and "إلغاء" and "الغاء" one word.
A choice may be given by its number or by its label in either language.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TypeVar

from cases.identity import ApplicantKind, IdentityProblem, check_identity_number
from cases.intake import MAX_NAME
from cases.tracking import parse_tracking_number
from notify.texts import say
from scheduler.replies import normalise

T = TypeVar("T")


def forms(*words: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in words)


class Control(enum.StrEnum):
    BACK = "back"
    CANCEL = "cancel"


_CONTROLS: dict[str, Control] = {
    **dict.fromkeys(forms("back", "go back", "previous", "رجوع", "الرجوع", "عودة", "ارجع", "السابق"), Control.BACK),
    **dict.fromkeys(
        forms("cancel", "إلغاء", "الغاء", "ألغ", "إلغاء الطلب", "cancel request", "الغاء الطلب"), Control.CANCEL
    ),
}
DONE = forms("done", "skip", "finished", "no", "none", "no files", "تم", "تخطي", "انتهيت", "لا", "لا يوجد", "لايوجد")
_LANGUAGES: dict[str, str] = {
    **dict.fromkeys(forms("english", "انجليزي", "الانجليزية", "انجليزية", "انقليزي"), "en"),
    **dict.fromkeys(forms("عربي", "العربية", "عربى", "arabic"), "ar"),
}
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile("[A-Za-z]")
# Characters a name may hold beside letters and combining marks.
_NAME_PUNCTUATION = frozenset(" -'’.")


def control(body: str) -> Control | None:
    """ "back" or "cancel", when that is the whole message."""
    return _CONTROLS.get(normalise(body))


def language_switch(body: str) -> str | None:
    """ "ar" or "en" when the whole message names a language."""
    return _LANGUAGES.get(normalise(body))


def script_language(body: str, default: str) -> str:
    """The language of the message by its letters: Arabic, English, or `default` with no letters (digits only)."""
    arabic = len(_ARABIC_LETTER.findall(body))
    latin = len(_LATIN_LETTER.findall(body))
    if arabic == latin == 0:
        return default
    return "ar" if arabic >= latin else "en"


def is_done(body: str) -> bool:
    return normalise(body) in DONE


def choices(options: Iterable[tuple[T, str]], synonyms: Mapping[str, T] | None = None) -> dict[str, T]:
    """The words that pick each option: its number, its label in Arabic and English, and any synonyms."""
    found: dict[str, T] = {}
    for index, (value, label) in enumerate(options, start=1):
        found[str(index)] = value
        for language in ("ar", "en"):
            found.setdefault(normalise(say(language, label)), value)
    for word, value in (synonyms or {}).items():
        found.setdefault(normalise(word), value)
    return found


def pick(body: str, options: Mapping[str, T]) -> T | None:
    """The option the message names, or None."""
    return options.get(normalise(body))


def full_name(body: str) -> tuple[str | None, bool]:
    """The name with its spaces tidied, or None; the flag says it was refused for its length."""
    name = " ".join(body.split())
    if len(name) > MAX_NAME:
        return None, True
    letters = 0
    for ch in name:
        category = unicodedata.category(ch)
        if category.startswith("L"):
            letters += 1
        elif not category.startswith("M") and ch not in _NAME_PUNCTUATION:
            return None, False
    words = [word for word in name.split(" ") if any(unicodedata.category(ch).startswith("L") for ch in word)]
    if len(words) < 2 or letters < 4:
        return None, False
    return name, False


def identity(body: str) -> tuple[ApplicantKind | None, str, IdentityProblem | None]:
    """The kind of number (national ID or iqama, by its first digit), the number, and what is wrong with it."""
    digits = "".join(ch for ch in normalise(body) if not ch.isspace())
    kind = {"1": ApplicantKind.CITIZEN, "2": ApplicantKind.RESIDENT}.get(digits[:1])
    if kind is None:
        wrong_length = len(digits) != 10 or not digits.isdigit()
        return None, digits, IdentityProblem.LENGTH if wrong_length else IdentityProblem.PREFIX
    number, problem = check_identity_number(kind, digits)
    return kind, number, problem


def tracking_number(body: str) -> str | None:
    """The canonical tracking number typed (any digits, spaces or dashes), or None."""
    return parse_tracking_number(body.strip())


def free_text(body: str, limit: int) -> tuple[str | None, bool]:
    """A subject or a text: stripped, holding a letter or digit, at most `limit` characters (flag: too long)."""
    value = body.strip()
    if len(value) > limit:
        return None, True
    if not any(ch.isalnum() for ch in value):
        return None, False
    return value, False
