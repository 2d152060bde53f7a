from pathlib import Path

import pytest

from majlis.settings import DEVELOPMENT_SECRET_KEY, SettingsError, load_settings


def test_defaults_serve_a_newcomer() -> None:
    settings = load_settings({})
    assert settings.environment == "development"
    assert settings.database_url_value == "sqlite+aiosqlite:///./var/majlis.db"
    assert settings.notify_backend == "console"
    assert settings.default_language == "ar" and settings.timezone == "Asia/Riyadh"


def test_environment_variables_are_read_and_typed() -> None:
    settings = load_settings({"MAJLIS_PORT": "9000", "MAJLIS_JOBS_ENABLED": "false", "PATH": "/bin"})
    assert settings.port == 9000 and settings.jobs_enabled is False


def test_a_toml_file_is_read_and_variables_win(tmp_path: Path) -> None:
    config = tmp_path / "majlis.toml"
    config.write_text('port = 9100\nsms_sender = "GOV"\n', encoding="utf-8")
    settings = load_settings({"MAJLIS_CONFIG": str(config), "MAJLIS_PORT": "9200"})
    assert settings.sms_sender == "GOV" and settings.port == 9200


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(SettingsError, match="MAJLIS_SECRET_KEY"):
        load_settings({"MAJLIS_ENVIRONMENT": "production"})
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"MAJLIS_ENVIRONMENT": "production", "MAJLIS_SECRET_KEY": "short"})
    ok = load_settings({**PRODUCTION, "MAJLIS_SECRET_KEY": "x" * 40})
    assert ok.environment == "production"


# What a deployment must set besides its secret.
PRODUCTION = {
    "MAJLIS_ENVIRONMENT": "production",
    "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL": "deputy@mofa.gov.sa",
    "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE": "+966501234567",
}


def test_production_refuses_the_consular_deputys_placeholders() -> None:
    secret = {"MAJLIS_SECRET_KEY": "x" * 40}
    with pytest.raises(SettingsError, match="MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL"):
        load_settings(
            {**PRODUCTION, **secret, "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL": "consular.deputy@example.gov.sa"}
        )
    for phone in ("", "0501234567", "+96650", "not a phone"):
        with pytest.raises(SettingsError, match="MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE"):
            load_settings({**PRODUCTION, **secret, "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE": phone})
    # Development and the tests keep the placeholders.
    assert load_settings({}).emergency_consular_deputy_phone == ""
    assert load_settings({"MAJLIS_ENVIRONMENT": "test", **secret}).emergency_consular_deputy_phone == ""


def test_roster_gaps_are_looked_for_at_least_two_hours_ahead() -> None:
    with pytest.raises(SettingsError, match="MAJLIS_EMERGENCY_ROSTER_LOOKAHEAD_HOURS"):
        load_settings({"MAJLIS_EMERGENCY_ROSTER_LOOKAHEAD_HOURS": "1"})
    assert load_settings({"MAJLIS_EMERGENCY_ROSTER_LOOKAHEAD_HOURS": "2"}).emergency_roster_lookahead_hours == 2


def test_secrets_are_masked_when_printed() -> None:
    settings = load_settings(
        {"MAJLIS_SECRET_KEY": "s3cret-value", "MAJLIS_DATABASE_URL": "postgresql+asyncpg://u:pw123@db/majlis"}
    )
    shown = repr(settings) + str(settings)
    assert "s3cret-value" not in shown and "pw123" not in shown
    assert DEVELOPMENT_SECRET_KEY not in repr(load_settings({}))


def test_unknown_and_malformed_settings_are_named() -> None:
    with pytest.raises(SettingsError, match="MAJLIS_PROT is not a Majlis setting"):
        load_settings({"MAJLIS_PROT": "1"})
    with pytest.raises(SettingsError, match="MAJLIS_PORT"):
        load_settings({"MAJLIS_PORT": "eighty"})
    with pytest.raises(SettingsError, match="MAJLIS_CONFIG"):
        load_settings({"MAJLIS_CONFIG": "/no/such/file.toml"})


def test_lists_and_tables_come_from_the_environment_as_json() -> None:
    settings = load_settings(
        {
            "MAJLIS_CONFIRMATION_CHANNELS": '["sms", "voice"]',
            "MAJLIS_WHATSAPP_TEMPLATES": '{"confirmation_ar": "HX0123"}',
        }
    )
    assert settings.confirmation_channels == ("sms", "voice")
    assert settings.whatsapp_templates == {"confirmation_ar": "HX0123"}
    with pytest.raises(SettingsError, match="MAJLIS_CONFIRMATION_CHANNELS"):
        load_settings({"MAJLIS_CONFIRMATION_CHANNELS": '["sms", "pigeon"]'})
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_settings({"MAJLIS_WHATSAPP_TEMPLATES": "{broken"})


def test_a_batch_must_go_out_well_within_the_claim_timeout() -> None:
    with pytest.raises(SettingsError, match="CLAIM_TIMEOUT"):
        load_settings({}, outbox_batch=100, outbox_rate_per_second=100, outbox_claim_timeout_seconds=2)
    assert load_settings({}, outbox_batch=10, outbox_rate_per_second=40, outbox_claim_timeout_seconds=1)
