"""Names as search compares them: the spellings of one Arabic name made alike.

An applicant's name is typed by many hands (the applicant online, a desk, the call centre), and Arabic writes one
name several ways: an alef with or without its hamza or madda, a final ya with or without its dots (alef maqsura),
a final ta marbuta or ha, vowel marks or none, a stretched letter (tatweel). `search_key` folds these to one form,
and Latin letters to their case-folded form, so "Ahmad" with a hamza on its alef finds it without, and "Fatimah" finds
"FATIMAH". The key is kept
on the request (cases.name_key) and compared with the folded query.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_FOLD: Final = str.maketrans(
    {
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0649": "\u064a",  # alef maqsura -> ya
        "\u0629": "\u0647",  # ta marbuta -> ha
        "\u0640": None,  # tatweel
    }
)
# The Arabic vowel and other marks (harakat, shadda, sukun, the dagger alef) and the Quranic annotation signs.
_MARKS: Final = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_SPACES: Final = re.compile(r"\s+")


def search_key(name: str) -> str:
    """The name folded for comparison: marks and tatweel gone, alef, ya and ta marbuta made one, Latin case-folded,
    Arabic-Indic digits as ASCII, spaces collapsed."""
    text = unicodedata.normalize("NFKC", name)
    text = _MARKS.sub("", text).translate(_FOLD)
    text = "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)
    return _SPACES.sub(" ", text.casefold()).strip()
