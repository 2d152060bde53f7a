"""Template filters that keep numbers and names in their own direction inside a page of the other one.

`ltr`: a tracking number, phone, national ID, time or amount as <bdi dir="ltr">, so "6-000005-26" reads left to
right inside Arabic and stays on one line (CSS .ltr: no break inside). `isolate`: a name or subject in <bdi>, its
direction taken from its first letter. Both escape what they wrap.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape


def ltr(value: Any) -> Markup:
    return Markup('<bdi dir="ltr" class="ltr">{}</bdi>').format(escape(value))


def isolate(value: Any) -> Markup:
    return Markup("<bdi>{}</bdi>").format(escape(value))


FILTERS = {"ltr": ltr, "isolate": isolate}
