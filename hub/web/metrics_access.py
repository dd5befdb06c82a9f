"""Who may read ``/metrics``: listed addresses, or a request with the bearer token.

The counters say how many citizens wrote, on which channel, and what failed: not for
the public. The embedded default allows the machine itself (127.0.0.1, ::1), which is
all a hub bound to 127.0.0.1 can be reached from; a scraper elsewhere gets an address
in ``security.metrics_allow`` or the ``security.metrics_token``.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from hub.client_ip import client_ip, trusted_networks, within
from hub.config import Settings


class MetricsAccess:
    """Decides per request; built once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self._allow = trusted_networks(settings.security.metrics_allow)
        self._proxies = trusted_networks(settings.server.trusted_proxies)
        self._token = settings.security.metrics_token.encode()

    def allows(self, request: web.BaseRequest) -> bool:
        """True for the right bearer token (compared in constant time) or an allowed address.

        A request that names a forwarded client while its peer is no trusted proxy came
        through a proxy nobody told us about: its peer (the proxy, often 127.0.0.1) says
        nothing about the client, so only the token opens it."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if self._token and scheme.lower() == "bearer":
            return hmac.compare_digest(token.strip().encode(), self._token)
        if not self._proxies_trusted(request) and (
            "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
        ):
            return False
        return within(client_ip(request, self._proxies), self._allow)

    def _proxies_trusted(self, request: web.BaseRequest) -> bool:
        return within(request.remote or "", self._proxies)
