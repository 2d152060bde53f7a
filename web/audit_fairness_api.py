"""The fairness report over JSON, for auditors and managers (/api/v1/audit/fairness).

The same figures as /reports/fairness, without any request named: waits at equal priority compared across
gender, applicant kind, channel and branch within each urgency band and category (fairness.equal_wait), the
raw waiting times by group, the hand-made changes counted by reason, and how many queue jumps there are and
how many of them carry no justification. Codes (urgency, category, group values) are given as codes: a client
labels them; the page shows them in words.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from priority.queue import fairness_report
from web.audit_pages import READERS
from web.auth import requires
from web.keys import CLOCK, DB

routes = web.RouteTableDef()


class EqualWaitOut(BaseModel):
    band: str = Field(description="The urgency band: critical, urgent or normal")
    category: str = Field(description="The category's code")
    dimension: str = Field(description="gender, applicant_kind, channel or branch")
    value: str = Field(description="The group compared with the rest of its band and category")
    count: int
    median_days: float
    p90_days: float
    rest_count: int
    rest_median_days: float | None
    rest_p90_days: float | None
    gap: float | None = Field(description="(median − rest's median) / rest's median (at least a day); + waits longer")
    p_value: float | None = Field(description="Two-sided permutation test of the medians' difference")
    q_value: float | None = Field(description="The p-value adjusted over every test of the report (Benjamini-Hochberg)")
    ci_low_days: float | None = Field(description="Bootstrap 95 % interval of the medians' difference, low end")
    ci_high_days: float | None
    flagged: bool = Field(description="A gap over 10 % that is more than chance (p < 0.05)")
    untested: str | None = Field(description="too_few or no_other_group when no test was run")


class WaitingOut(BaseModel):
    group: str
    value: str
    count: int
    median_days: float
    p90_days: float


class FairnessOut(BaseModel):
    equal_wait: list[EqualWaitOut]
    waiting: list[WaitingOut] = Field(description="Raw waits by group, every urgency mixed")
    changes_by_reason: dict[str, int] = Field(description="Hand-made changes counted by their reason's code")
    queue_jumps: int = Field(description="Requests waiting ahead of an older one of equal or higher score by rule")
    unjustified_jumps: int = Field(description="Of those, how many no recorded change justifies")


OUTPUTS: tuple[type[BaseModel], ...] = (EqualWaitOut, WaitingOut, FairnessOut)


@routes.get("/api/v1/audit/fairness")
@requires(*READERS)
async def fairness_api(request: web.Request) -> web.Response:
    report = await fairness_report(session=request[DB], clock=request.app[CLOCK])
    body = FairnessOut(
        equal_wait=[
            EqualWaitOut(
                band=c.band,
                category=c.category,
                dimension=c.dimension,
                value=c.value,
                count=c.count,
                median_days=c.median_days,
                p90_days=c.p90_days,
                rest_count=c.rest_count,
                rest_median_days=c.rest_median_days,
                rest_p90_days=c.rest_p90_days,
                gap=c.gap,
                p_value=c.p_value,
                q_value=c.q_value,
                ci_low_days=c.ci_low_days,
                ci_high_days=c.ci_high_days,
                flagged=c.flagged,
                untested=c.untested,
            )
            for c in report.equal_wait
        ],
        waiting=[
            WaitingOut(group=w.group, value=w.value, count=w.count, median_days=w.median_days, p90_days=w.p90_days)
            for w in report.waiting
        ],
        changes_by_reason=dict(sorted(report.changes_by_reason.items())),
        queue_jumps=len(report.jumps),
        unjustified_jumps=sum(1 for jump in report.jumps if jump.justification is None),
    )
    return web.json_response(body.model_dump(mode="json"))


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The path in the OpenAPI document (ref and json: the document's own helpers)."""
    return {
        "/api/v1/audit/fairness": {
            "get": {
                "operationId": "auditFairness",
                "summary": "The fairness report: equal waits at equal priority, waits by group, changes, queue jumps",
                "description": "The staff session cookie. Roles: auditor, manager, administrators. Read-only; "
                "no request is named.",
                "responses": {
                    "200": json("FairnessOut", "The report"),
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                },
            }
        }
    }
