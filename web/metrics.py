"""/metrics for Prometheus, and the middleware that counts every request by its route's pattern.

Who may scrape: a client whose address (web.client_address: behind nginx, the one the trusted proxy reports,
never a raw X-Forwarded-For) is in settings.metrics_networks, or one sending "Authorization: Bearer <token>" when
settings.metrics_token is set. Anyone else gets 403, as any page they may not open; the figures hold no personal
data, but they tell an outsider how busy and how late the service is. docs/operations.md lists every metric.

The network rule is refused to a request that carries X-Forwarded-For from a peer that is not a trusted proxy, or
any Forwarded header (which Majlis never reads): it came through a proxy Majlis does not believe, so its peer's
address (nginx's 127.0.0.1 when MAJLIS_TRUSTED_PROXIES is unset) says nothing of the client. Only the token opens
it then. deploy/nginx/majlis.conf also keeps /metrics to the machine itself, in depth.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from majlis.metrics import DatabaseFigures, database_figures
from web.client_address import client_address, trusted_networks
from web.keys import CLOCK, DB, METRICS, SETTINGS
from web.metrics_registry import route_label
from web.middleware import Handler

routes = web.RouteTableDef()


@web.middleware
async def counted_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts the request and its latency under its route's pattern, whatever the answer (outermost middleware)."""
    # A duration on the machine's monotonic clock, not the injected one: it measures this process's real work.
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        # A WebSocket's answer (101) lasts as long as the socket: its life is not a latency.
        seconds = None if status == 101 else time.perf_counter() - started
        request.app[METRICS].count_request(
            method=request.method, route=route_label(request), status=status, seconds=seconds
        )


def may_scrape(request: web.Request) -> bool:
    """Whether this client may read /metrics: the right bearer token, or an address in the metrics networks."""
    settings = request.app[SETTINGS]
    token = settings.metrics_token.get_secret_value()
    if token:
        given = request.headers.get("Authorization", "")
        # Compared in constant time, so the answer's timing tells nothing of how much of a guess was right.
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if _forwarded_by_a_stranger(request):
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.metrics_networks)


def _forwarded_by_a_stranger(request: web.Request) -> bool:
    """Whether the request names a client its peer may not speak for: a Forwarded header (never read, so never
    believed), or X-Forwarded-For from a peer outside settings.trusted_proxies (web.client_address ignores it)."""
    if "Forwarded" in request.headers:
        return True
    if "X-Forwarded-For" not in request.headers:
        return False
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return True
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return not any(peer in network for network in trusted_networks(request.app[SETTINGS].trusted_proxies))


@routes.get("/metrics")
async def scrape(request: web.Request) -> web.Response:
    """This process's counters, then the figures every process shares, read from the database now."""
    if not may_scrape(request):
        raise web.HTTPForbidden()
    figures = await database_figures(session=request[DB], clock=request.app[CLOCK])
    shared = CollectorRegistry()
    shared.register(DatabaseCollector(figures))
    body = generate_latest(request.app[METRICS].registry) + generate_latest(shared)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


class DatabaseCollector(Collector):
    """The database's figures of one scrape as metric families (made afresh for each scrape)."""

    def __init__(self, figures: DatabaseFigures) -> None:
        self._figures = figures

    def collect(self) -> Iterable[Metric]:
        return list(self._families())

    def _families(self) -> Iterator[Metric]:
        figures = self._figures
        messages = GaugeMetricFamily(
            "majlis_outbox_messages",
            # A gauge, honestly: staff sending a failed message again moves it back to pending (and clears its
            # sent_at), so no figure of the table only grows. Alerts take delta() of it, never increase().
            "Messages in the outbox now, by channel and status (a message sent again leaves failed: use delta()).",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(figures.outbox.by_channel_status.items()):
            messages.add_metric([channel, status], count)
        yield messages
        yield GaugeMetricFamily(
            "majlis_outbox_due_messages", "Pending messages whose time to be sent has come.", value=figures.outbox.due
        )
        yield GaugeMetricFamily(
            "majlis_outbox_oldest_due_age_seconds",
            "How long the oldest due message has waited since it was due (0: none is due).",
            value=figures.outbox.oldest_due_seconds,
        )
        video = GaugeMetricFamily(
            "majlis_video_audiences", "Video audiences waiting for or in their call, by state.", labels=["state"]
        )
        for state, count in sorted(figures.video_by_state.items()):
            video.add_metric([state], count)
        yield video
        yield GaugeMetricFamily(
            "majlis_video_bridged_calls",
            "Video calls in progress carried by the server's media bridge.",
            value=figures.bridged_calls,
        )
        breaches = GaugeMetricFamily(
            "majlis_sla_breaches",
            "Referrals (followup) and emergency reports past a deadline not yet met, by area and deadline.",
            labels=["area", "deadline"],
        )
        for (area, deadline), count in sorted(figures.sla_breaches.items()):
            breaches.add_metric([area, deadline], count)
        yield breaches
        yield GaugeMetricFamily(
            "majlis_quality_overdue_reviews",
            "Negative ratings not reviewed by the end of the next working day after the visit's.",
            value=figures.overdue_reviews,
        )
