"""Alembic environment: runs on a connection majlis.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from majlis.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `majlis db upgrade`, which provides the connection")
run(connection)
