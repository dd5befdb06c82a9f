"""Which address a request is counted under, behind a proxy or not."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from hub.client_ip import client_ip, trusted_networks


def _request(peer: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("GET", "/chat", headers=headers)
    return request.clone(remote=peer)


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_ip(_request("203.0.113.9", "1.2.3.4"), ()) == "203.0.113.9"


def test_a_client_cannot_forge_its_address_through_an_untrusted_peer() -> None:
    proxies = trusted_networks(["127.0.0.1"])
    assert client_ip(_request("203.0.113.9", "1.2.3.4"), proxies) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_counts() -> None:
    proxies = trusted_networks(["127.0.0.1", "10.0.0.0/8"])
    request = _request("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3")
    # 6.6.6.6 was written by the client itself; 198.51.100.7 is what our proxies saw.
    assert client_ip(request, proxies) == "198.51.100.7"
