"""Attachments: applicants' evidence and departments' answers, checked by their content and kept outside the
static files.

A file is accepted only as PDF, JPEG or PNG, recognised by its first bytes (never by its name or the type
its sender declared), not empty, and no larger than the store's limit; a submission carries at most the
store's number of files. Every refusal names the file and all of them are listed at once, before anything
is written. The name a file came with is cleaned (no folders, control or direction-changing characters,
limited length) and kept only as a label: the file is stored under a random key, and read back only by the
key in its row.

Orphans. The file is written before its row is flushed, so a transaction that fails afterwards leaves a
file that no row names. It does no harm: files are reached only through their rows (served by the row's id,
the key read from the row), keys are random and unique, so an orphan can never be served or overwritten.
`remove_orphans` deletes the orphans older than a day (and half-written files a crash left behind). A file
the WhatsApp desk received and has not yet attached to a request is named by its `DeskMedia` row, so it is
kept too.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from followup.models import Attachment, AttachmentOwner, Referral
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput
from whatsapp_desk.models import DeskMedia

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
# The first bytes of each kind of file accepted.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
_EXTENSIONS: dict[str, tuple[str, ...]] = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}
ACCEPTED_TYPES = tuple(_EXTENSIONS)
MAX_FILENAME = 120
_KEY = re.compile(r"[0-9a-f]{32}")
_PARTIAL_PREFIX = ".partial-"
_CHUNK = 1024 * 1024
MEGABYTE = 1024 * 1024
# Files without a row are left this long before `remove_orphans` takes them: a transaction may still commit.
ORPHAN_AGE = timedelta(days=1)


def isolated(text: str) -> str:
    """The text between Unicode first-strong isolates, so a Latin file name or a number keeps its order in Arabic."""
    return f"\u2068{text}\u2069"


@dataclass(frozen=True)
class Upload:
    """A file as it came: the name its sender gave and its bytes (a seekable binary file).

    The type the sender declared is not part of it: only the content says what a file is.
    """

    filename: str
    file: IO[bytes]


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks: its cleaned name, the type its content shows, its size."""

    filename: str
    content_type: str
    size: int
    file: IO[bytes]


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class AttachmentStore:
    """A directory of files named by random keys, written atomically, with the limits uploads must keep.

    The directory is made on the first write, so an application that never stores a file creates nothing.
    """

    def __init__(self, root: Path, *, max_bytes: int, max_files: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_files = max_files

    def path_of(self, key: str) -> Path:
        """Where the file of this key lives; a key that is not one the store makes is refused."""
        if not _KEY.fullmatch(key):
            raise ValueError("not an attachment key")
        return self.root / key

    async def put(self, source: IO[bytes]) -> StoredFile:
        """Copies the file in under a new random key; it appears whole or not at all."""
        return await asyncio.to_thread(self._put, source)

    def _put(self, source: IO[bytes]) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_hex(16)
        partial = self.root / f"{_PARTIAL_PREFIX}{key}"
        digest = hashlib.sha256()
        size = 0
        source.seek(0)
        try:
            with partial.open("xb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.path_of(key))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path_of(key).read_bytes)

    def _files(self) -> list[tuple[str, float]]:
        if not self.root.is_dir():
            return []
        with os.scandir(self.root) as entries:
            return [(entry.name, entry.stat().st_mtime) for entry in entries if entry.is_file()]

    async def files(self) -> list[tuple[str, float]]:
        """Every file in the store (kept or half-written) and when it was last written, as a POSIX time."""
        return await asyncio.to_thread(self._files)

    async def remove(self, name: str) -> None:
        if not (
            _KEY.fullmatch(name)
            or (name.startswith(_PARTIAL_PREFIX) and _KEY.fullmatch(name.removeprefix(_PARTIAL_PREFIX)))
        ):
            raise ValueError("not a file of the store")
        await asyncio.to_thread((self.root / name).unlink, True)


# --- checks ---------------------------------------------------------------------------------------


def _unprintable(ch: str) -> bool:
    # Cc: control characters (line breaks, NUL); Cf: format characters, among them the direction overrides
    # and isolates that can make "gpj.exe" read as "exe.jpg"; Zl/Zp: line and paragraph separators.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def clean_filename(raw: str, content_type: str) -> str:
    """The name to show for a file: no folders, no invisible or direction-changing characters, an extension
    that says what the content is, at most MAX_FILENAME characters. Never used as a path."""
    name = _visible(raw).strip(". ")
    wanted = _EXTENSIONS[content_type]
    stem, dot, extension = name.rpartition(".")
    if dot and f".{extension.lower()}" in wanted:
        suffix = f".{extension.lower()}"
    else:
        # No extension, or another kind's ("photo.gif" holding a PNG): the content's own says what opens it.
        looks_like_extension = bool(dot) and extension.isalnum() and len(extension) <= 5
        stem = stem if looks_like_extension else name
        suffix = wanted[0]
    stem = stem.strip(". ") or "attachment"
    return stem[: MAX_FILENAME - len(suffix)].rstrip(". ") + suffix


def content_type_of(head: bytes) -> str | None:
    """PDF, JPEG or PNG by the file's first bytes; None for anything else."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _size_of(file: IO[bytes]) -> int:
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _visible(raw: str) -> str:
    """The sender's name for a file, made safe to show: its last part only, without invisible characters."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    # Whitespace (line breaks too) becomes one space; other invisible characters go.
    name = "".join(" " if ch.isspace() else "" if _unprintable(ch) else ch for ch in name)
    name = " ".join(name.split())
    return name[:MAX_FILENAME]


def megabytes(size: int) -> str:
    return f"{size / MEGABYTE:g}"


def check_uploads(uploads: Sequence[Upload], *, store: AttachmentStore) -> list[CheckedUpload]:
    """The uploads with their cleaned names and types; InvalidInput lists every file refused, and why.

    Reads only the first bytes and the size of each file.
    """
    if len(uploads) > store.max_files:
        raise InvalidInput(
            [
                FieldError(
                    "files",
                    "too_many_files",
                    N_("At most {max} files can be attached."),
                    {"max": isolated(str(store.max_files))},
                )
            ]
        )
    errors: list[FieldError] = []
    checked: list[CheckedUpload] = []
    for index, upload in enumerate(uploads):
        field = f"files.{index}"
        name = {"name": isolated(_visible(upload.filename) or "—")}
        size = _size_of(upload.file)
        if size == 0:
            errors.append(FieldError(field, "empty_file", N_("{name} is empty."), name))
            continue
        if size > store.max_bytes:
            limit = {**name, "max": isolated(megabytes(store.max_bytes))}
            errors.append(FieldError(field, "file_too_large", N_("{name} is larger than {max} MB."), limit))
            continue
        content_type = content_type_of(upload.file.read(16))
        upload.file.seek(0)
        if content_type is None:
            errors.append(FieldError(field, "file_type", N_("{name} is not a PDF, JPEG or PNG file."), name))
            continue
        checked.append(CheckedUpload(clean_filename(upload.filename, content_type), content_type, size, upload.file))
    if errors:
        raise InvalidInput(errors)
    return checked


# --- storing and listing --------------------------------------------------------------------------


async def store_uploads(
    *,
    session: AsyncSession,
    clock: Clock,
    store: AttachmentStore,
    case_id: int,
    uploads: Sequence[CheckedUpload],
    added_by: AttachmentOwner,
    added_by_id: int | None = None,
    referral_id: int | None = None,
    information_request_id: int | None = None,
) -> list[Attachment]:
    """Writes checked uploads to the store and their rows to the session (flushed, not committed)."""
    rows = []
    for upload in uploads:
        stored = await store.put(upload.file)
        row = Attachment(
            case_id=case_id,
            referral_id=referral_id,
            information_request_id=information_request_id,
            added_by=added_by,
            added_by_id=added_by_id,
            filename=upload.filename,
            content_type=upload.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            added_at=clock.now(),
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


async def attach(
    *,
    session: AsyncSession,
    clock: Clock,
    store: AttachmentStore,
    case_id: int,
    uploads: Sequence[Upload],
    added_by: AttachmentOwner,
    added_by_id: int | None = None,
    referral_id: int | None = None,
    information_request_id: int | None = None,
) -> list[Attachment]:
    """Checks the uploads (InvalidInput naming each file refused, nothing written) and stores them all."""
    checked = check_uploads(uploads, store=store)
    return await store_uploads(
        session=session,
        clock=clock,
        store=store,
        case_id=case_id,
        uploads=checked,
        added_by=added_by,
        added_by_id=added_by_id,
        referral_id=referral_id,
        information_request_id=information_request_id,
    )


async def get(*, session: AsyncSession, attachment_id: int) -> Attachment | None:
    return await session.get(Attachment, attachment_id)


async def of_case(*, session: AsyncSession, case_id: int) -> list[Attachment]:
    """The case's attachments, oldest first."""
    rows = await session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return list(rows)


async def department_may_read(*, session: AsyncSession, attachment: Attachment, department_id: int) -> bool:
    """Whether a department's liaison may open the file: the request's own files (the applicant's evidence)
    when the request is referred to that department, and the files of that department's referrals (its
    answers, the applicant's answers to its questions) — the rule its link follows too
    (followup.department_desk.may_open), never another department's."""
    if attachment.referral_id is not None:
        referral = await session.get(Referral, attachment.referral_id)
        return referral is not None and referral.department_id == department_id
    referred = await session.scalar(
        select(Referral.id)
        .where(Referral.case_id == attachment.case_id, Referral.department_id == department_id)
        .limit(1)
    )
    return referred is not None


async def remove_orphans(*, session: AsyncSession, clock: Clock, store: AttachmentStore) -> int:
    """Deletes files no row (an attachment, or media the WhatsApp desk holds) names that were written more than
    ORPHAN_AGE ago; gives back how many."""
    cutoff = (clock.now() - ORPHAN_AGE).timestamp()
    old = [name for name, written in await store.files() if written < cutoff]
    if not old:
        return 0
    kept = set(await session.scalars(select(Attachment.storage_key).where(Attachment.storage_key.in_(old))))
    kept |= set(await session.scalars(select(DeskMedia.storage_key).where(DeskMedia.storage_key.in_(old))))
    removed = 0
    for name in old:
        if name in kept:
            continue
        await store.remove(name)
        removed += 1
    return removed
