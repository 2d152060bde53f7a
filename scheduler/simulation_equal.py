"""Equal priority, equal wait, in the year simulation: who the simulated applicants are, and the comparison.

Each simulated request is given a gender, an applicant kind (citizen, resident,
company) and a channel, so that its wait can be compared with the waits of the
other requests of its urgency band and category (`fairness.equal_wait.compare`).
They are drawn from a generator of their own keyed by the seed and the case id
(`random.Random("applicants:<seed>:<case id>")`), never from the arrivals'
generator: the arrivals, and every figure pinned on them, stay as they were.

The draw is consistent with the seat the request already asks for: a request
for the women's section's video audience is a woman's; a request for the men's
video audience a man's (citizen or resident); an in-person request is a
woman's, a company's or a man's in the shares the arrivals imply (companies
come in person, `Assumptions.company_share`). A company has no gender: it is
left out of that comparison. The channel is drawn independently of everything
else, so no gap by channel is expected; one flagged would be chance or a fault.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Final

from fairness.equal_wait import GroupComparison, WaitRecord, compare, table
from scheduler.allocation import Mode
from scheduler.simulation import Arrival, SimulationResult
from scheduler.simulation_assumptions import Assumptions


@dataclass(frozen=True, slots=True)
class Applicants:
    """The assumptions about who the applicants are, each with its source, as `Assumptions` has them."""

    citizen_share: float = field(
        default=0.87, metadata={"source": "003: citizens 87 %, residents 13 % of the beneficiaries (not companies)"}
    )
    channel_shares: tuple[tuple[str, float], ...] = field(
        default=(("walk_in", 0.55), ("portal", 0.25), ("call_centre", 0.10), ("whatsapp", 0.10)),
        metadata={
            "source": "assumed, not from the source documents: the channels of MISSION.md (a desk at the centre, "
            "the portal, the contact centre, WhatsApp (004)), most still at the desk (001); drawn independently "
            "of the seat asked for"
        },
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.citizen_share <= 1.0:
            raise ValueError(f"citizen_share {self.citizen_share} is not a share between 0 and 1")
        if abs(sum(share for _, share in self.channel_shares) - 1.0) > 1e-9:
            raise ValueError("the channel shares must add up to 1")


# Why a gap is expected where it is, for the table (fairness.equal_wait.table's `explain` keys).
EXPLAIN: Final[Mapping[str, str]] = {
    "gender": "women's video audiences are a separate weekly session (Tuesday, women's section) with its own seats; "
    "women and men of equal priority wait for different seats, not behind each other",
    "applicant_kind:company": "companies come in person (assumed), to Sunday's session only, never to the video "
    "sessions; their waits follow those seats",
    "applicant_kind": "companies come in person only (assumed), so the kinds of applicant ask for different seats",
    "branch": "each branch has its own seats and its own queue: near full load a branch's wait follows its own "
    "demand, and a year's chance excess of 1-2 % more requests in one branch is days more waiting for all of its "
    "requests, whatever their priority",
    "channel": "the channel is drawn independently of the seat and of the order (assumed), so a flag here is chance: "
    "at p < 0.05 about one test in twenty flags with no difference at all, and the table holds dozens",
}


def applicant_lines(applicants: Applicants) -> list[str]:
    """Every assumption about the applicants, one a line ("name = value: source")."""
    lines = []
    for spec in fields(applicants):
        value = getattr(applicants, spec.name)
        shown = ", ".join(f"{name} {share:g}" for name, share in value) if isinstance(value, tuple) else str(value)
        lines.append(f"{spec.name} = {shown}: {spec.metadata.get('source', '')}")
    return lines


def describe(
    assumptions: Assumptions, applicants: Applicants, requests: Sequence[Arrival], seed: int
) -> dict[int, dict[str, str]]:
    """Each request's gender (not for a company), applicant kind, channel and branch, by case id."""
    a = assumptions
    men = 1.0 - a.women_share - a.company_share
    # Of the in-person requests: women in person, companies, men in person.
    in_person = (a.women_share * (1 - a.women_video_share), a.company_share, men * (1 - a.men_video_share))
    channels = [name for name, _ in applicants.channel_shares]
    channel_weights = [share for _, share in applicants.channel_shares]
    found = {}
    for request in requests:
        rng = random.Random(f"applicants:{seed}:{request.case_id}")  # noqa: S311 - reproducible, not a secret
        if request.women_section:
            who = "female"
        elif request.mode is Mode.VIDEO:
            who = "male"
        else:
            who = rng.choices(("female", "company", "male"), weights=in_person)[0]
        values = {"branch": request.branch, "channel": rng.choices(channels, weights=channel_weights)[0]}
        if who == "company":
            values["applicant_kind"] = "company"
        else:
            values["gender"] = who
            values["applicant_kind"] = "citizen" if rng.random() < applicants.citizen_share else "resident"
        found[request.case_id] = values
    return found


def wait_records(
    result: SimulationResult, requests: Sequence[Arrival], described: Mapping[int, Mapping[str, str]]
) -> list[WaitRecord]:
    """The waits of the requests seen, each with its band, category and groups; those not seen are left out."""
    return [
        WaitRecord(
            band=request.urgency.value,
            category=request.category,
            dimension_values=described[request.case_id],
            wait_days=result.waits[request.case_id],
        )
        for request in requests
        if request.case_id in result.waits
    ]


def equal_priority(
    assumptions: Assumptions,
    result: SimulationResult,
    requests: Sequence[Arrival],
    *,
    seed: int,
    applicants: Applicants | None = None,
    permutations: int = 2000,
) -> list[GroupComparison]:
    """The equal-priority comparison of one simulated run (see `fairness.equal_wait.compare`)."""
    described = describe(assumptions, applicants or Applicants(), requests, seed)
    return compare(wait_records(result, requests, described), permutations=permutations, seed=seed)


def equal_priority_table(comparisons: Sequence[GroupComparison]) -> str:
    """The comparison as a Markdown table, with the reason for each gap expected (`EXPLAIN`)."""
    return table(comparisons, explain=EXPLAIN)
