"""Attachments: checked by content, size and count, names cleaned, stored whole under random keys, on SQLite
and PostgreSQL; refusals name each file in both languages and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from followup import attachments
from followup.attachments import AttachmentStore, Upload, check_uploads, clean_filename
from followup.models import Attachment, AttachmentOwner
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import FieldError, InvalidInput
from majlis.i18n import shipped_catalogs
from tests.followup.files import GIF, pdf, picture, upload
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]
MB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments", max_bytes=MB, max_files=3)


def said(error: FieldError, language: str) -> str:
    """The refusal as a person reads it, without the isolates that keep names in order inside Arabic."""
    text = shipped_catalogs().gettext(language, error.message, **error.params)
    return text.replace("\u2068", "").replace("\u2069", "")


def refusals(uploads: list[Upload], store: AttachmentStore) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        check_uploads(uploads, store=store)
    return caught.value.errors


def test_pdf_jpeg_and_png_are_known_by_their_content_not_their_name(store: AttachmentStore) -> None:
    checked = check_uploads(
        [upload("report", pdf()), upload("scan.png", picture(".jpg")), upload("photo.pdf", picture(".png"))],
        store=store,
    )
    assert [(c.filename, c.content_type) for c in checked] == [
        ("report.pdf", "application/pdf"),
        ("scan.jpg", "image/jpeg"),
        ("photo.png", "image/png"),
    ]


def test_other_files_are_refused_naming_the_file_in_both_languages(store: AttachmentStore) -> None:
    (error,) = refusals([upload("photo.gif", GIF)], store)
    assert (error.field, error.code) == ("files.0", "file_type")
    assert said(error, "en") == "photo.gif is not a PDF, JPEG or PNG file."
    assert said(error, "ar") == "الملف photo.gif ليس ملف PDF أو JPEG أو PNG."
    # A script with a picture's name is not a picture either.
    (renamed,) = refusals([upload("invoice.pdf", b"#!/bin/sh\nrm -rf /\n")], store)
    assert renamed.code == "file_type"


def test_size_is_limited_and_empty_files_refused(store: AttachmentStore) -> None:
    largest = b"%PDF-" + b"0" * (MB - 5)
    assert check_uploads([upload("largest.pdf", largest)], store=store)[0].size == MB
    too_large, empty = refusals([upload("scan.pdf", largest + b"0"), upload("blank.png", b"")], store)
    assert (too_large.field, too_large.code, empty.field, empty.code) == (
        "files.0",
        "file_too_large",
        "files.1",
        "empty_file",
    )
    assert said(too_large, "en") == "scan.pdf is larger than 1 MB."
    assert said(too_large, "ar") == "حجم الملف scan.pdf أكبر من 1 ميغابايت."
    assert said(empty, "en") == "blank.png is empty."


def test_the_number_of_files_is_limited(store: AttachmentStore) -> None:
    (error,) = refusals([upload(f"p{i}.png", picture()) for i in range(4)], store)
    assert (error.field, error.code) == ("files", "too_many_files")
    assert said(error, "en") == "At most 3 files can be attached."
    assert check_uploads([upload(f"p{i}.png", picture()) for i in range(3)], store=store)


def test_every_refused_file_is_named_at_once(store: AttachmentStore) -> None:
    errors = refusals([upload("a.gif", GIF), upload("ok.png", picture()), upload("b.txt", b"hello")], store)
    assert [(e.field, e.code) for e in errors] == [("files.0", "file_type"), ("files.2", "file_type")]


@pytest.mark.parametrize(
    ("raw", "content_type", "clean"),
    [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\noura\\Documents\\Deed.PDF", "application/pdf", "Deed.pdf"),
        # A right-to-left override would show "gpj.exe" as "exe.jpg".
        ("\u202egpj.exe", "image/jpeg", "gpj.jpg"),
        ("ID\u2066 card\u2069.png", "image/png", "ID card.png"),
        ("line\nbreak\x00.png", "image/png", "line break.png"),
        ("photo.gif", "image/png", "photo.png"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("no extension", "image/png", "no extension.png"),
        ("report.2026 final", "application/pdf", "report.2026 final.pdf"),
        ("...", "application/pdf", "attachment.pdf"),
        ("", "image/jpeg", "attachment.jpg"),
        ("صورة الهوية.jpg", "image/jpeg", "صورة الهوية.jpg"),
    ],
)
def test_names_are_cleaned(raw: str, content_type: str, clean: str) -> None:
    assert clean_filename(raw, content_type) == clean


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = clean_filename("ق" * 300 + ".pdf", "application/pdf")
    assert len(name) == attachments.MAX_FILENAME and name.endswith(".pdf")


async def test_the_store_writes_whole_files_under_random_keys(store: AttachmentStore) -> None:
    content = picture(".jpg", 300, 200)
    first = await store.put(io.BytesIO(content))
    second = await store.put(io.BytesIO(content))
    assert first.key != second.key and len(first.key) == 32
    assert first.sha256 == hashlib.sha256(content).hexdigest() and first.size == len(content)
    assert await store.read(first.key) == content
    assert sorted(os.listdir(store.root)) == sorted([first.key, second.key])  # no half-written file left
    for bad in ("../majlis.db", "x" * 32, first.key.upper()):
        with pytest.raises(ValueError, match="not an attachment key"):
            store.path_of(bad)


async def count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)


async def test_attach_keeps_rows_with_hash_and_refusals_keep_nothing(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    number = await new_case(sessions, clock)
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    with pytest.raises(InvalidInput):
        async with transaction(sessions) as session:
            await attachments.attach(
                session=session,
                clock=clock,
                store=store,
                case_id=case.id,
                uploads=[upload("good.png", picture()), upload("bad.gif", GIF)],
                added_by=AttachmentOwner.STAFF,
            )
    assert await count(sessions) == 0 and not store.root.exists()

    content = pdf()
    async with transaction(sessions) as session:
        (row,) = await attachments.attach(
            session=session,
            clock=clock,
            store=store,
            case_id=case.id,
            uploads=[upload("../ruling.pdf", content)],
            added_by=AttachmentOwner.STAFF,
        )
    async with sessions() as session:
        (kept,) = await attachments.of_case(session=session, case_id=case.id)
    assert (kept.id, kept.filename, kept.content_type, kept.size) == (
        row.id,
        "ruling.pdf",
        "application/pdf",
        len(content),
    )
    assert kept.sha256 == hashlib.sha256(content).hexdigest()
    assert await store.read(kept.storage_key) == content


async def test_orphans_of_failed_transactions_are_removed_after_a_day(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    number = await new_case(sessions, clock)
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    async with transaction(sessions) as session:
        (kept,) = await attachments.attach(
            session=session,
            clock=clock,
            store=store,
            case_id=case.id,
            uploads=[upload("kept.png", picture())],
            added_by=AttachmentOwner.APPLICANT,
        )
    # A transaction that failed after writing its file leaves a file no row names.
    orphan = await store.put(io.BytesIO(picture()))
    recent = await store.put(io.BytesIO(picture()))
    old = (clock.now() - timedelta(days=2)).timestamp()
    for key in (kept.storage_key, orphan.key):
        os.utime(store.path_of(key), (old, old))
    now = clock.now().timestamp()
    os.utime(store.path_of(recent.key), (now, now))
    async with sessions() as session:
        assert await attachments.remove_orphans(session=session, clock=clock, store=store) == 1
    assert sorted(os.listdir(store.root)) == sorted([kept.storage_key, recent.key])


async def test_a_department_reads_the_requests_own_files_and_its_own_referrals_not_anothers(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    from accounts.roles import Role
    from followup.models import Department, Referral
    from tests.factories import make_staff
    from tests.followup.arrange import add_department
    from tests.priority.test_triage import ready

    housing = await add_department(sessions, "housing")
    health = await add_department(sessions, "health")
    await add_department(sessions, "transport")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, route="written_referral", departments="housing health")
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        to_housing = await session.scalar(select(Referral.id).where(Referral.department_id == housing))
        [evidence] = await attachments.attach(
            session=session,
            clock=clock,
            store=store,
            case_id=case.id,
            uploads=[upload("deed.pdf", pdf())],
            added_by=AttachmentOwner.APPLICANT,
        )
        [answer] = await attachments.attach(
            session=session,
            clock=clock,
            store=store,
            case_id=case.id,
            uploads=[upload("reply.png", picture())],
            added_by=AttachmentOwner.DEPARTMENT,
            referral_id=to_housing,
        )
    async with sessions() as session:
        transport_id = await session.scalar(select(Department.id).where(Department.code == "transport"))
        assert transport_id is not None

        async def may(attachment: Attachment, department_id: int) -> bool:
            return await attachments.department_may_read(
                session=session, attachment=attachment, department_id=department_id
            )

        # The applicant's evidence: both departments the request went to, not one it never reached.
        assert (await may(evidence, housing), await may(evidence, health), await may(evidence, transport_id)) == (
            True,
            True,
            False,
        )
        # Housing's answer: housing only.
        assert (await may(answer, housing), await may(answer, health)) == (True, False)
