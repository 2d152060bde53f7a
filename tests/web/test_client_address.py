"""The client address every throttle and the audit log read: X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

import pytest

from majlis.settings import SettingsError, load_settings
from web.client_address import forwarded_client, trusted_networks

TRUSTED = trusted_networks(["10.0.0.0/8", "2001:db8::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.5", ["198.51.100.7"], "203.0.113.5"),  # not through a proxy: the header is the client's own
        ("10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),  # the spoofed entry on the left is not read
        ("10.0.0.2", ["6.6.6.6", "198.51.100.7, 10.0.0.3"], "198.51.100.7"),  # two proxies, two header lines
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.3"], "10.0.0.3"),  # only proxies: the farthest one
        ("10.0.0.2", ["198.51.100.7, not-an-address"], "10.0.0.2"),  # garbage stops the walk at its sender
        ("2001:db8::1", [" 2001:db8::77 "], "2001:db8::77"),
        ("::ffff:10.0.0.2", ["198.51.100.7"], "198.51.100.7"),  # an IPv4 peer on a dual-stack socket
        (None, ["198.51.100.7"], "unknown"),
    ],
)
def test_forwarded_client(peer: str | None, forwarded_for: list[str], client: str) -> None:
    assert forwarded_client(peer, forwarded_for, TRUSTED) == client


def test_a_trusted_proxy_that_is_not_an_address_stops_the_start() -> None:
    ok = load_settings({"MAJLIS_TRUSTED_PROXIES": '["10.0.0.0/8", "2001:db8::1"]'})
    assert ok.trusted_proxies == ("10.0.0.0/8", "2001:db8::1")
    with pytest.raises(SettingsError, match=r"MAJLIS_TRUSTED_PROXIES: 'proxy\.example'"):
        load_settings({"MAJLIS_TRUSTED_PROXIES": '["10.0.0.0/8", "proxy.example"]'})
