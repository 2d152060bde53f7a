"""Small real files for attachment tests: pictures encoded by OpenCV and a minimal PDF."""

from __future__ import annotations

import io

import cv2
import numpy as np

from followup.attachments import Upload


def picture(extension: str = ".png", width: int = 32, height: int = 24) -> bytes:
    """A real PNG or JPEG of a small coloured picture."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, : width // 2] = (40, 110, 11)
    image[:, width // 2 :] = (239, 245, 247)
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    return encoded.tobytes()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


# A one-pixel GIF: a picture, but not of a kind accepted.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def upload(name: str, content: bytes) -> Upload:
    return Upload(filename=name, file=io.BytesIO(content))
