"""Bridge workers are PostgreSQL's: `majlis bridge` and MAJLIS_VIDEO_BRIDGE_ON_WORKERS are refused on SQLite, whose
one-process pubsub cannot reach another process (every bridged call would wait for a worker, then be refused)."""

from __future__ import annotations

import os

import pytest

from majlis.cli import main
from majlis.settings import SettingsError, load_settings


def test_majlis_bridge_on_sqlite_is_refused_clearly(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAJLIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/majlis.db")
    assert main(["bridge", "--name", "w1"]) == 2
    error = capsys.readouterr().err
    assert "majlis bridge needs PostgreSQL" in error and "MAJLIS_DATABASE_URL" in error


def test_bridged_calls_on_workers_are_refused_on_sqlite_and_accepted_on_postgresql() -> None:
    sqlite = {"MAJLIS_DATABASE_URL": "sqlite+aiosqlite:///./var/majlis.db", "MAJLIS_VIDEO_BRIDGE_ON_WORKERS": "true"}
    with pytest.raises(SettingsError, match="MAJLIS_VIDEO_BRIDGE_ON_WORKERS needs PostgreSQL"):
        load_settings(sqlite)
    assert not load_settings({**sqlite, "MAJLIS_VIDEO_BRIDGE_ON_WORKERS": "false"}).video_bridge_on_workers
    postgres = {**sqlite, "MAJLIS_DATABASE_URL": "postgresql+asyncpg://majlis@localhost/majlis"}
    assert load_settings(postgres).video_bridge_on_workers
