"""Settings: one validated object built from MAJLIS_* variables and an optional TOML file.

The settings are built by the app factory and the command line, never at import
time, so tests can build as many differently configured apps as they need.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

# A newcomer's `make run` works with this key; anything but development refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 (refused outside development)

Environment = Literal["development", "test", "production"]


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
    session_hours: int = Field(default=10, ge=1, le=24 * 14)
    # Login throttle: this many failures for one account or one address in the
    # window refuses further attempts until the window has passed.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # Status enquiries that match nothing, per address in the same window.
    lookup_max_misses: int = Field(default=20, ge=1)
    notify_backend: Literal["console", "null"] = "console"
    # Urgent arrivals: place a critical or urgent request as soon as it is routed to an audience,
    # and let a critical one displace the latest-priority appointment not yet confirmed.
    place_urgent_on_route: bool = True
    # An allocation run fills the sessions starting within this many days: a week
    # until the next weekly run plus the 3 days' notice, so no session falls between two runs.
    allocation_horizon_days: int = Field(default=10, ge=4, le=120)
    critical_may_displace: bool = True
    # Whether protocol may import the official's calendar from an address inside
    # the network (loopback, private ranges); off, so the form cannot reach internal services.
    calendar_fetch_private: bool = False
    # Requests of one applicant or phone this close together are compared for duplicates.
    duplicate_window_days: int = Field(default=90, ge=1, le=3650)
    sms_sender: str = "MAJLIS"
    # Periodic jobs (the outbox dispatcher for now); tests switch them off and
    # call the jobs themselves with a moved clock.
    jobs_enabled: bool = True
    outbox_interval_seconds: float = Field(default=5.0, gt=0)

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
        return self

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
        values[field] = value
    values.update(overrides)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"MAJLIS_{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(problems) from exc
