"""The video WebSockets: `/ws/video` (signalling, authority = the audience token) and `/ws/consoles` (staff)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from accounts import sessions
from accounts.roles import Role
from video.tokens import VideoTokens
from web.auth import requires, session_policy
from web.keys import CLOCK, DB, SESSIONS, SETTINGS, VIDEO_HUB, VIDEO_TOKENS
from web.security import SESSION_COOKIE
from web.video_pages import ROOM_ROLES

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

# Frames above the hub's 64 KiB limit still reach it, so it can say why before closing;
# aiohttp itself closes with 1009 only beyond this.
_READ_LIMIT = 1024 * 1024
# How often an open console checks that its session still signs its user in: a sign-out elsewhere, a password
# change or reset, a deactivation or the session's idle or absolute end closes the console within this time.
CONSOLE_SESSION_RECHECK_SECONDS = 30.0
_CONSOLE_ROLES = frozenset({Role.OFFICIAL, *ROOM_ROLES, Role.ADMINISTRATOR})


async def _close_sockets(app: web.Application) -> None:
    # On shutdown, before the server waits for handlers: open WebSockets would hold it up.
    if VIDEO_HUB in app:
        await app[VIDEO_HUB].close()


def setup(app: web.Application) -> None:
    """The signalling routes and this process's sockets closed on shutdown (the hub is wired in majlis.app)."""
    app[VIDEO_TOKENS] = VideoTokens(secret=app[SETTINGS].secret_key.get_secret_value())
    app.router.add_routes(routes)
    app.on_shutdown.append(_close_sockets)


@routes.get("/ws/video")
async def video_socket(request: web.Request) -> web.WebSocketResponse:
    """Signalling for one side of one video audience; every message carries its token."""
    hub = request.app[VIDEO_HUB]
    socket = web.WebSocketResponse(max_msg_size=_READ_LIMIT, heartbeat=20.0)
    await socket.prepare(request)
    client = hub.connect(socket)
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                await hub.receive(client, message.data)
            elif message.type is WSMsgType.BINARY:
                await hub.refuse_frame(client)
    finally:
        # The server cancels the handler when the peer's connection drops; the bookkeeping must still finish.
        await asyncio.shield(hub.disconnect(client))
    return socket


async def _still_allowed(request: web.Request, token: str) -> bool:
    async with request.app[SESSIONS]() as db:
        user = await sessions.signed_in_still(
            session=db, clock=request.app[CLOCK], policy=session_policy(request), token=token
        )
        return user is not None and not user.must_change_password and user.role in _CONSOLE_ROLES


async def _close_when_signed_out(request: web.Request, socket: web.WebSocketResponse, token: str) -> None:
    """Closes the console once its session no longer signs its user in (checked at the handshake only, it would
    outlive a revocation: the page's guard runs once, the socket stays open for the day)."""
    while not socket.closed:
        await asyncio.sleep(CONSOLE_SESSION_RECHECK_SECONDS)
        try:
            allowed = await _still_allowed(request, token)
        except Exception:
            # Unable to tell (the database away): closed rather than left open unchecked.
            log.warning("console session check failed; closing the console", exc_info=True)
            allowed = False
        if not socket.closed and not allowed:
            await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"signed out")
            return


@routes.get("/ws/consoles")
@requires(Role.OFFICIAL, *ROOM_ROLES)
async def consoles_socket(request: web.Request) -> web.WebSocketResponse:
    """Live room states and the day's video queue, for the official's and the rooms' consoles."""
    # The sign-in check opened a transaction; a long-lived socket must not hold it (SQLite's write lock).
    await request[DB].commit()
    hub = request.app[VIDEO_HUB]
    socket = web.WebSocketResponse(heartbeat=20.0)
    await socket.prepare(request)
    watcher = asyncio.create_task(_close_when_signed_out(request, socket, request.cookies.get(SESSION_COOKIE, "")))
    try:
        await hub.subscribe(socket)
        async for message in socket:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        watcher.cancel()
        hub.unsubscribe(socket)
    return socket
