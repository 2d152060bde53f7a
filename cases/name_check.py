"""Whether the name given with a request is the name on record for its ID number.

Anyone can type someone else's ID number, so a request whose name is another
person's is flagged to the audit desk. The same person writes their name many
ways, and none of them should raise a flag:

- Arabic spelling variants (أ/إ/آ/ا, ة/ه, ى/ي, ئ/ؤ), tashkeel and tatweel;
- "عبد الله" or "عبدالله", "Abd al-Rahman" or "Abdulrahman";
- connectors and articles: بن، ابن، بنت، آل، ال…, bin, ibn, bint, al-, el-;
- Latin transliterations of one Arabic name (Mohammed, Muhammad, Mohamed;
  Yousef, Yusuf; Khalid, Khaled), and a name written in the other script;
- a missing middle name, or only the first and family names.

What does raise one is a different first name, or a different family name.

A typing slip is *not* forgiven: the one-letter edit a slip makes is the same
edit that separates distinct names (محمد / محمود, سلطان / سلمان, Abdullah /
Abdulilah), so a slip is flagged and the desk settles it with a note.

Everything here is pure and uses the standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TATWEEL = "\u0640"
# Spelling variants of Arabic letters, folded to one form (the hamza forms are
# bare once the marks are dropped; listed so the rule stands here whole).
_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ؤ": "و", "ئ": "ي"}
)
# Apostrophes stand for ع or ء in transliterations ("Sa'ad"): part of the word, not a break in it.
_APOSTROPHES = "'’‘`ʿʾ"

# Words that join the parts of a name and say nothing about who it is.
_CONNECTORS = frozenset({"بن", "ابن", "بنت", "ال", "al", "el", "bin", "ibn", "bint", "ben", "bn"})
# The first part of a compound name, written apart or together ("عبد الله", "ابو بكر", "Abdul Aziz").
_COMPOUND_HEADS = frozenset({"عبد", "ابو", "abd", "abdul", "abdel", "abdal", "abdur", "abu"})
_ARTICLE = "ال"
# The article is stripped only when this much of the word is left ("الاء" stays whole).
_MIN_STEM = 3
# A handful of Arabic names spelt two ways beyond what folding the letters covers.
_ARABIC_VARIANTS = (("رحمان", "رحمن"), ("داوود", "داود"), ("اسحاق", "اسحق"), ("هرون", "هارون"))

# Latin transliteration: digraphs for one Arabic letter, then vowels as one class.
_LATIN_DIGRAPHS = (("kh", "x"), ("gh", "ɣ"), ("sh", "ʃ"), ("th", "θ"), ("dh", "ð"), ("ou", "u"), ("ee", "i"))
_LATIN_VOWELS = frozenset("aeiouy")
# "Abd" joined to the next part with "ul"/"el"/"al"/"ur": the linking syllable is spelt every way.
_ABD_LINK = re.compile(r"^abd[aeiou][lr]")

# The consonants both scripts share, for a name written in the other script.
# Weak letters (ا و ي ع ء) and Latin vowels, which transliterations treat
# freely, are left out; letters Latin spells alike share a class.
_ARABIC_CONSONANTS = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "x", "د": "d", "ذ": "d", "ر": "r", "ز": "z",
    "س": "s", "ش": "ʃ", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "غ": "ɣ", "ف": "f", "ق": "k", "ك": "k",
    "ل": "l", "م": "m", "ن": "n", "ه": "h",
}  # fmt: skip
_LATIN_CONSONANTS = {"q": "k", "g": "k", "c": "k", "θ": "t", "ð": "d", "v": "f", "p": "b"}


@dataclass(frozen=True)
class NameComparison:
    """How a given name compares with the one on record."""

    matches: bool
    # The share of the longer name's parts that find a partner in the other, in order: 0.0 to 1.0.
    similarity: float


def _is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in word)


def _fold(text: str) -> str:
    """Lowercase, marks and tatweel dropped, Arabic letter variants folded, apostrophes removed."""
    decomposed = unicodedata.normalize("NFKD", text).lower()
    kept = "".join(
        ch
        for ch in decomposed
        if ch != _TATWEEL and ch not in _APOSTROPHES and unicodedata.category(ch) not in ("Mn", "Cf")
    )
    return unicodedata.normalize("NFKC", kept).translate(_LETTERS)


def name_parts(name: str) -> list[str]:
    """The parts of a name that tell who it is: folded, compounds joined, connectors and articles out."""
    words = re.split(r"[^\w]+|_|\d", _fold(name))
    words = [w for w in words if w and w not in _CONNECTORS]
    parts: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _COMPOUND_HEADS and i + 1 < len(words):
            word += words[i + 1]
            i += 1
        elif word.startswith(_ARTICLE) and len(word) - len(_ARTICLE) >= _MIN_STEM:
            word = word[len(_ARTICLE) :]
        for variant, usual in _ARABIC_VARIANTS:
            word = word.replace(variant, usual)
        parts.append(word)
        i += 1
    return parts


def _latin_shape(word: str) -> str:
    """A Latin name part with its spelling freedoms folded: digraphs, vowel runs as one 'V', doubled letters once."""
    word = _ABD_LINK.sub("abd", word) if len(word) > 6 else word
    for digraph, letter in _LATIN_DIGRAPHS:
        word = word.replace(digraph, letter)
    # A closing h after a vowel is silent in transliteration: Fatimah / Fatima, Abdullah / Abdulla.
    if len(word) > 2 and word.endswith("h") and word[-2] in _LATIN_VOWELS:
        word = word[:-1]
    shaped: list[str] = []
    for ch in word:
        letter = "V" if ch in _LATIN_VOWELS else ch
        if not shaped or shaped[-1] != letter:
            shaped.append(letter)
    return "".join(shaped)


def _consonants(word: str) -> str:
    """The shared consonant skeleton of a part in either script, for comparing across scripts."""
    if _is_arabic(word):
        # "عبدالعزيز" is "Abdulaziz" and "Abd al-Aziz": the article after عبد is spelt every way, or not at all.
        word = word.replace("عبدال", "عبد")
        # A closing ه (a folded ة) is silent in transliteration, as the Latin closing h is.
        word = word[:-1] if len(word) > 2 and word.endswith("ه") else word
        letters = [_ARABIC_CONSONANTS.get(ch, "") for ch in word]
    else:
        word = _ABD_LINK.sub("abd", word) if len(word) > 6 else word
        for digraph, letter in _LATIN_DIGRAPHS:
            word = word.replace(digraph, letter)
        if len(word) > 2 and word.endswith("h") and word[-2] in _LATIN_VOWELS:
            word = word[:-1]
        letters = ["" if ch in _LATIN_VOWELS or ch == "w" else _LATIN_CONSONANTS.get(ch, ch) for ch in word]
    skeleton: list[str] = []
    for letter in letters:
        if letter and (not skeleton or skeleton[-1] != letter):
            skeleton.append(letter)
    return "".join(skeleton)


def _latin_without_article(word: str) -> str:
    """A Latin part with an article joined to it ("Alotaibi"), when enough is left."""
    for article in ("al", "el"):
        if word.startswith(article) and len(word) - len(article) >= _MIN_STEM + 1:
            return word[len(article) :]
    return word


def same_part(a: str, b: str) -> bool:
    """Whether two parts (from name_parts) are one name part spelt two ways."""
    if a == b:
        return True
    arabic_a, arabic_b = _is_arabic(a), _is_arabic(b)
    if arabic_a and arabic_b:
        return False
    if not arabic_a and not arabic_b:
        return any(
            _latin_shape(x) == _latin_shape(y)
            for x in {a, _latin_without_article(a)}
            for y in {b, _latin_without_article(b)}
        )
    # One in each script: only the consonants can be compared, and too short a skeleton proves nothing.
    latin = a if arabic_b else b
    arabic = b if arabic_b else a
    skeletons = {_consonants(latin), _consonants(_latin_without_article(latin))}
    wanted = _consonants(arabic)
    return bool(wanted) and wanted in skeletons


def _aligned(shorter: list[str], longer: list[str]) -> int:
    """How many parts of the shorter name find a partner in the longer, in order (longest common subsequence)."""
    previous = [0] * (len(longer) + 1)
    for part in shorter:
        current = [0]
        for j, other in enumerate(longer):
            current.append(previous[j] + 1 if same_part(part, other) else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def compare_names(given: str, known: str) -> NameComparison:
    """Whether `given` can be the person on record as `known`.

    It can when the first names agree and either the family names agree or
    every part of the shorter name is in the longer one, in order (a missing
    middle or family name). A name with nothing to compare (empty, only
    connectors) is not held against anyone.
    """
    g, k = name_parts(given), name_parts(known)
    if not g or not k:
        return NameComparison(matches=True, similarity=1.0 if g == k else 0.0)
    shorter, longer = sorted((g, k), key=len)
    aligned = _aligned(shorter, longer)
    similarity = aligned / len(longer)
    if not same_part(g[0], k[0]):
        return NameComparison(matches=False, similarity=similarity)
    matches = same_part(g[-1], k[-1]) or aligned == len(shorter)
    return NameComparison(matches=matches, similarity=similarity)
