"""`majlis serve --workers`: the default per environment, and SQLite's refusal of more than one worker."""

from __future__ import annotations

import os

import pytest

from majlis import serve
from majlis.cli import main
from tests.conftest import make_settings


def test_more_than_one_worker_on_sqlite_is_refused_clearly(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAJLIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/majlis.db")
    assert main(["serve", "--workers", "2"]) == 2
    error = capsys.readouterr().err
    assert "--workers 2 needs PostgreSQL" in error and "--workers 1" in error
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_the_default_is_the_core_count_in_production_on_postgresql_and_one_otherwise() -> None:
    postgres = "postgresql+asyncpg://majlis@localhost/majlis"
    cores = len(os.sched_getaffinity(0))
    assert serve.default_workers(make_settings(postgres)) == 1
    production = make_settings(
        postgres,
        environment="production",
        secret_key="s" * 40,
        emergency_consular_deputy_email="deputy@mofa.example.gov.sa",
        emergency_consular_deputy_phone="+966112345678",
    )
    assert serve.default_workers(production) == cores
    sqlite = production.model_copy(update={"database_url": make_settings("sqlite+aiosqlite:///x.db").database_url})
    assert serve.default_workers(sqlite) == 1


def test_a_worker_dying_again_soon_is_replaced_after_a_delay_that_doubles() -> None:
    supervisor = serve.Supervisor(make_settings("postgresql+asyncpg://majlis@localhost/majlis"), 2)
    moment, delays = 1000.0, []
    for gap in (0, 5, 5, 5, 5, 5, 5, 5):
        moment += gap
        delays.append(supervisor._next_restart_delay(moment))
    # The first death after a calm spell: at once; then 1 s, doubling, up to the most.
    assert delays == [0, 1, 2, 4, 8, 16, serve.RESTART_DELAY_MOST, serve.RESTART_DELAY_MOST]
    assert supervisor._next_restart_delay(moment + serve.CALM_SECONDS + 1) == 0
