"""``audit(request, ...)``: every officer action leaves a row in the audit log.

Pass the handler's own connection as ``conn`` to write the event in the same
transaction as the change it describes: then either both are stored or neither.
Phone numbers and NIKs are masked by the store, but leave them out of ``detail``
anyway; the target's id says which citizen's thing it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.console.console_deps import CONTEXT
from hub.console.session import current_officer
from hub.store import audit as audit_store


async def audit(
    request: web.Request,
    action: str,
    target_kind: str = "",
    target_id: str | int = "",
    detail: Mapping[str, Any] | None = None,
    *,
    conn: AsyncConnection | None = None,
) -> None:
    """Record that the request's officer did ``action`` to ``target_kind``/``target_id``."""
    ctx = request.app[CONTEXT]
    values: dict[str, Any] = {
        "at": ctx.clock(),
        "officer_id": current_officer(request).id,
        "action": action,
        "target_kind": target_kind,
        "target_id": target_id,
        "detail": detail,
    }
    if conn is not None:
        await audit_store.record(conn, **values)
        return
    async with ctx.db.begin() as own:
        await audit_store.record(own, **values)
