"""`majlis whatsapp say`: the desk answered from the command line in development, refused elsewhere."""

from __future__ import annotations

from tests.majlis.test_cli import env, run

__all__ = ["env"]


def test_a_conversation_from_the_command_line(env: dict[str, str]) -> None:
    assert run(["db", "upgrade"], env).returncode == 0
    greeting = run(["whatsapp", "say", "--from", "0501234567", "Hello"], env)
    assert greeting.returncode == 0, greeting.stderr
    assert "staff" in greeting.stdout  # the menu, in English since the message was
    chosen = run(["whatsapp", "say", "--from", "+966501234567", "1"], env)
    assert chosen.returncode == 0, chosen.stderr
    assert "full name" in chosen.stdout  # the same conversation: the number was read the same both ways

    wrong = run(["whatsapp", "say", "--from", "not a phone", "1"], env)
    assert wrong.returncode == 2 and "not a mobile number" in wrong.stderr

    production = {
        **env,
        "MAJLIS_ENVIRONMENT": "production",
        "MAJLIS_SECRET_KEY": "x" * 48,
        "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL": "deputy@mofa.example.sa",
        "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE": "+966501234567",
    }
    refused = run(["whatsapp", "say", "--from", "+966501234567", "1"], production)
    assert refused.returncode == 2 and "development only" in refused.stderr
