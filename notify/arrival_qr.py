"""The arrival code as a QR code for e-mail: a PNG the message carries inline.

Made by the dispatcher as it sends, from the code it signs then, like the answer
link: nothing usable is stored in the outbox. The status page draws the same code
as an inline SVG (web/applicant_view.py); e-mail clients show SVG badly or not at
all, so e-mail gets a PNG. Error correction M, as on the page; 8 pixels a module
and the standard 4-module quiet zone, so a kiosk's scanner reads it off a phone.
"""

from __future__ import annotations

import io

import segno

from notify.channels import InlineImage
from notify.texts import arrival_code_alt

SCALE = 8
BORDER = 4


def arrival_qr(code: str, *, language: str) -> InlineImage:
    """The arrival code's QR code as an inline PNG, with its alt text in the applicant's language."""
    qr = segno.make(code, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=SCALE, border=BORDER)
    width, height = qr.symbol_size(scale=SCALE, border=BORDER)
    return InlineImage(
        filename="arrival-code.png",
        png=buffer.getvalue(),
        alt=arrival_code_alt(language=language, arrival=code),
        text=code,
        width=int(width),
        height=int(height),
    )
