"""The channels the settings ask for: printed, dropped, or the real providers (Twilio, SMTP)."""

from __future__ import annotations

from majlis.settings import Settings
from notify.channels import Channels, MediaFetcher, console_channels, null_channels
from notify.email_channel import SmtpEmail
from notify.links import Links
from notify.twilio_channels import twilio_channels
from notify.twilio_media import TwilioMediaFetcher


def channels_for(settings: Settings) -> Channels:
    if settings.notify_backend == "console":
        return console_channels()
    if settings.notify_backend == "null":
        return null_channels()
    channels = dict(
        twilio_channels(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            api_base=settings.twilio_api_base,
            sms_sender=settings.sms_sender,
            whatsapp_from=settings.twilio_whatsapp_from,
            voice_from=settings.twilio_voice_from,
            voices={
                "ar": (settings.twilio_voice_ar, settings.twilio_voice_language_ar),
                "en": (settings.twilio_voice_en, settings.twilio_voice_language_en),
            },
            whatsapp_templates=settings.whatsapp_templates,
        )
    )
    channels["email"] = SmtpEmail(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
        sender=settings.mail_from,
    )
    return Channels(channels)


def media_fetcher_for(settings: Settings) -> MediaFetcher | None:
    """Twilio's media fetcher when the account is configured (sid and auth token), whatever sends the notices:
    the files come from Twilio even when messages are printed. None without an account (the console backend
    in development): a message with media is then answered that the file could not be read."""
    token = settings.twilio_auth_token.get_secret_value()
    if not settings.twilio_account_sid or not token:
        return None
    return TwilioMediaFetcher(
        account_sid=settings.twilio_account_sid, auth_token=token, api_base=settings.twilio_api_base
    )


def links_for(settings: Settings) -> Links:
    return Links(public_url=settings.public_url, secret=settings.secret_key.get_secret_value())
