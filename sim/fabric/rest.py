"""The fabric's REST port: submgr (``/ric/v1/subscriptions``), A1 mediator (``/A1-P/v2``), health, inspection.

Inspection routes (not OSC APIs): ``GET /ric/v1/metrics`` (fabric counters), ``GET /ric/v1/routes`` (the
routing table in RMR syntax and the attached xApps), ``GET /v1/nodeb/states`` (e2mgr's node list shape).
Every answer is JSON; an unparsable body is a 400 with the reason, an unknown path a 404.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from dnt.e2.rnib import read_nodes

if TYPE_CHECKING:
    from sim.fabric.server import Fabric

__all__ = ["FabricHttp"]

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 1 << 20
Reply = tuple[int, Any]
Route = tuple[str, re.Pattern[str], Callable[..., Reply]]
_NO_BODY = object()


def _routes(f: Fabric) -> list[Route]:
    a1, sub = f.a1, f.submgr
    t, p = r"/A1-P/v2/policytypes/([^/]+)", r"/policies/([^/]+)"

    def states() -> Reply:
        return 200, [{"inventoryName": n.ran_name, "connectionStatus": n.connection_status,
                      "globalNbId": n.to_json().get("globalNbId")} for n in read_nodes(f.store, connected_only=False)]

    table: list[tuple[str, str, Callable[..., Reply]]] = [
        ("GET", r"/ric/v1/health/alive", lambda: (200, {"status": "alive"})),
        ("GET", r"/ric/v1/health/ready", lambda: (200, {"status": "ready"}) if f.store.healthy()
         else (503, {"status": "SDL unreachable"})),
        ("GET", r"/ric/v1/metrics", lambda: (200, f.metrics())),
        ("GET", r"/ric/v1/routes", lambda: (200, f.routes())),
        ("GET", r"/v1/nodeb/states", states),
        ("POST", r"/ric/v1/subscriptions", sub.create),
        ("GET", r"/ric/v1/subscriptions", sub.list),
        ("DELETE", r"/ric/v1/subscriptions/([^/]+)", sub.delete),
        ("GET", r"/A1-P/v2/healthcheck", a1.healthcheck),
        ("GET", r"/A1-P/v2/policytypes", a1.list_types),
        ("GET", t, a1.get_type), ("PUT", t, a1.put_type), ("DELETE", t, a1.delete_type),
        ("GET", t + r"/policies", a1.list_instances),
        ("GET", t + p, a1.get_instance), ("PUT", t + p, a1.put_instance), ("DELETE", t + p, a1.delete_instance),
        ("GET", t + p + r"/status", a1.status),
    ]
    return [(m, re.compile(pattern + "/?$"), fn) for m, pattern, fn in table]


class FabricHttp:
    """A threaded HTTP server on the fabric's REST port."""

    def __init__(self, fabric: Fabric, host: str, port: int) -> None:
        routes = _routes(fabric)

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
                log.debug("http %s " + format, self.client_address[0], *args)

            def _answer(self, status: int, body: Any) -> None:
                data = b"" if body is None or status == 204 else json.dumps(body).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = self.headers.get("Content-Length", "0")
                if not length.isdigit() or int(length) > _MAX_BODY_BYTES:
                    raise ValueError(f"Content-Length {length!r} missing or over {_MAX_BODY_BYTES} bytes")
                raw = self.rfile.read(int(length))
                return json.loads(raw) if raw else None

            def _dispatch(self, method: str) -> None:
                path = self.path.split("?")[0]
                for m, pattern, fn in routes:
                    match = pattern.match(path)
                    if match is None or m != method:
                        continue
                    args: list[Any] = list(match.groups())
                    try:
                        if method in ("PUT", "POST"):
                            args.append(self._body())
                    except ValueError as err:  # json.JSONDecodeError is a ValueError
                        status, body = 400, {"error": f"request body is not valid JSON: {err}"}
                    else:
                        try:
                            status, body = fn(*args)
                        except Exception as err:  # the fabric answers and keeps running
                            log.exception("%s %s failed", method, path)
                            status, body = 500, {"error": f"{type(err).__name__}: {err}"}
                    fabric.count(f"fabric/http/{status}")
                    self._answer(status, body)
                    return
                self._answer(404, {"error": f"no route for {method} {path}"})

            def do_GET(self) -> None:  # noqa: N802
                self._dispatch("GET")

            def do_PUT(self) -> None:  # noqa: N802
                self._dispatch("PUT")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._dispatch("DELETE")

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fabric-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> FabricHttp:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
