"""The staff roles of Majlis; each reaches only its own pages."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    INTAKE_DESK = "intake_desk"
    CALL_CENTRE = "call_centre"
    AUDIT_DESK = "audit_desk"
    PROTOCOL = "protocol"
    WOMEN_SECTION = "women_section"
    OFFICIAL = "official"
    FOLLOW_UP = "follow_up"
    # Reads reports and the fairness record; added with triage (managers review the queue's fairness).
    MANAGER = "manager"
    ADMINISTRATOR = "administrator"
    # An officer of a department, confined to that department's referrals.
    DEPARTMENT_LIAISON = "department_liaison"
    # Staff of the WhatsApp desk: its inbox, hand-overs and replies.
    WHATSAPP_DESK = "whatsapp_desk"
    # The emergency line: the unified contact centre's agents, a mission's staff (confined to its own
    # mission's reports), and the ministry's consular supervisors (every report, the rosters, the reports).
    EMERGENCY_AGENT = "emergency_agent"
    MISSION_STAFF = "mission_staff"
    CONSULAR_SUPERVISOR = "consular_supervisor"
    # Reads the fairness report, the placements' explanations and the chain's verification; changes nothing,
    # and sees no applicant's national ID or phone.
    AUDITOR = "auditor"
