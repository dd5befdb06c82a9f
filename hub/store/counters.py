"""Per-key counters that never give a number twice (queue numbers, ticket numbers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.database import Database


async def next_in_sequence(db: Database, conn: AsyncConnection, table: sa.Table, **key: Any) -> int:
    """The next number for ``key`` in ``table`` (a ``last_number`` column), from 1.

    One upsert: the first use of a key creates its row at 1, every later one raises
    it under the row's lock and reads the value it wrote, so concurrent callers in
    any number of processes never share a number.
    """
    insert = db.insert(table).values(**key, last_number=1)
    number = await conn.scalar(
        insert.on_conflict_do_update(
            index_elements=list(key), set_={"last_number": table.c.last_number + 1}
        ).returning(table.c.last_number)
    )
    if number is None:
        raise RuntimeError(f"no number from {table.name} for {key}")
    return int(number)
