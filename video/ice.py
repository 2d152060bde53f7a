"""The settings' ICE servers (STUN/TURN) for the server's own aiortc peers: the bridge and the pre-call check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiortc import RTCIceServer


def ice_servers_from_settings(servers: Sequence[Mapping[str, str | list[str]]]) -> list[RTCIceServer]:
    """The settings' RTCIceServer dicts (`urls`, optional `username` and `credential`) as aiortc's objects."""
    found = []
    for server in servers:
        username, credential = server.get("username"), server.get("credential")
        found.append(
            RTCIceServer(
                urls=server.get("urls", []),
                username=username if isinstance(username, str) and username else None,
                credential=credential if isinstance(credential, str) and credential else None,
            )
        )
    return found
