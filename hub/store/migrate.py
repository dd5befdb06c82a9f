"""Schema migrations through Alembic, run on the hub's own engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hub.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def current_revision(db: Database) -> str | None:
    def _read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_read)


async def is_empty(db: Database) -> bool:
    """True when the database has none of our tables (a fresh install).

    Alembic keeps an empty ``alembic_version`` table after a downgrade to
    ``base``; with no revision recorded in it the database still counts as empty.
    """

    def _empty(conn: Connection) -> bool:
        names = sa.inspect(conn).get_table_names()
        if any(name in names for name in ("contacts", "messages")):
            return False
        return MigrationContext.configure(conn).get_current_revision() is None

    async with db.engine.connect() as conn:
        return await conn.run_sync(_empty)


async def _run(db: Database, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command on the hub's own engine, in one transaction."""

    def _step(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        step(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_step)


async def upgrade(db: Database, revision: str = "head") -> None:
    await _run(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    await _run(db, command.downgrade, revision)
