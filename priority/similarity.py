"""Text similarity for spotting duplicate requests typed twice by the same applicant.

Citizens re-type the same complaint with different spellings (أ/إ/ا, ة/ه, ى/ي),
with or without tashkeel, in another order, with a sentence added. The measure
here is built to see through that and still tell two different matters apart:

- ``normalise`` folds the spelling variants away;
- ``tokens`` turns the text into content words (light prefix strip, stop-words out);
- ``similarity`` combines the cosine of character 3-gram counts (robust to
  spelling and word order) with the Jaccard index of the word sets.

Everything is pure and uses the standard library only; ``profile`` precomputes
what a comparison needs so one new request can be compared with many candidates.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass

# Where two requests of one applicant score at least this, the audit desk is told
# they are likely duplicates. Chosen from tests/priority/test_similarity.py: the
# re-typed pairs there (spelling variants, another order, an added sentence, a
# paraphrase, a one-line and a full version) score 0.41 and above; requests
# about different matters score 0.20 and below, even when they share the opening
# courtesies or a word such as "قضية" or "ابني". 0.30 is the middle of that gap,
# leaving a margin of 0.1 on each side.
DEFAULT_THRESHOLD: float = 0.30

# Weight of the character 3-gram cosine in the score; the rest goes to the word
# Jaccard. The cosine carries most of it because it survives spelling variants
# and inflections ("تعثر التنفيذ" / "لتعثر تنفيذ"); the Jaccard sharpens the
# contrast when the words differ outright. A weighted mean, not the max: the max
# would let a shared boilerplate sentence lift either measure alone over the line.
_NGRAM_WEIGHT = 0.7

_NGRAM = 3

# The tatweel stretches a word for looks and carries nothing.
_TATWEEL = "\u0640"

# Spelling variants people use interchangeably, folded to one form. The hamza
# forms are already bare once normalise drops marks; they are listed so the rule
# stands here whole. Alef wasla and the Persian yeh come in through some
# keyboards and copy-paste.
_LETTERS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ؤ": "و", "ئ": "ي"}
# Arabic-Indic then Persian (extended Arabic-Indic) digits.
_DIGITS = dict(zip("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2, strict=True))
_FOLD = str.maketrans(_LETTERS | _DIGITS)

# Article and conjunction-plus-article, longest first so "وال" wins over "و".
_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
# A prefix is only stripped when this many letters remain, so short words such
# as "الي" or "وزن" are left alone.
_MIN_STEM = 3

# Function words that say nothing about the matter. Written as people type them
# and normalised below, so "على" is stored as "علي" (which is also the name Ali:
# a name alone never decides a duplicate, so the collision is harmless).
_STOP_WORDS_ARABIC = "في من على إلى عن أن إن هذا هذه التي الذي مع أو ثم قد ما لا يا"
_STOP_WORDS_ENGLISH = "the a an of to in and for on with is are my i"

# The courtesies every request to the majlis opens with ("أطلب مقابلة معالي
# الوزير بخصوص ..."). Left in, they make any two short requests look alike;
# they are matched after the article is stripped, hence "وزير" not "الوزير".
_BOILERPLATE_ARABIC = "أطلب طلب أرجو نرجو مقابلة لقاء معالي سعادة سمو وزير أمير بخصوص بشأن موضوع"
_BOILERPLATE_ENGLISH = "request meeting minister regarding about please"


def _is_word_char(ch: str) -> bool:
    """True for letters, digits and spacing marks: what words are made of."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Mc"


def normalise(text: str) -> str:
    """The text lowercased, with Arabic spelling variants folded and punctuation as single spaces.

    The text is fully decomposed first (NFKD) so that every mark stands apart
    from its letter: tashkeel, the hamza written over an alef, waw or yeh, and
    the accents of Latin letters are then dropped as non-spacing marks, as are the
    tatweel and invisible format characters such as the right-to-left mark
    (which would otherwise split a word in two). NFKD also turns presentation
    forms such as "ﻻ" into plain letters. Recomposing (NFKC) afterwards, and
    lowercasing after decomposing, keep the function idempotent.
    """
    decomposed = unicodedata.normalize("NFKD", text).lower()
    kept = "".join(ch for ch in decomposed if ch != _TATWEEL and unicodedata.category(ch) not in ("Mn", "Cf"))
    folded = unicodedata.normalize("NFKC", kept).translate(_FOLD)
    spaced = "".join(ch if _is_word_char(ch) else " " for ch in folded)
    return " ".join(spaced.split())


_STOP_WORDS = frozenset(
    normalise(" ".join((_STOP_WORDS_ARABIC, _STOP_WORDS_ENGLISH, _BOILERPLATE_ARABIC, _BOILERPLATE_ENGLISH))).split()
)


def _strip_prefix(word: str) -> str:
    """The word without a leading article or conjunction, when enough of it is left."""
    for article in _ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= _MIN_STEM:
            return word[len(article) :]
    if word.startswith("و") and len(word) - 1 >= _MIN_STEM:
        return word[1:]
    return word


def tokens(text: str) -> list[str]:
    """The content words of the text, normalised, in order, prefixes stripped and stop-words out."""
    result: list[str] = []
    for word in normalise(text).split():
        if word in _STOP_WORDS:
            continue
        stem = _strip_prefix(word)
        # "والتي" is a stop-word once its "و" is gone.
        if stem not in _STOP_WORDS:
            result.append(stem)
    return result


def _ngrams(words: list[str]) -> Counter[str]:
    """The counts of character 3-grams of each word, padded with spaces at both ends.

    Counting within words, not across them, makes the grams blind to word order;
    the padding lets short words and word edges count.
    """
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        grams.update(padded[i : i + _NGRAM] for i in range(len(padded) - _NGRAM + 1))
    return grams


@dataclass(frozen=True)
class TextProfile:
    """What a comparison needs of one request, computed once."""

    ngrams: Counter[str]
    # The squared Euclidean norm of ngrams, an exact integer: identical profiles
    # then give a cosine of exactly 1.0 (sqrt of a perfect square is exact).
    ngram_norm_sq: int
    words: frozenset[str]


def profile(subject: str, text: str) -> TextProfile:
    """The profile of a request's subject and text taken together."""
    content = tokens(f"{subject}\n{text}")
    # A text made only of stop-words ("ما لا") still has a profile, so that it
    # equals itself; its words are then the normalised words themselves.
    words = content or normalise(f"{subject}\n{text}").split()
    grams = _ngrams(words)
    return TextProfile(
        ngrams=grams,
        ngram_norm_sq=sum(count * count for count in grams.values()),
        words=frozenset(words),
    )


def profile_similarity(p: TextProfile, q: TextProfile) -> float:
    """The similarity of two profiles in [0, 1]: 1.0 for the same words, 0.0 when either is empty."""
    if not p.ngram_norm_sq or not q.ngram_norm_sq:
        return 0.0
    small, large = sorted((p.ngrams, q.ngrams), key=len)
    dot = sum(count * large[gram] for gram, count in small.items())
    cosine = dot / math.sqrt(p.ngram_norm_sq * q.ngram_norm_sq)
    jaccard = len(p.words & q.words) / len(p.words | q.words)
    score = _NGRAM_WEIGHT * cosine + (1 - _NGRAM_WEIGHT) * jaccard
    # Rounding can push a sum of ones a hair past 1.
    return min(1.0, max(0.0, score))


def similarity(a: str, b: str) -> float:
    """The similarity of two texts in [0, 1]: 1.0 for identical texts, 0.0 when either has no words."""
    return profile_similarity(profile("", a), profile("", b))
