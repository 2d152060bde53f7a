"""The route a request asked for, which the audit desk's triage form starts from."""

from __future__ import annotations

from cases.models import RequestKind
from priority.models import Route

# An applicant who asked to meet the official asked for that kind of audience; a petition, complaint, suggestion
# or enquiry asks for an answer, which comes from the competent department by written referral.
_ASKED: dict[RequestKind, Route] = {
    RequestKind.AUDIENCE_IN_PERSON: Route.AUDIENCE_IN_PERSON,
    RequestKind.AUDIENCE_VIDEO: Route.AUDIENCE_VIDEO,
}


def requested_route(kind: RequestKind) -> Route:
    """The route matching what the applicant asked for (the desk may choose another, with a reason once set)."""
    return _ASKED.get(kind, Route.WRITTEN_REFERRAL)
