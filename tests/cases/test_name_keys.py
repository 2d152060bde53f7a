"""Names as search compares them (cases/names.py), property-tested: one key for every spelling of one name, and a
search on SQLite and PostgreSQL that finds a name however either side spelled it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import search
from cases.names import search_key
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]

# Names as they are written in the canonical spelling; every letter that has other spellings is in one of them.
NAMES = [
    "أحمد",
    "إبراهيم",
    "آمنة",
    "فاطمة",
    "مصطفى",
    "عيسى",
    "هدى",
    "خديجة",
    "أسامة",
    "يحيى",
    "ليلى",
    "عبدالله",
    "سلمى",
    "ٱلزهراء",
]
LATIN_NAMES = ["Fatimah", "Ahmed", "Noura", "Salem"]
ALEFS = "اأإآٱ"
YAS = "يى"
TA_MARBUTA = "ةه"
# Fatha, damma, kasra, their tanwin, shadda, sukun, the dagger alef; and the tatweel that only stretches a letter.
MARKS = ["\u064e", "\u064f", "\u0650", "\u064b", "\u064c", "\u064d", "\u0651", "\u0652", "\u0670"]
TATWEEL = "\u0640"


def _is_arabic_letter(ch: str) -> bool:
    return "\u0621" <= ch <= "\u064a" or ch == "ٱ"


@st.composite
def spelled(draw: st.DrawFn, name: str) -> str:
    """The name as another hand might type it: other alef forms, ya or alef maqsura, ta marbuta or ha, marks and
    tatweel after any letter, Latin letters in either case."""
    out = []
    for ch in name:
        if ch in ALEFS:
            ch = draw(st.sampled_from(ALEFS))
        elif ch in YAS:
            ch = draw(st.sampled_from(YAS))
        elif ch in TA_MARBUTA:
            ch = draw(st.sampled_from(TA_MARBUTA))
        elif ch.isascii() and ch.isalpha():
            ch = draw(st.sampled_from([ch.lower(), ch.upper()]))
        out.append(ch)
        if _is_arabic_letter(ch):
            out.append(draw(st.sampled_from(["", "", TATWEEL, *MARKS, MARKS[0] + MARKS[6]])))
    return "".join(out)


names = st.sampled_from(NAMES + LATIN_NAMES)


@given(st.text())
def test_the_key_of_a_key_is_itself(text: str) -> None:
    assert search_key(search_key(text)) == search_key(text)


@given(names.flatmap(lambda name: st.tuples(st.just(name), spelled(name))))
def test_every_spelling_of_a_name_has_its_key(pair: tuple[str, str]) -> None:
    name, spelling = pair
    assert search_key(spelling) == search_key(name)


@given(st.text(alphabet=st.characters(min_codepoint=ord("A"), max_codepoint=ord("z")).filter(str.isalpha)))
def test_latin_letters_match_in_either_case(text: str) -> None:
    assert search_key(text.upper()) == search_key(text.lower()) == search_key(text)


@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3), st.sampled_from([" ", "  ", "\t", " \u00a0 "]))
def test_spaces_between_words_are_one(words: list[str], space: str) -> None:
    assert search_key(f" {space.join(words)} ") == " ".join(search_key(w) for w in words)


def test_different_names_keep_different_keys() -> None:
    """The folding is not so loose that two names become one."""
    keys = {search_key(name) for name in NAMES}
    assert len(keys) == len(NAMES)
    assert search_key("أحمد") != search_key("محمد")
    assert search_key("سلمى") == search_key("سلمي") != search_key("سلمان")


def test_known_spellings() -> None:
    assert search_key("فاطِمَة") == search_key("فاطمه") == "فاطمه"
    assert search_key("إبـــراهيم") == search_key("ابراهيم")
    assert search_key("آمنة") == search_key("امنه")
    assert search_key("FATIMAH") == "fatimah"
    assert search_key("٢٠٢٦") == "2026"


@st.composite
def stored_and_typed(draw: st.DrawFn) -> tuple[str, str]:
    """A name of two or three words as it was stored, and some of its words (in any order) as a caller spells them."""
    words = draw(st.lists(st.sampled_from(NAMES + LATIN_NAMES), min_size=2, max_size=3, unique=True))
    stored = " ".join(draw(spelled(word)) for word in words)
    typed_words = draw(st.lists(st.sampled_from(words), min_size=1, max_size=len(words), unique=True))
    typed = " ".join(draw(spelled(word)) for word in typed_words)
    return stored, typed


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored_and_typed())
async def test_a_search_finds_a_name_under_any_spelling(
    sessions: Sessions, clock: FrozenClock, pair: tuple[str, str]
) -> None:
    """On the database (both): LIKE over the stored key with the typed words folded the same way. The database
    keeps the requests of earlier examples; this one must be among what is found."""
    stored, typed = pair
    number = await new_case(sessions, clock, applicant_name=stored)
    query = search.recognise(typed)
    assert query.kind is search.QueryKind.NAME
    async with transaction(sessions) as session:
        found = await search.search(session=session, query=query, per_page=100)
    assert number in {case.tracking_number for case in found.cases}, (stored, typed)
