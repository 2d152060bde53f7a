"""history notes in words: the allocator's older notes in a request's history (its explanation in English, written
before the note was a catalog message) become that message and its figures, so each reader sees it in their language

Revision ID: 8e4a1c6d2f90
Revises: 5c2e8a4f7b13
Create Date: 2026-12-07 19:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4a1c6d2f90"
down_revision: str | None = "5c2e8a4f7b13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# scheduler.service.PLACED_IN_ORDER as it is now (a migration keeps its own copy: the code may change after it; the
# test of this migration checks they are still the same message).
PLACED_IN_ORDER = "Given the earliest suitable seat in priority order: score {score}, number {rank} in the order."
# The allocator's explanation (scheduler.allocation) began so, alone or after "offered at short notice (…): ".
_EXPLANATION = re.compile(r"\bscore (-?\d+(?:\.\d+)?), rank (\d+) of \d+;")

changes = sa.table(
    "status_changes",
    sa.column("id", sa.Integer),
    sa.column("to_status", sa.String),
    sa.column("actor_id", sa.Integer),
    sa.column("note", sa.Text),
    sa.column("note_key", sa.String),
    sa.column("note_params", sa.JSON),
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(changes.c.id, changes.c.note).where(
            changes.c.to_status == "scheduled", changes.c.note_key == "", changes.c.actor_id.is_(None)
        )
    ).all()
    for change_id, note in rows:
        found = _EXPLANATION.search(note or "")
        if found is None:
            continue
        connection.execute(
            sa.update(changes)
            .where(changes.c.id == change_id)
            .values(note_key=PLACED_IN_ORDER, note_params={"score": f"{float(found[1]):.1f}", "rank": found[2]})
        )


def downgrade() -> None:
    # Nothing to undo: the note itself was left as it was, and the code before this revision reads note_key too.
    pass
