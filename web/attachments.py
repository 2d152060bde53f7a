"""Serving attachments: only to the staff who handle requests, and to a department's liaison for its own
referrals; always as a download of the type found when it was stored, never cached.

`attachment_response` is the one way a file leaves Majlis, for this route and for a department's signed
link; `case_files` lists a case's files with their addresses for other pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from followup import attachments
from followup.models import Attachment, AttachmentOwner
from majlis.errors import N_
from majlis.numbers import whole_number
from web import personal_data
from web.auth import requires, signed_in_user
from web.keys import ATTACHMENTS, DB
from web.middleware import error_response

routes = web.RouteTableDef()

# Those who read a request's details and act on it: the audit desk, the follow-up team, the official,
# protocol and managers (administrators too, as everywhere). A liaison only for their own department.
READERS = (Role.AUDIT_DESK, Role.FOLLOW_UP, Role.OFFICIAL, Role.PROTOCOL, Role.MANAGER, Role.DEPARTMENT_LIAISON)
OTHER_DEPARTMENT = N_("This file belongs to a referral of another department.")


def content_disposition(filename: str) -> str:
    """`attachment` with the name: an ASCII stand-in, and the real one in UTF-8 (RFC 6266, RFC 8187)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def attachment_response(request: web.Request, attachment: Attachment) -> web.StreamResponse:
    """The file as a download: its stored type, no sniffing, no cache; 404 if its file is gone."""
    return await stored_file_response(
        request, storage_key=attachment.storage_key, content_type=attachment.content_type, filename=attachment.filename
    )


async def stored_file_response(
    request: web.Request, *, storage_key: str, content_type: str, filename: str
) -> web.StreamResponse:
    """A file of the attachment store as a download (an attachment's, or a file the WhatsApp desk received)."""
    store = request.app[ATTACHMENTS]
    if not await store.exists(storage_key):
        return error_response(request, 404, N_("The file is no longer kept."))
    response = web.FileResponse(
        store.path_of(storage_key),
        headers={
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store, private",
            # A PDF opened in the browser runs in the site's origin: the policy keeps its scripts out.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
    return response


@routes.get("/attachments/{attachment_id}")
@requires(*READERS)
async def download(request: web.Request) -> web.StreamResponse:
    attachment_id = whole_number(request.match_info["attachment_id"])
    session = request[DB]
    attachment = await attachments.get(session=session, attachment_id=attachment_id) if attachment_id else None
    if attachment is None:
        return error_response(request, 404)
    user = signed_in_user(request)
    if user.role is Role.DEPARTMENT_LIAISON:
        staff = await accounts.get_user(session=session, user_id=user.id)
        department_id = staff.department_id if staff is not None else None
        if department_id is None or not await attachments.department_may_read(
            session=session, attachment=attachment, department_id=department_id
        ):
            return error_response(request, 403, OTHER_DEPARTMENT)
    # A file of a request outside the reader's need to know is answered as one that does not exist.
    if not await personal_data.may_see(request, attachment.case_id):
        return error_response(request, 404)
    await personal_data.record(request, attachment.case_id)
    return await attachment_response(request, attachment)


@dataclass(frozen=True)
class FileLink:
    """One of a case's files as a page lists it."""

    id: int
    url: str
    filename: str
    content_type: str
    size: int
    added_by: AttachmentOwner
    added_at: datetime
    information_request_id: int | None
    referral_id: int | None

    @property
    def size_label(self) -> str:
        """The size in kB or MB, digits only (the page says the unit)."""
        if self.size >= attachments.MEGABYTE:
            return f"{self.size / attachments.MEGABYTE:.1f} MB"
        return f"{max(1, round(self.size / 1024))} kB"


def file_link(attachment: Attachment) -> FileLink:
    return FileLink(
        id=attachment.id,
        url=f"/attachments/{attachment.id}",
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        added_by=attachment.added_by,
        added_at=attachment.added_at,
        information_request_id=attachment.information_request_id,
        referral_id=attachment.referral_id,
    )


async def case_files(request: web.Request, case_id: int) -> list[FileLink]:
    """The case's files, oldest first, each with the address staff open it at."""
    return [file_link(row) for row in await attachments.of_case(session=request[DB], case_id=case_id)]
