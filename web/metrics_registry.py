"""The metrics a serving process counts itself: its HTTP requests and the allocation runs it made.

One CollectorRegistry per app, never prometheus_client's global one: tests build many apps in one process, and a
metric registered twice in the global registry is an error. What the database knows (the outbox, video, deadlines)
is not counted here but read at each scrape (majlis.metrics), since every process and worker shares it.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Request latencies, in seconds: pages answer in tens of milliseconds; the alert is on p95 above 1 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# An allocation run takes seconds to a minute or two (docs/benchmarks.md); the alert is above 60 s.
ALLOCATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Methods outside these are counted as "other": a client may send any word as a method, and each would be a series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The label of a request no route matched (a 404, a probe): never its raw path.
UNMATCHED = "unmatched"


class AppMetrics:
    """This app's registry and the metrics it counts (HTTP requests, allocation runs)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "majlis_http_requests",
            "HTTP requests answered, by method, route pattern, status code and status class.",
            ["method", "route", "status", "status_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "majlis_http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route pattern (WebSocket sessions left out).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.allocation_seconds = Histogram(
            "majlis_allocation_run_seconds",
            "Duration of the weekly allocation runs made by this process (the job leader).",
            buckets=ALLOCATION_BUCKETS,
            registry=self.registry,
        )
        self.allocation_last_seconds = Gauge(
            "majlis_allocation_last_run_seconds",
            "Duration of the last weekly allocation run made by this process (0: none since it started).",
            registry=self.registry,
        )

    def count_request(self, *, method: str, route: str, status: int, seconds: float | None) -> None:
        """Counts one answered request; `seconds` None leaves it out of the latency (a WebSocket's whole life)."""
        self.requests.labels(
            method=method if method in METHODS else "other",
            route=route,
            status=str(status),
            status_class=f"{status // 100}xx",
        ).inc()
        if seconds is not None:
            self.latency.labels(route=route).observe(seconds)

    def allocation_ran(self, seconds: float) -> None:
        self.allocation_seconds.observe(seconds)
        self.allocation_last_seconds.set(seconds)


def route_label(request: web.Request) -> str:
    """The route's pattern ("/r/{token}"), never the path itself: no tracking number or token becomes a label."""
    match_info = request.match_info
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None) if route is not None else None
    if resource is None:
        return UNMATCHED
    canonical = str(resource.canonical)
    # Static files: one label for all of them (their names carry a version hash).
    return canonical or UNMATCHED
