"""The xApp's small HTTP server: health probes, submgr's subscription results, counters.

Routes (exact paths, query strings ignored):

* ``GET /ric/v1/health/alive`` -> 200 while the process serves HTTP (the liveness probe).
* ``GET /ric/v1/health/ready`` -> 200 when ``ready()`` is true, else 503 (the readiness probe).
* ``POST /ric/v1/subscriptions/response`` -> ``on_subscription_response(body)``; 200, or 400 when the
  body is rejected (the callback raised ``DecodeError``/``ValueError``).
* ``GET /ric/v1/metrics`` -> the runtime counters as JSON.

ricxappframe's ``xapp_rest.ThreadedHTTPServer`` is not used: its handler table is a class attribute
shared by every server in the process, URIs match by substring, it serves one request at a time, a
POST without Content-Length raises, and it prints every response to stdout.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dnt.ric.subscription import NOTIFICATION_PATH

__all__ = ["RicHttpServer", "ALIVE_PATH", "READY_PATH", "METRICS_PATH"]

logger = logging.getLogger(__name__)

ALIVE_PATH = "/ric/v1/health/alive"
READY_PATH = "/ric/v1/health/ready"
METRICS_PATH = "/ric/v1/metrics"
_MAX_BODY_BYTES = 1 << 20


class RicHttpServer:
    """A threaded HTTP server for one xApp.

    Parameters
    ----------
    host, port : str, int
        Bind address; port 0 picks a free one (read :attr:`port` after construction).
    ready : callable
        ``ready() -> bool`` for the readiness probe.
    on_subscription_response : callable, optional
        ``f(body: bytes) -> None`` for submgr's result notifications.
    metrics : callable, optional
        ``metrics() -> dict`` served on :data:`METRICS_PATH`.
    poll_interval_s : float
        How often the serving thread checks for :meth:`stop` (the latency of ``stop``).
    """

    def __init__(self, host: str = "0.0.0.0", port: int = 8080, *, ready: Callable[[], bool],
                 on_subscription_response: Callable[[bytes], Any] | None = None,
                 metrics: Callable[[], Mapping[str, int]] | None = None, poll_interval_s: float = 0.5) -> None:
        server = self
        self.poll_interval_s = poll_interval_s

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
                logger.debug("http %s " + format, self.client_address[0], *args)

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                path = self.path.split("?")[0]
                if path == ALIVE_PATH:
                    self._reply(200, {"status": "alive"})
                elif path == READY_PATH:
                    ok = server._safe(ready)
                    self._reply(200 if ok else 503, {"status": "ready" if ok else "not ready"})
                elif path == METRICS_PATH and metrics is not None:
                    self._reply(200, dict(metrics()))
                else:
                    self._reply(404, {"error": f"no route for GET {path}"})

            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                path = self.path.split("?")[0]
                length = self.headers.get("Content-Length", "0")
                if not length.isdigit() or int(length) > _MAX_BODY_BYTES:
                    self._reply(411 if not length.isdigit() else 413, {"error": "bad Content-Length"})
                    return
                body = self.rfile.read(int(length))
                if path != NOTIFICATION_PATH or on_subscription_response is None:
                    self._reply(404, {"error": f"no route for POST {path}"})
                    return
                try:
                    on_subscription_response(body)
                except (ValueError, TypeError) as err:  # DecodeError is a ValueError
                    logger.error("rejected subscription notification: %s", err)
                    self._reply(400, {"error": str(err)})
                    return
                self._reply(200, {})

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @staticmethod
    def _safe(fn: Callable[[], bool]) -> bool:
        try:
            return bool(fn())
        except Exception:
            logger.exception("readiness check failed")
            return False

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._httpd.server_address[1])

    def start(self) -> RicHttpServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="ric-http", daemon=True,
                                            kwargs={"poll_interval": self.poll_interval_s})
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
