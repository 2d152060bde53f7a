"""Who a request is from, as the audit desk reads it: the name flag and the proposed changes, in words.

Shared by the triage page (web/templates/audit/_identity.html), its actions
(web/identity_pages.py) and the JSON API (web/identity_api.py). Personal data:
only the audit desk's pages and API use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from cases import identity_review
from cases.models import ApplicantChange, IdentityFlag
from majlis.errors import N_
from majlis.i18n import Catalogs
from web import labels

# What each field of the record is called on the page; care needs use the intake form's names.
FIELD_NAMES: Mapping[str, str] = {
    "name": N_("Full name"),
    "phone": N_("Mobile number"),
    "gender": N_("Gender"),
    "email": N_("E-mail"),
    "language": N_("Preferred language"),
    "care_elderly": labels.SPECIAL_CARE["elderly"],
    "care_wheelchair": labels.SPECIAL_CARE["wheelchair"],
    "care_transport": labels.SPECIAL_CARE["transport"],
    "care_interpreter": labels.SPECIAL_CARE["interpreter"],
}


def field_value(catalogs: Catalogs, language: str, field: str, value: object) -> str:
    """A record value as a reader sees it: a gender or a yes/no in their language, a language by its own name."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return catalogs.gettext(language, N_("Yes") if value else N_("No"))
    if field == "gender":
        return catalogs.gettext(language, labels.GENDERS.get(str(value), str(value)))
    if field == "language":
        return labels.LANGUAGES.get(str(value), str(value))
    return str(value)


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: str
    before: str
    after: str
    # Written left to right whatever the page's direction (a phone number, an e-mail address).
    ltr: bool


@dataclass(frozen=True)
class ChangeView:
    change: ApplicantChange
    rows: list[FieldRow]
    proposed_by: str
    decided_by: str


@dataclass(frozen=True)
class IdentityView:
    flag: IdentityFlag | None
    reviewed_by: str
    changes: list[ChangeView]

    @property
    def open_change(self) -> ChangeView | None:
        return next((c for c in self.changes if c.change.decided_at is None), None)


def change_rows(catalogs: Catalogs, language: str, change: ApplicantChange) -> list[FieldRow]:
    """The proposal's fields in the record's order: what the record says, and what the request gave."""
    return [
        FieldRow(
            field=field,
            label=catalogs.gettext(language, FIELD_NAMES[field]),
            before=field_value(catalogs, language, field, change.fields[field][0]),
            after=field_value(catalogs, language, field, change.fields[field][1]),
            ltr=field in ("phone", "email"),
        )
        for field in identity_review.RECORD_FIELDS
        if field in change.fields
    ]


async def identity_view(*, session: AsyncSession, case_id: int, catalogs: Catalogs, language: str) -> IdentityView:
    found = await identity_review.identity_of(session=session, case_id=case_id)
    staff_ids = {
        i
        for i in [
            found.flag.reviewed_by_id if found.flag else None,
            *(c.proposed_by_id for c in found.changes),
            *(c.decided_by_id for c in found.changes),
        ]
        if i is not None
    }
    names = await accounts.names_by_id(session=session, ids=staff_ids)
    return IdentityView(
        flag=found.flag,
        reviewed_by=names.get(found.flag.reviewed_by_id or 0, "") if found.flag else "",
        changes=[
            ChangeView(
                change=c,
                rows=change_rows(catalogs, language, c),
                proposed_by=names.get(c.proposed_by_id or 0, ""),
                decided_by=names.get(c.decided_by_id or 0, ""),
            )
            for c in found.changes
        ],
    )
