"""The reader's language; the catalogs themselves are majlis.i18n's, shared with the domains."""

from __future__ import annotations

from majlis.i18n import LANGUAGES, NP_, TRANSLATIONS_DIR, Catalogs, shipped_catalogs

__all__ = ["LANGUAGES", "NP_", "TRANSLATIONS_DIR", "Catalogs", "pick_language", "shipped_catalogs"]


def pick_language(*, query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """The language asked for, first by switch, then by cookie, then by the browser."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    if accept:
        ranked: list[tuple[float, str]] = []
        for part in accept.split(","):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                continue
            primary = tag.split("-")[0].lower()
            if primary in LANGUAGES:
                ranked.append((weight, primary))
        if ranked:
            return max(ranked, key=lambda pair: pair[0])[1]
    return default
