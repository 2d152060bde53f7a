"""aiohttp's access log as one structured record a request: method, route pattern, status, duration, request id.

The route's pattern ("/r/{token}") stands for the path, and no query string is written: both may carry tracking
numbers, signed tokens or phone numbers, and the access log is read by more people than the database.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from web.keys import REQUEST_ID
from web.metrics_registry import UNMATCHED, route_label


class RouteAccessLogger(AbstractAccessLogger):
    """Writes "<method> <route> <status>" with the fields as extras, for the JSON formatter (majlis.logs)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = route_label(request) if isinstance(request, web.Request) else UNMATCHED
        self.logger.info(
            "%s %s %s",
            request.method,
            route,
            response.status,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status,
                "duration_ms": round(time * 1000, 1),
                # The request's own id: the context that held it has ended by the time the access log is written.
                "request_id": request.get(REQUEST_ID),
            },
        )
