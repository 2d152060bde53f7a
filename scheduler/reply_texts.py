"""What Majlis answers to a reply, on WhatsApp or at the end of the call, in the applicant's language.

Like every message text they carry no request text; the voice texts carry no
address (nobody can type a URL they heard).
"""

from __future__ import annotations

import enum

from notify.texts import REPLY_CHOICES


class Understood(enum.StrEnum):
    """What Majlis made of a reply (`InboundMessage.understood_as`)."""

    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    # An answer, but no confirmation awaits one from this number.
    UNMATCHED = "unmatched"
    # Not an answer Majlis knows.
    UNPARSED = "unparsed"
    # An answer the timeline refused (the appointment changed or its time passed meanwhile).
    REFUSED = "refused"
    # An answer from a number with more than one audience awaiting one: which is meant cannot be told.
    AMBIGUOUS = "ambiguous"


_WHATSAPP: dict[Understood, dict[str, str]] = {
    Understood.AMBIGUOUS: {
        "ar": "لديكم أكثر من موعد ينتظر إجابتكم، فنرجو الإجابة من الرابط الوارد في رسالة كل طلب. "
        "للمتابعة: {status_url}",
        "en": "More than one of your audiences awaits an answer: please answer from the link in each request's "
        "message. Follow them: {status_url}",
    },
    Understood.CONFIRMED: {
        "ar": "شكرًا لكم، تم تأكيد موعد مقابلتكم للطلب رقم {number}.",
        "en": "Thank you: your audience for request {number} is confirmed.",
    },
    Understood.RESCHEDULED: {
        "ar": "بناءً على طلبكم أُلغي موعد الطلب رقم {number}، وسيصلكم الموعد الجديد برسالة نصية.",
        "en": "As you asked, the date of request {number} is freed; the new date will be sent to you by SMS.",
    },
    Understood.CANCELLED: {
        "ar": "بناءً على طلبكم أُلغيت مقابلة الطلب رقم {number}، وسيُتابَع طلبكم كتابيًا. للمتابعة: {status_url}",
        "en": (
            "As you asked, the audience of request {number} is cancelled; your request continues in writing. "
            "Follow it: {status_url}"
        ),
    },
    Understood.OPTED_OUT: {
        "ar": "لن تصلكم رسائل واتساب منّا بعد الآن. لإعادة الاشتراك أرسلوا: اشتراك",
        "en": "You will no longer receive WhatsApp messages from us. To receive them again, send START.",
    },
    Understood.OPTED_IN: {
        "ar": "ستصلكم رسائلنا عبر واتساب من جديد.",
        "en": "You will receive our WhatsApp messages again.",
    },
    Understood.UNMATCHED: {
        "ar": "لا يوجد موعد بانتظار ردكم من هذا الرقم. لمتابعة طلبكم: {status_url}",
        "en": "No audience is awaiting your answer from this number. Follow your request: {status_url}",
    },
    Understood.UNPARSED: {
        "ar": "لم نفهم ردكم. " + REPLY_CHOICES["ar"],
        "en": "We did not understand your reply. " + REPLY_CHOICES["en"],
    },
    Understood.REFUSED: {
        "ar": "تغيّر هذا الموعد أو مضى وقته؛ تابعوا آخر رسالة منّا. {status_url}",
        "en": "This appointment has changed or its time has passed; see our latest message. {status_url}",
    },
}

_VOICE: dict[Understood, dict[str, str]] = {
    Understood.CONFIRMED: {
        "ar": "شكرًا لكم، تم تأكيد موعد مقابلتكم. مع السلامة.",
        "en": "Thank you. Your audience is confirmed. Goodbye.",
    },
    Understood.RESCHEDULED: {
        "ar": "بناءً على طلبكم أُلغي هذا الموعد، وسيصلكم الموعد الجديد برسالة نصية. مع السلامة.",
        "en": "As you asked, this date is freed; the new date will be sent to you by text message. Goodbye.",
    },
    Understood.CANCELLED: {
        "ar": "بناءً على طلبكم أُلغيت المقابلة، وسيُتابَع طلبكم كتابيًا. مع السلامة.",
        "en": "As you asked, the audience is cancelled; your request continues in writing. Goodbye.",
    },
    Understood.UNPARSED: {
        "ar": "لم نتعرّف على اختياركم. سنتواصل معكم، ويمكنكم الرد عبر الرابط في الرسالة النصية. مع السلامة.",
        "en": "We did not recognise your choice. We will contact you; you can also answer with the link "
        "in our text message. Goodbye.",
    },
    Understood.REFUSED: {
        "ar": "تغيّر هذا الموعد أو مضى وقته. تابعوا آخر رسالة منّا. مع السلامة.",
        "en": "This appointment has changed or its time has passed. Please see our latest message. Goodbye.",
    },
}

# Said when the keypad answer arrives after the audience began (the link has expired).
AUDIENCE_PASSED = {
    "ar": "لقد مضى وقت هذه المقابلة. مع السلامة.",
    "en": "The time of this audience has passed. Goodbye.",
}


def reply_text(
    *, channel: str, understood: Understood, language: str | None, number: str = "", status_url: str = ""
) -> str:
    """The answer to a reply; with no known language, Arabic then English (WhatsApp) or Arabic (voice)."""
    texts = _VOICE if channel == "voice" else _WHATSAPP
    by_language = texts.get(understood) or texts[Understood.UNPARSED]
    if understood is Understood.UNPARSED and channel == "whatsapp" and not number:
        # Nothing awaits an answer from this number: the 1/2/3 choices would mislead.
        by_language = texts[Understood.UNMATCHED]
    if language in by_language:
        return by_language[language].format(number=number, status_url=status_url)
    if channel == "voice":
        return by_language["ar"].format(number=number, status_url=status_url)
    return "\n".join(by_language[lang].format(number=number, status_url=status_url) for lang in ("ar", "en"))
