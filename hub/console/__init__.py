"""The officers' web console under ``/console`` (aiohttp + Jinja2).

What other console features use:

- ``console_app(ctx)``: the console's own application, which ``hub.app`` mounts at
  ``CONSOLE_PREFIX`` when ``console.enabled``;
- ``current_officer(request)``, ``require_role(request, Role.SUPERVISOR)``;
- ``render(request, "page.html", active="tickets", **data)`` for a page in
  ``templates/console``;
- ``audit(request, action, target_kind, target_id, detail, conn=...)``;
- ``console_context(request)`` for the database, settings, clock and coordinator.

The console may use the domain, the store, the outbox and the config, never the
channels or the dialogs.
"""

from hub.console.audit_trail import audit
from hub.console.console_deps import CONTEXT, ConsoleContext, console_context
from hub.console.officer_login import ConsoleSession, Officer, Role
from hub.console.pages import render
from hub.console.session import (
    SESSION,
    current_officer,
    current_session,
    require_role,
    wants_json,
)
from hub.console.web import CONSOLE_PREFIX, console_app

__all__ = [
    "CONSOLE_PREFIX",
    "CONTEXT",
    "SESSION",
    "ConsoleContext",
    "ConsoleSession",
    "Officer",
    "Role",
    "audit",
    "console_app",
    "console_context",
    "current_officer",
    "current_session",
    "render",
    "require_role",
    "wants_json",
]
