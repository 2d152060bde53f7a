"""Refusals of the audit desk's actions, each naming what is wrong."""

from __future__ import annotations

from majlis.errors import N_, DomainError


class CaseNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("case_not_found", N_("No request has this tracking number."))


class NotOpenForTriage(DomainError):
    def __init__(self) -> None:
        super().__init__("case_closed", N_("This request is closed; it can no longer be changed."))


class NotReadyToRoute(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "not_ready_to_route",
            N_("Verify the request and set its category and urgency before routing it."),
        )


class MergeRefused(DomainError):
    pass


def merge_into_itself() -> MergeRefused:
    return MergeRefused("merge_into_itself", N_("A request cannot be merged into itself."))


def merge_into_closed() -> MergeRefused:
    return MergeRefused("merge_into_closed", N_("The request to merge into is closed; choose an open request."))


def already_merged() -> MergeRefused:
    return MergeRefused("already_merged", N_("This request is already closed; it cannot be merged again."))


def not_same_applicant() -> MergeRefused:
    return MergeRefused(
        "not_same_applicant", N_("Only requests of the same applicant or the same phone can be merged.")
    )


def holds_merged_requests() -> MergeRefused:
    return MergeRefused(
        "holds_merged_requests",
        N_("Other requests were merged into this one; merge the other request into it instead."),
    )
