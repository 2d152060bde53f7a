"""The people of each department (head, deputies, liaison officers), and whom a notice goes to when one is missing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.phones import to_e164
from followup.directory import DepartmentNotFound, clean_email, clean_name, department_by_code, record
from followup.models import ContactRole, Department, DepartmentContact
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, invalid_choice

CONTACT_LANGUAGES = ("ar", "en")


class ContactNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("contact_not_found", N_("There is no such contact at this department."))


@dataclass(frozen=True)
class ContactInput:
    role: str
    name: str
    email: str
    phone: str = ""
    language: str = "ar"


@dataclass(frozen=True)
class Addressee:
    """Whom a notice goes to: a named contact, or the department's general mailbox (then no phone)."""

    name: str
    email: str
    phone: str
    language: str


def _checked_contact(data: ContactInput) -> tuple[ContactRole, str, str, str, str]:
    errors: list[FieldError] = []
    role = ContactRole.LIAISON
    try:
        role = ContactRole(data.role)
    except ValueError:
        errors.append(invalid_choice("role", (r.value for r in ContactRole)))
    name = clean_name("name", data.name, errors)
    email = clean_email("email", data.email, errors)
    phone = ""
    if data.phone.strip():
        phone = to_e164(data.phone) or ""
        if not phone:
            errors.append(
                FieldError(
                    "phone",
                    "invalid_phone",
                    N_("{field} is not a valid mobile number. Example: 0501234567 or +966501234567."),
                )
            )
    if data.language not in CONTACT_LANGUAGES:
        errors.append(invalid_choice("language", CONTACT_LANGUAGES))
    if errors:
        raise InvalidInput(errors)
    return role, name, email, phone, data.language


async def contacts(*, session: AsyncSession, department_id: int, active_only: bool = False) -> list[DepartmentContact]:
    """A department's people: heads first, then deputies, then liaison officers, each in the order added."""
    query = select(DepartmentContact).where(DepartmentContact.department_id == department_id)
    if active_only:
        query = query.where(DepartmentContact.active.is_(True))
    order = {ContactRole.HEAD: 0, ContactRole.DEPUTY: 1, ContactRole.LIAISON: 2}
    return sorted(await session.scalars(query), key=lambda c: (order[c.role], c.id))


async def add_contact(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, department_code: str, data: ContactInput
) -> DepartmentContact:
    department = await department_by_code(session=session, code=department_code)
    role, name, email, phone, language = _checked_contact(data)
    contact = DepartmentContact(
        department_id=department.id, role=role, name=name, email=email, phone=phone, language=language, active=True
    )
    session.add(contact)
    await session.flush()
    details = {"department": department.code, "role": role.value, "name": name}
    await record(session, clock, actor_id, "department.contact.add", "department_contact", contact.id, details)
    return contact


async def _contact(session: AsyncSession, department_code: str, contact_id: int) -> DepartmentContact:
    department = await department_by_code(session=session, code=department_code)
    contact = await session.get(DepartmentContact, contact_id)
    if contact is None or contact.department_id != department.id:
        raise ContactNotFound()
    return contact


async def update_contact(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    department_code: str,
    contact_id: int,
    data: ContactInput,
) -> DepartmentContact:
    contact = await _contact(session, department_code, contact_id)
    role, name, email, phone, language = _checked_contact(data)
    contact.role, contact.name, contact.email, contact.phone, contact.language = role, name, email, phone, language
    await session.flush()
    details = {"department": department_code, "role": role.value, "name": name}
    await record(session, clock, actor_id, "department.contact.update", "department_contact", contact.id, details)
    return contact


async def set_contact_active(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    department_code: str,
    contact_id: int,
    active: bool,
) -> DepartmentContact:
    contact = await _contact(session, department_code, contact_id)
    if contact.active != active:
        contact.active = active
        await session.flush()
        action = "department.contact.activate" if active else "department.contact.deactivate"
        await record(session, clock, actor_id, action, "department_contact", contact.id, {"name": contact.name})
    return contact


def _addressee(contact: DepartmentContact) -> Addressee:
    return Addressee(contact.name, contact.email, contact.phone, contact.language)


# Whom to write to when nobody of the role is named: a deputy's work falls to the head, anyone's to the mailbox.
_FALLBACK: dict[ContactRole, tuple[ContactRole, ...]] = {
    ContactRole.HEAD: (ContactRole.HEAD,),
    ContactRole.DEPUTY: (ContactRole.DEPUTY, ContactRole.HEAD),
    ContactRole.LIAISON: (ContactRole.LIAISON,),
}


async def addressees(*, session: AsyncSession, department_id: int, role: ContactRole | str) -> list[Addressee]:
    """Every active contact of the role (deputy falling back to head), or else the department's general e-mail."""
    department = await session.get(Department, department_id)
    if department is None:
        raise DepartmentNotFound()
    people = await contacts(session=session, department_id=department_id, active_only=True)
    for wanted in _FALLBACK[ContactRole(role)]:
        found = [_addressee(c) for c in people if c.role is wanted]
        if found:
            return found
    return [Addressee(department.name_ar, department.email, "", "ar")]


async def contact_for(*, session: AsyncSession, department_id: int, role: ContactRole | str) -> Addressee:
    """The department's active contact of the role, the first added; a missing deputy gives the head,
    a missing head (or liaison officer) the department's general e-mail."""
    return (await addressees(session=session, department_id=department_id, role=role))[0]
