"""The demo's data about service quality that people read: names, requests, comments and review notes.

They are what a person typed, kept in English here and written in Arabic from the catalogs (msgctxt
"demo data"), as the demo's applicants and staff speak it; majlis/demo_quality.py draws from them.
"""

from __future__ import annotations

from typing import Final

from majlis.i18n import NP_

TABLETS: Final = {
    "riyadh": NP_("demo data", "Rating tablet, reception desk 1"),
    "jeddah": NP_("demo data", "Rating tablet, reception desk 1"),
}

FIRST_NAMES: Final = {
    "male": (
        NP_("demo data", "Abdulrahman"),
        NP_("demo data", "Sultan"),
        NP_("demo data", "Majed"),
        NP_("demo data", "Turki"),
        NP_("demo data", "Faisal"),
        NP_("demo data", "Yousef"),
        NP_("demo data", "Ibrahim"),
        NP_("demo data", "Mishal"),
    ),
    "female": (
        NP_("demo data", "Amal"),
        NP_("demo data", "Jawaher"),
        NP_("demo data", "Reema"),
        NP_("demo data", "Sarah"),
        NP_("demo data", "Haya"),
        NP_("demo data", "Latifa"),
        NP_("demo data", "Mona"),
        NP_("demo data", "Dalal"),
    ),
}
FAMILY_NAMES: Final = (
    NP_("demo data", "Al-Mutairi"),
    NP_("demo data", "Al-Ghamdi"),
    NP_("demo data", "Al-Zahrani"),
    NP_("demo data", "Al-Omari"),
    NP_("demo data", "Al-Shahrani"),
    NP_("demo data", "Al-Buqami"),
    NP_("demo data", "Al-Rashidi"),
    NP_("demo data", "Al-Juhani"),
)
COMPANIES: Final = (
    NP_("demo data", "Al-Riyada Trading Establishment"),
    NP_("demo data", "Modern Construction Company"),
    NP_("demo data", "Al-Nukhba Services Company"),
    NP_("demo data", "Al-Waha Transport Establishment"),
)
RESIDENTS: Final = ("Imran Qureshi", "Maria Santos", "Omar Haddad", "Li Wei", "Samuel Okafor")
SUBJECTS: Final = {
    "audience_in_person": (
        NP_("demo data", "An audience about a stalled transaction"),
        NP_("demo data", "I ask to be received to present my transaction, delayed at the competent authority."),
    ),
    "audience_video": (
        NP_("demo data", "A video audience"),
        NP_("demo data", "I ask to be received remotely, as my health keeps me from attending."),
    ),
    "complaint": (
        NP_("demo data", "A complaint about a delayed procedure"),
        NP_("demo data", "I applied months ago and have had no answer yet."),
    ),
    "petition": (
        NP_("demo data", "A plea about a land grant"),
        NP_("demo data", "I ask that my grant application, made years ago, be considered."),
    ),
    "enquiry": (
        NP_("demo data", "An enquiry about a request's status"),
        NP_("demo data", "I would like to know what became of my earlier request."),
    ),
    "suggestion": (
        NP_("demo data", "A suggestion to improve the service"),
        NP_("demo data", "I suggest letting people book their attendance by message."),
    ),
}
COMMENTS: Final[dict[int, tuple[tuple[str, str] | str, ...]]] = {
    1: (
        NP_("demo data", "I waited over an hour and nobody told me why."),
        NP_("demo data", "I found nobody to answer my question."),
    ),
    2: (
        NP_("demo data", "The employee did not explain clearly what was needed."),
        NP_("demo data", "The place is crowded and there are not enough seats."),
    ),
    5: (NP_("demo data", "Thank you for the kind welcome and the quick service."), ""),
}
REVIEWS: Final = (
    (
        "long_wait",
        "coaching",
        NP_(
            "demo data",
            "Checked the arrivals log: the call was late for want of a morning employee; the supervisor was coached.",
        ),
    ),
    (
        "unclear_information",
        "process_change",
        NP_("demo data", "A guide to the documents needed was added at the reception desk."),
    ),
    ("facilities", "no_fault", NP_("demo data", "Crowding on a peak day; no fault of the employee.")),
    (
        "staff_conduct",
        "coaching",
        NP_("demo data", "The employee's manner was discussed; their work will be followed up."),
    ),
)
