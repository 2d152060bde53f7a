"""The auditor's pages: every placement explained (filtered, and as CSV/XLSX), one request's placements by
tracking number, and the fairness chain's verification.

Read-only, for the auditor and managers (administrators too, as everywhere). They name requests by tracking
number alone: no applicant's name, national ID or phone is read for them, and none is in the chain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from aiohttp import web

from accounts.roles import Role
from fairness import anchors as anchor_file
from fairness import verify
from fairness.models import ChainAnchor
from majlis.errors import N_, FieldError, InvalidInput
from majlis.i18n import RIGHT_TO_LEFT
from web import audit_files, fairness_files
from web.audit_display import placement_display
from web.audit_models import PlacementOut
from web.audit_reading import PlacementFilter, history, parse_filter, placements
from web.auth import requires
from web.errors import field_message
from web.followup_report import spreadsheet
from web.keys import CATALOGS, DB, LANGUAGE, SETTINGS
from web.pages import gettext_for, render

routes = web.RouteTableDef()
READERS = (Role.AUDITOR, Role.MANAGER)
# The last anchors recorded as sent, listed on the verification page (never trusted by the check itself).
ANCHORS_LISTED = 10


def _errors(request: web.Request, exc: InvalidInput) -> dict[str, str]:
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    return {error.field: field_message(catalogs, language, error) for error in exc.errors}


async def _context(request: web.Request, found: list[PlacementOut]) -> dict[str, object]:
    return {"placements": found, **await placement_display(request)}


@routes.get("/audit/placements")
@requires(*READERS)
async def placements_page(request: web.Request) -> web.Response:
    values = dict(request.query)
    try:
        asked = parse_filter(request.query)
    except InvalidInput as exc:
        context = {
            **await _context(request, []),
            "values": values,
            "errors": _errors(request, exc),
            "cut": False,
            "query": "",
        }
        return render(request, "audit/placements.html", context, status=422)
    found, cut = await placements(session=request[DB], asked=asked)
    context = {**await _context(request, found), "values": values, "errors": {}, "cut": cut, "query": asked.query()}
    return render(request, "audit/placements.html", context)


async def _download(request: web.Request, kind: Literal["csv", "xlsx"]) -> web.Response:
    try:
        asked = parse_filter(request.query)
    except InvalidInput as exc:
        message = "; ".join(_errors(request, exc).values())
        return render(request, "error.html", {"status": 422, "message": message}, status=422)
    found, _cut = await placements(session=request[DB], asked=asked)
    _ = gettext_for(request)
    named = audit_files.Naming(_, await fairness_files.names(session=request[DB]), request[LANGUAGE])
    if kind == "csv":
        return spreadsheet(audit_files.csv_bytes(named, found), "csv", "placements.csv")
    body = audit_files.xlsx_bytes(named, found, right_to_left=request[LANGUAGE] in RIGHT_TO_LEFT)
    return spreadsheet(body, "xlsx", "placements.xlsx")


@routes.get("/audit/placements.csv")
@requires(*READERS)
async def placements_csv(request: web.Request) -> web.Response:
    return await _download(request, "csv")


@routes.get("/audit/placements.xlsx")
@requires(*READERS)
async def placements_xlsx(request: web.Request) -> web.Response:
    return await _download(request, "xlsx")


@routes.get("/audit/placements/{tracking_number}")
@requires(*READERS)
async def request_placements(request: web.Request) -> web.Response:
    number = request.match_info["tracking_number"]
    found = await history(session=request[DB], tracking_number=number)
    context = {**await _context(request, found or []), "tracking_number": number, "not_found": found is None}
    return render(request, "audit/request_placements.html", context, status=404 if found is None else 200)


def parse_anchors(typed: list[str]) -> list[verify.Anchor]:
    """The anchors typed on the verification page (SEQ:HASH each); InvalidInput naming the field."""
    anchors = []
    for text in typed:
        if not text.strip():
            continue
        try:
            anchors.append(verify.parse_anchor(text))
        except ValueError:
            message = N_("An anchor is the entry's number, a colon and its 64-character hash (SEQ:HASH).")
            raise InvalidInput([FieldError("anchor", "invalid_anchor", message)]) from None
    return anchors


async def recorded_anchors(request: web.Request) -> list[ChainAnchor]:
    """The last anchors recorded as sent, newest first."""
    return await anchor_file.recent(session=request[DB], limit=ANCHORS_LISTED)


async def filed_anchors(request: web.Request) -> tuple[list[verify.Anchor], str | None]:
    """The anchors of the anchor file (outside the database), and what is wrong with the file if it cannot be read.

    No file yet is no anchor: the first daily anchor writes it.
    """
    path = Path(request.app[SETTINGS].fairness_anchor_file)
    try:
        # A file read on the disk, off the event loop.
        return await asyncio.to_thread(anchor_file.read_file, path), None
    except FileNotFoundError:
        return [], None
    except (OSError, anchor_file.AnchorFileError) as exc:
        return [], str(exc)


@dataclass(frozen=True)
class ChainCheck:
    """The chain verified against the anchors typed and those of the anchor file."""

    result: verify.Verification
    filed: int
    file_problem: str | None
    recorded: list[ChainAnchor]


async def check_chain(request: web.Request, typed: list[str]) -> ChainCheck:
    """Verifies the whole chain; InvalidInput when a typed anchor cannot be read."""
    given = parse_anchors([line for text in typed for line in text.splitlines()])
    filed, problem = await filed_anchors(request)
    result = await verify.verify_chain(session=request[DB], anchors=[*given, *filed])
    return ChainCheck(result, len(filed), problem, await recorded_anchors(request))


@routes.get("/audit/chain")
@requires(*READERS)
async def chain_page(request: web.Request) -> web.Response:
    typed = request.query.getall("anchor", [])
    context: dict[str, object] = {"typed": "\n".join(typed), "errors": {}, "check": None, "fault": None}
    try:
        check = await check_chain(request, typed)
    except InvalidInput as exc:
        context["errors"] = _errors(request, exc)
        context["anchors"] = await recorded_anchors(request)
        return render(request, "audit/chain.html", context, status=422)
    # The same check as a file: the anchors typed go with the download's address.
    download = urlencode([("anchor", text) for text in typed if text.strip()])
    context.update(check=check, result=check.result, anchors=check.recorded, download=download)
    if check.result.fault is not None:
        context["fault"] = check.result.fault.describe(gettext_for(request))
    return render(request, "audit/chain.html", context)


async def _verification_file(request: web.Request, kind: Literal["csv", "xlsx"]) -> web.Response:
    typed = request.query.getall("anchor", [])
    try:
        check = await check_chain(request, typed)
    except InvalidInput as exc:
        message = "; ".join(_errors(request, exc).values())
        return render(request, "error.html", {"status": 422, "message": message}, status=422)
    _ = gettext_for(request)
    fault = None if check.result.fault is None else check.result.fault.describe(_)
    rows = audit_files.verification_rows(
        _, check.result, fault, filed=check.filed, file_problem=check.file_problem, recorded=check.recorded
    )
    if kind == "csv":
        return spreadsheet(audit_files.verification_csv(_, rows), "csv", "chain-verification.csv")
    body = audit_files.verification_xlsx(_, rows, right_to_left=request[LANGUAGE] in RIGHT_TO_LEFT)
    return spreadsheet(body, "xlsx", "chain-verification.xlsx")


@routes.get("/audit/chain.csv")
@requires(*READERS)
async def chain_csv(request: web.Request) -> web.Response:
    """The verification (against the anchors given as ?anchor= and the anchor file's) as CSV."""
    return await _verification_file(request, "csv")


@routes.get("/audit/chain.xlsx")
@requires(*READERS)
async def chain_xlsx(request: web.Request) -> web.Response:
    """The verification as a workbook, right to left in Arabic."""
    return await _verification_file(request, "xlsx")


__all__ = ["PlacementFilter", "routes"]
