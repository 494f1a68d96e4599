"""Request counters and latencies in Prometheus text format, with no extra dependency."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Label values come from this fixed set, never from the client: made-up methods and
# unmatched paths are grouped, so the metrics cannot be grown without bound.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.answers = 0
        self.refusals = 0
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.seconds[(method, route)] += seconds

    def count_answer(self, refused: bool) -> None:
        with self._lock:
            self.answers += 1
            self.refusals += int(refused)

    def render(self, index_stats: dict[str, int]) -> str:
        with self._lock:
            lines = ["# TYPE zhrag_requests_total counter"]
            lines += [f'zhrag_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}'
                      for (m, r, s), n in sorted(self.requests.items())]
            lines.append("# TYPE zhrag_request_seconds_total counter")
            lines += [f'zhrag_request_seconds_total{{method="{m}",route="{r}"}} {v:.6f}'
                      for (m, r), v in sorted(self.seconds.items())]
            lines += ["# TYPE zhrag_answers_total counter", f"zhrag_answers_total {self.answers}",
                      "# TYPE zhrag_refusals_total counter", f"zhrag_refusals_total {self.refusals}",
                      "# TYPE zhrag_index_articles gauge", f"zhrag_index_articles {index_stats['articles']}",
                      "# TYPE zhrag_index_chunks gauge", f"zhrag_index_chunks {index_stats['chunks']}",
                      "# TYPE zhrag_uptime_seconds gauge", f"zhrag_uptime_seconds {time.time() - self.started:.1f}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streamed responses are not buffered."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.observe(method, path, status, time.perf_counter() - start)
