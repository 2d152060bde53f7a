"""Settings: one validated object built from MAJLIS_* variables and an optional TOML file.

The settings are built by the app factory and the command line, never at import
time, so tests can build as many differently configured apps as they need.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

# A newcomer's `make run` works with this key; anything but development refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 (refused outside development)

Environment = Literal["development", "test", "production"]
PLACEHOLDER_DEPUTY_EMAIL = "consular.deputy@example.gov.sa"


def _valid_phone(raw: str) -> bool:
    """A valid phone number in E.164 (any country): the deputy's SMS and calls go to it."""
    text = raw.strip()
    if not text.startswith("+"):
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(text, None)))
    except phonenumbers.NumberParseException:
        return False


class SettingsError(Exception):
    """The settings are missing, malformed or unsafe; the message says which."""


class Settings(BaseModel):
    """Everything Majlis reads from its environment, validated once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: Environment = "development"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./var/majlis.db")
    database_echo: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # The address applicants and webhooks reach us at; links in messages use it.
    public_url: str = "http://127.0.0.1:8080"
    timezone: str = "Asia/Riyadh"
    default_language: Literal["ar", "en"] = "ar"
    # Largest request body accepted, in bytes; larger bodies get 413.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # A staff session ends this many hours after sign-in (absolute), or after this many idle minutes.
    session_hours: int = Field(default=10, ge=1, le=24 * 14)
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # At most this many sessions per staff account: signing in once more ends the oldest.
    max_sessions_per_user: int = Field(default=5, ge=1, le=100)
    # Two-factor sign-in is required for administrator, official, protocol, audit and manager; this extends
    # it to every staff role.
    two_factor_all_roles: bool = False
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, e.g. "10.0.0.0/8"); the
    # client address for throttles is the last address in the chain not among them. Empty: the socket's peer.
    trusted_proxies: tuple[str, ...] = ()
    # Slow clients: a request's headers must arrive within this many seconds, and its body part by part
    # (each read within body_read_timeout_seconds) and whole by that plus its size at web.slow_clients.MIN_BODY_RATE.
    header_read_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    body_read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Personal data of requests closed more than this many years ago is anonymised by a nightly job.
    retention_years: int = Field(default=5, ge=1, le=50)
    # Login throttle: this many failures for one account or one address in the
    # window refuses further attempts until the window has passed.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # Status enquiries that match nothing, per address in the same window.
    lookup_max_misses: int = Field(default=20, ge=1)
    # Where messages go: printed (make run), dropped, or to the providers (Twilio and SMTP).
    notify_backend: Literal["console", "null", "providers"] = "console"
    # Urgent arrivals (scheduler.urgent): place a critical or urgent request as soon as it is routed to an
    # audience, or sent back by its first no-show, with only those ahead of it in priority order; and let a
    # critical one whose earliest seat is beyond 7 days displace the lowest-priority appointment not yet
    # confirmed within the 7 days (of a request not critical that scores lower).
    place_urgent_on_route: bool = True
    # An allocation run fills the sessions starting within this many days: a week
    # until the next weekly run plus the 3 days' notice, so no session falls between two runs.
    allocation_horizon_days: int = Field(default=10, ge=4, le=120)
    # When the weekly allocation runs, in MAJLIS_TIMEZONE: a weekday and a time, "thu 09:00" (or "thu 09:00:30").
    weekly_allocation_at: str = Field(
        default="thu 09:00", pattern=r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
    )
    critical_may_displace: bool = True
    # Whether protocol may import the official's calendar from an address inside
    # the network (loopback, private ranges); off, so the form cannot reach internal services.
    calendar_fetch_private: bool = False
    # Requests of one applicant or phone this close together are compared for duplicates.
    duplicate_window_days: int = Field(default=90, ge=1, le=3650)
    # The registered alphanumeric sender name SMS go out under.
    sms_sender: str = Field(default="MAJLIS", min_length=1, max_length=11)
    # Periodic jobs (the outbox dispatcher, the confirmation sweep, the weekly
    # allocation); tests switch them off and call the jobs themselves with a moved clock.
    jobs_enabled: bool = True
    outbox_interval_seconds: float = Field(default=5.0, gt=0)
    # The dispatcher: messages claimed per round, sent at once, and the provider's rate.
    outbox_batch: int = Field(default=100, ge=1, le=5000)
    outbox_concurrency: int = Field(default=8, ge=1, le=256)
    outbox_rate_per_second: float = Field(default=100.0, gt=0)
    # A message claimed this long ago and still "sending" belongs to a dispatcher that
    # died: the provider is asked whether it took it before it is sent again.
    outbox_claim_timeout_seconds: float = Field(default=120.0, gt=0)
    # Passing failures are tried again after 30 s, 1 min, 2 min … up to an hour, this many times in all.
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_retry_base_seconds: float = Field(default=30.0, gt=0)
    outbox_retry_max_seconds: float = Field(default=3600.0, gt=0)

    # Twilio (notify_backend = "providers"). An empty api_base means Twilio itself;
    # tests point it at a local fake of the REST API.
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_api_base: str = ""
    twilio_whatsapp_from: str = ""
    twilio_voice_from: str = ""
    # No Twilio voice speaks Saudi Arabic: Polly.Zeina (arb), Polly.Hala-Neural or
    # Polly.Zayd-Neural (ar-AE), Google.ar-XA-Standard-A (ar-XA).
    twilio_voice_ar: str = "Polly.Zeina"
    twilio_voice_language_ar: str = "arb"
    twilio_voice_en: str = "Polly.Joanna"
    twilio_voice_language_en: str = "en-US"
    # Approved WhatsApp templates by Majlis's name for them → ContentSid (HX…).
    whatsapp_templates: dict[str, str] = Field(default_factory=dict)
    # E-mail over SMTP.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "majlis@example.gov.sa"
    # The confirmation timeline: asked this many days before the audience, on
    # these channels, within working hours; no answer after this many hours puts
    # the appointment on the call centre's list.
    confirmation_days: int = Field(default=3, ge=1, le=14)
    confirmation_channels: tuple[Literal["whatsapp", "voice", "sms", "email"], ...] = (
        "whatsapp",
        "voice",
        "sms",
        "email",
    )
    confirmation_no_answer_hours: float = Field(default=24.0, gt=0)
    # A seat freed later than this before its audience is not offered to anyone.
    backfill_min_notice_hours: float = Field(default=3.0, ge=0)
    # Applicants are asked to arrive this many minutes before their audience (status page, API,
    # calendar file): time to pass the entrance, check in at the kiosk or desk, and reach the hall
    # or the video room.
    arrive_minutes_before: int = Field(default=30, ge=0, le=240)
    # Audience day. An arrival more than this many minutes after the slot's start is late: still
    # checked in, heard after those who came in time.
    late_grace_minutes: int = Field(default=15, ge=0, le=240)
    # A first no-show sends the request back to wait once, its priority kept (its score counts from
    # the submission); a second closes it. Off: the first no-show closes the request.
    no_show_second_chance: bool = True
    # How often the sweep after sessions runs (no-shows, applicants not reached).
    end_sessions_interval_seconds: int = Field(default=300, ge=10)
    # The follow-up's monthly report e-mailed to department heads covers the last Umm al-Qura Hijri
    # month rather than the last Gregorian one (sent from the 1st of the month in that calendar).
    followup_report_hijri: bool = False
    # How often the escalation sweep looks for referrals past the next rung of their ladder.
    followup_sweep_seconds: int = Field(default=300, ge=10)
    # The WhatsApp desk: messages one number may send in a minute before the desk stops answering it for a
    # while; hours of silence after which a half-finished conversation is offered to resume or start over.
    whatsapp_rate_per_minute: int = Field(default=20, ge=1, le=600)
    whatsapp_expiry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    # The emergency line for citizens abroad. Service levels by severity: acknowledged within these minutes
    # (life-threatening around the clock; urgent in wall time too), solved or handed over within these hours;
    # a normal report is acknowledged by the end of the mission's next working day and solved within these
    # working days of the mission. The ladder: the duty officer, then the head of mission when the
    # acknowledgement is overdue, then the ministry's consular deputy one acknowledgement time later (a normal
    # report: the next working day), told again when the solution is overdue and reminded daily until solved.
    emergency_life_ack_minutes: int = Field(default=10, ge=1, le=24 * 60)
    emergency_life_solve_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    emergency_urgent_ack_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    emergency_urgent_solve_hours: float = Field(default=72.0, gt=0, le=24 * 60)
    emergency_normal_solve_working_days: int = Field(default=10, ge=1, le=120)
    # The last rung of every ladder, who also hears of roster gaps. In production a real address and a valid
    # phone (E.164) are required: a life-threatening report escalated to a placeholder reaches nobody.
    emergency_consular_deputy_name: str = "Consular deputy"
    emergency_consular_deputy_email: str = PLACEHOLDER_DEPUTY_EMAIL
    emergency_consular_deputy_phone: str = ""
    # How often the sweep looks for reports past the next rung; how far ahead roster gaps are flagged (at least
    # two hours: the hourly job must see a gap at least once before it starts).
    emergency_sweep_seconds: int = Field(default=60, ge=10)
    emergency_roster_lookahead_hours: int = Field(default=72, ge=2, le=24 * 31)
    # RTCIceServer dicts for the video pages ({"urls": [...], "username": ..., "credential": ...});
    # none on loopback and LAN, STUN and a coturn TURN server in a deployment.
    ice_servers: tuple[dict[str, str | list[str]], ...] = ()
    # The server's media bridge (room → server → official, through aiortc): "never"; "fallback", taken when
    # the direct path has not connected within video_direct_timeout_seconds; "always". Rooms listed in
    # video_bridged_rooms always go through the bridge (a room behind a network that blocks peer-to-peer).
    video_bridge: Literal["never", "fallback", "always"] = "fallback"
    video_bridged_rooms: tuple[int, ...] = ()
    video_direct_timeout_seconds: float = Field(default=10.0, gt=0)
    # Bridged calls one process carries; a call over the cap stays direct, or is refused when the room must be
    # bridged. The bridge forwards the encoded picture (issue 17): bench/video.py puts a call at about 13 % of a
    # core with the live monitor, and the bridge alone on the shared 2-core machine carried 5 at full frame rate.
    # 3 keeps room for the serve process's other work; a `majlis bridge` worker takes --capacity.
    video_bridge_max_calls: int = Field(default=3, ge=0, le=64)
    # Where bridged calls run: off, in the serve process that is the signalling home (up to video_bridge_max_calls);
    # on, on `majlis bridge` worker processes, on this machine or others, by load under each worker's own cap.
    video_bridge_on_workers: bool = False
    # Hand a received video frame to the decoder as soon as its last packet (RTP marker bit) is in,
    # rather than when the next frame begins (video/jitter.py).
    video_marker_release: bool = True
    # Recording of bridged audiences: off unless allowed here, and then only with the applicant's recorded consent.
    video_recording_allowed: bool = False
    video_recordings_dir: str = "./var/recordings"
    # The pre-call check of a room: seconds of camera and microphone judged on the server, checks at once.
    video_check_seconds: float = Field(default=4.0, ge=1.0, le=30.0)
    video_check_max_concurrent: int = Field(default=2, ge=1, le=16)
    # Attachments (applicants' evidence, departments' answers): PDF, JPEG or PNG, kept outside the static
    # files under random names; at most this many bytes each and this many files per submission.
    attachments_dir: str = "./var/attachments"
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    attachment_max_files: int = Field(default=5, ge=1, le=20)
    # The fairness record's daily anchor (fairness.anchors, docs/fairness.md): the file its line is appended to,
    # kept outside the database (better on another disk or machine, or copied off it), and the managers' e-mail
    # addresses it is sent to (none: the file alone).
    fairness_anchor_file: str = "./var/fairness-anchors.jsonl"
    fairness_anchor_recipients: tuple[str, ...] = ()
    # The one-time code an applicant gets by SMS before answering what was asked of them: how long it
    # works, how many may be sent for one request in an hour, and how many wrong tries one code takes.
    applicant_code_minutes: int = Field(default=10, ge=1, le=60)
    applicant_codes_per_hour: int = Field(default=3, ge=1, le=20)
    applicant_code_max_tries: int = Field(default=5, ge=1, le=10)
    # How long a checked code lets the status page's visitor answer (a signed cookie bound to the request).
    applicant_answer_minutes: int = Field(default=30, ge=5, le=240)
    # How long a checked code lets a browser list the requests of its phone ("my requests", a signed cookie).
    # The code itself follows the applicant_code_* settings above.
    my_requests_minutes: int = Field(default=15, ge=5, le=120)
    # Operations (docs/operations.md, "Metrics and alerts"). /metrics answers a client from these networks, or one
    # sending "Authorization: Bearer <metrics_token>" when a token is set; anyone else gets 403.
    metrics_token: SecretStr = SecretStr("")
    metrics_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # Log lines as JSON objects (one a line, with the request id), or the readable text of development.
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment != "development":
            key = self.secret_key.get_secret_value()
            if key == DEVELOPMENT_SECRET_KEY:
                raise ValueError(
                    "MAJLIS_SECRET_KEY is the development default; set a secret of your own outside development"
                )
            if len(key) < 32:
                raise ValueError("MAJLIS_SECRET_KEY must be at least 32 characters")
        if self.environment == "production":
            # Tests run as "test" with the placeholders; a deployment must name someone real.
            if self.emergency_consular_deputy_email.strip().lower() in ("", PLACEHOLDER_DEPUTY_EMAIL):
                raise ValueError(
                    "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL is the placeholder; set the consular deputy's address"
                )
            if not _valid_phone(self.emergency_consular_deputy_phone):
                raise ValueError(
                    "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE must be the consular deputy's phone in E.164 (+966…)"
                )
        return self

    @model_validator(mode="after")
    def _claims_outlast_a_batch(self) -> Settings:
        # A dispatcher hands a batch over within half the claim timeout; a batch that takes
        # longer at the provider's pace would be given back again and again.
        batch_seconds = self.outbox_batch / self.outbox_rate_per_second * 1.05
        if batch_seconds >= self.outbox_claim_timeout_seconds / 2:
            raise ValueError(
                f"MAJLIS_OUTBOX_BATCH ({self.outbox_batch}) takes {batch_seconds:.1f} s at "
                f"MAJLIS_OUTBOX_RATE_PER_SECOND ({self.outbox_rate_per_second:g}); "
                "MAJLIS_OUTBOX_CLAIM_TIMEOUT_SECONDS must be more than twice that"
            )
        return self

    @model_validator(mode="after")
    def _bridge_workers_need_postgresql(self) -> Settings:
        # The hub reaches `majlis bridge` workers through majlis.pubsub, which crosses processes only on PostgreSQL:
        # on SQLite every bridged call would wait for a worker that can never hear it, then be refused.
        if self.video_bridge_on_workers and not self.is_postgresql:
            raise ValueError(
                "MAJLIS_VIDEO_BRIDGE_ON_WORKERS needs PostgreSQL: the hub reaches `majlis bridge` workers through "
                "PostgreSQL's LISTEN/NOTIFY. Set MAJLIS_DATABASE_URL to a postgresql+asyncpg:// database, or leave "
                "it false to carry bridged calls in the serve process."
            )
        return self

    @field_validator("metrics_networks", mode="before")
    @classmethod
    def _networks_as_list(cls, value: object) -> object:
        # MAJLIS_METRICS_NETWORKS="10.0.0.0/8,::1/128" as well as a JSON list.
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _metrics_networks_are_networks(self) -> Settings:
        # Read on every scrape: a typo must stop the start, not lock the monitoring out.
        for network in self.metrics_networks:
            try:
                ipaddress.ip_network(network.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"MAJLIS_METRICS_NETWORKS: {network!r} is not an address or a network (e.g. 10.0.0.0/8)"
                ) from None
        return self

    @model_validator(mode="after")
    def _trusted_proxies_are_networks(self) -> Settings:
        # Read on every request for the client's address (web/client_address.py): a typo must stop the start,
        # not fail each request.
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"MAJLIS_TRUSTED_PROXIES: {proxy!r} is not an address or a network (e.g. 10.0.0.0/8)"
                ) from None
        return self

    def voice_for(self, language: str) -> tuple[str, str]:
        """Twilio's voice and its language code for speaking `language` (Arabic's for any Majlis does not speak)."""
        voices = {
            "ar": (self.twilio_voice_ar, self.twilio_voice_language_ar),
            "en": (self.twilio_voice_en, self.twilio_voice_language_en),
        }
        return voices.get(language, voices["ar"])

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def database_url_value(self) -> str:
        return self.database_url.get_secret_value()

    @property
    def allocation_horizon(self) -> timedelta:
        return timedelta(days=self.allocation_horizon_days)

    @property
    def upload_body_bytes(self) -> int:
        """The largest body a route taking attachments accepts: every file at its largest, and the form's fields."""
        return self.attachment_max_files * self.attachment_max_bytes + self.max_body_bytes

    @property
    def is_postgresql(self) -> bool:
        return self.database_url_value.startswith("postgresql")


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from a TOML file (MAJLIS_CONFIG), MAJLIS_* variables, then overrides.

    Later sources win. Raises SettingsError naming every bad value.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = env.get("MAJLIS_CONFIG")
    if config_path:
        try:
            with Path(config_path).open("rb") as fh:
                values.update(tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"MAJLIS_CONFIG {config_path}: {exc}") from exc
    known = Settings.model_fields
    for name, value in env.items():
        if not name.startswith("MAJLIS_") or name == "MAJLIS_CONFIG":
            continue
        field = name.removeprefix("MAJLIS_").lower()
        if field not in known:
            raise SettingsError(f"{name} is not a Majlis setting")
        if value.lstrip().startswith(("{", "[")):
            # Lists and tables (the confirmation channels, the WhatsApp templates) come as JSON.
            try:
                values[field] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise SettingsError(f"{name} is not valid JSON: {exc}") from exc
            continue
        values[field] = value
    values.update(overrides)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"MAJLIS_{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(problems) from exc
