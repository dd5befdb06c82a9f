"""The one-click unsubscribe link of announcement mails (RFC 8058).

``GET /unsubscribe/<token>`` shows a page with one button, so a mail scanner that
follows links does not unsubscribe anyone; ``POST`` to the same address (the button,
or a mail client's one-click ``List-Unsubscribe=One-Click``) unsubscribes the citizen
from every topic and records it as consent withdrawn by ``email_link``. Who may use
it: whoever holds the signed token of the mail (hub.announcements.unsubscribe_links);
any other token gets 404 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jinja2
from aiohttp import web

from hub.announcements import Subscriptions
from hub.announcements.unsubscribe_links import contact_of

PATH = "/unsubscribe/{token}"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_unsubscribe_routes(
    app: web.Application,
    subscriptions: Subscriptions,
    secret: bytes,
    env: jinja2.Environment,
) -> None:
    """Mount the page and its one-click POST on ``app``."""

    def page(status: int, state: str) -> web.Response:
        html = env.get_template("unsubscribe.html").render(state=state)
        return web.Response(text=html, status=status, content_type="text/html", headers=HEADERS)

    def handler(unsubscribe: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            contact_id = contact_of(request.match_info["token"], secret)
            if contact_id is None:
                return page(404, "unknown")
            if not unsubscribe:
                return page(200, "ask")
            await subscriptions.unsubscribe(
                contact_id, None, channel="email", words="List-Unsubscribe", source="email_link"
            )
            return page(200, "done")

        return handle

    app.router.add_get(PATH, handler(unsubscribe=False))
    app.router.add_post(PATH, handler(unsubscribe=True))
