"""Every typed key Majlis keeps on the application and on requests, in one place."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from followup.attachments import AttachmentStore
from majlis.clock import Clock
from majlis.pubsub import PubSub
from majlis.settings import Settings
from notify.channels import Channels, MediaFetcher
from notify.links import Links
from notify.outbox import Dispatcher
from video.hub_transport import HubEdge
from video.room_check import RoomChecks
from video.tokens import VideoTokens
from web.i18n import Catalogs
from web.metrics_registry import AppMetrics
from web.signed_in import BrowserSession, SignedIn

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
# Messages across processes and machines (LISTEN/NOTIFY on PostgreSQL); see majlis.pubsub.
PUBSUB = web.AppKey("pubsub", PubSub)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
CHANNELS = web.AppKey("channels", Channels)
LINKS = web.AppKey("links", Links)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
CATALOGS = web.AppKey("catalogs", Catalogs)
VIDEO_TOKENS = web.AppKey("video_tokens", VideoTokens)
VIDEO_HUB = web.AppKey("video_hub", HubEdge)
ROOM_CHECKS = web.AppKey("room_checks", RoomChecks)
ATTACHMENTS = web.AppKey("attachments", AttachmentStore)
# The counters and histograms of this process that /metrics shows (web.metrics), one registry per app.
METRICS = web.AppKey("metrics", AppMetrics)
# None when no provider is configured (the console backend): media cannot be fetched then.
MEDIA_FETCHER: web.AppKey[MediaFetcher | None] = web.AppKey("media_fetcher")

DB = web.RequestKey("db", AsyncSession)
LANGUAGE = web.RequestKey("language", str)
# None: nobody is signed in. The key is built from the union type itself.
USER: web.RequestKey[SignedIn | None] = web.RequestKey("user")
CSRF_SECRET = web.RequestKey("csrf_secret", str)
# The request's id (web.middleware.request_ids): on its log lines, its answer's X-Request-Id and what it enqueues.
REQUEST_ID = web.RequestKey("request_id", str)
# The live session behind the cookie (web.auth.staff_sessions), verified or not; None: no live session.
BROWSER_SESSION: web.RequestKey[BrowserSession | None] = web.RequestKey("browser_session")
