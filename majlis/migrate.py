"""Alembic migrations, the only way the schema changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS = Path(migrations.__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database's schema up to the revision."""
    await _run(engine, lambda connection: command.upgrade(alembic_config(connection), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database's schema back down to the revision."""
    await _run(engine, lambda connection: command.downgrade(alembic_config(connection), revision))


async def _run(engine: AsyncEngine, step: Callable[[Connection], None]) -> None:
    """Runs the step in one transaction. On SQLite foreign keys are off meanwhile (the pragma only
    changes outside a transaction): batch mode rebuilds a table by dropping it, and with them on that
    drop deletes every row referring to it (ON DELETE CASCADE) or fails. They are checked before commit."""

    def _pragma(connection: Connection, sql: str) -> None:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql)
        cursor.close()

    def _migrate(connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                step(connection)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration leaves rows with broken foreign keys: {broken[:10]}")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")

    async with engine.connect() as connection:
        await connection.run_sync(_migrate)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)
