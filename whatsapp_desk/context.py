"""What one inbound WhatsApp message brings, and what the desk needs from the application to answer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from followup.attachments import AttachmentStore
from majlis.settings import Settings
from notify.channels import MediaFetcher
from scheduler.confirmations import ConfirmationPolicy, policy_from
from whatsapp_desk.media import MediaRef

# A message carries at most ten files (Twilio's own limit); more announced are ignored.
MAX_MEDIA = 10


@dataclass(frozen=True)
class Inbound:
    """A message as Twilio posted it: the sender (E.164, WhatsApp-verified), its text, its id and its files."""

    sender: str
    body: str
    message_sid: str
    media: tuple[MediaRef, ...] = ()


@dataclass(frozen=True)
class DeskContext:
    """The application's parts and settings the desk answers with."""

    status_url: str
    portal_url: str
    policy: ConfirmationPolicy
    fetcher: MediaFetcher | None
    store: AttachmentStore
    # Inbound messages per contact in any 60 seconds before the desk asks the sender to wait.
    rate_per_minute: int
    # Silence after which a conversation left mid-way asks whether to continue or start over.
    expiry: timedelta
    duplicate_window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings, *, fetcher: MediaFetcher | None, store: AttachmentStore) -> DeskContext:
        public = settings.public_url.rstrip("/")
        return cls(
            status_url=public + "/status",
            portal_url=public + "/",
            policy=policy_from(settings),
            fetcher=fetcher,
            store=store,
            rate_per_minute=settings.whatsapp_rate_per_minute,
            expiry=timedelta(hours=settings.whatsapp_expiry_hours),
            duplicate_window=timedelta(days=settings.duplicate_window_days),
        )
