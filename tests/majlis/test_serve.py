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
