"""Content-addressed twin model registry, its HTTP face, and the ``dnt-twin`` A1 policy type.

The vtwin rApp publishes every twin model (an encoded :class:`~dnt.fl.messages.GlobalTwin`) under the
SHA-256 of its bytes; the ``dnt-twin`` A1 policy (``schemas/a1/dnt-twin.json``, type
:data:`TWIN_POLICY_TYPE_ID`) names a version and that digest; xApps fetch ``GET /models/<digest>`` and
load the model only when the bytes hash to the digest (:func:`fetch_model`).

HTTP API (:class:`RegistryServer`)::

    GET /models            -> 200 [{"version", "digest", "cluster", "size_bytes"}, ...] (publication order)
    GET /models/<sha256>   -> 200 the bytes (application/octet-stream), 404 when unknown

:class:`ModelRegistry` keeps the bytes in memory and, when given a directory, also on disk
(``<digest>.bin`` + ``index.json``) so that a restarted rApp serves the same models.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema

from dnt.errors import DataError, ModelIntegrityError, PolicyError, TransportError

__all__ = ["TWIN_POLICY_TYPE_ID", "POLICY_TYPE_PATH", "ModelEntry", "ModelRegistry", "RegistryServer",
           "fetch_model", "twin_policy_type", "validate_twin_policy", "a1_put_policy_type", "a1_put_policy"]

log = logging.getLogger(__name__)

TWIN_POLICY_TYPE_ID = 20100
"""The ``dnt-twin`` A1 policy type id (project range; 20008 is the slice-quota example type)."""
POLICY_TYPE_PATH = Path(__file__).resolve().parents[2] / "schemas" / "a1" / "dnt-twin.json"
"""The policy type body ``{name, description, policy_type_id, create_schema}``."""


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelEntry:
    """One published model: its version, digest (SHA-256 of the bytes), cluster (None = global), size."""

    version: int
    digest: str
    cluster: int | None
    size_bytes: int


class ModelRegistry:
    """Models by digest (thread-safe).

    Parameters
    ----------
    root : optional directory; models and the index are written there and read back on construction.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[str, bytes] = {}
        self._entries: list[ModelEntry] = []
        self.root = Path(root) if root is not None else None
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)
            index = self.root / "index.json"
            if index.exists():
                for e in json.loads(index.read_text()):
                    blob = (self.root / f"{e['digest']}.bin").read_bytes()
                    if sha256_hex(blob) != e["digest"]:
                        raise ModelIntegrityError(f"registry {self.root}: {e['digest']}.bin does not match its digest")
                    self._blobs[e["digest"]] = blob
                    self._entries.append(ModelEntry(**e))

    def publish(self, data: bytes, version: int, cluster: int | None = None) -> ModelEntry:
        """Store ``data`` under its SHA-256 and return its entry (publishing the same bytes again is a no-op)."""
        digest = sha256_hex(bytes(data))
        with self._lock:
            for e in self._entries:
                if e.digest == digest:
                    return e
            entry = ModelEntry(int(version), digest, None if cluster is None else int(cluster), len(data))
            self._blobs[digest] = bytes(data)
            self._entries.append(entry)
            if self.root is not None:
                (self.root / f"{digest}.bin").write_bytes(data)
                tmp = self.root / "index.json.tmp"
                tmp.write_text(json.dumps([asdict(x) for x in self._entries]))
                tmp.replace(self.root / "index.json")
        log.info("published model v%d cluster %s: %s (%d bytes)", version, cluster, digest, len(data))
        return entry

    def get(self, digest: str) -> bytes | None:
        """The bytes published under ``digest``, or None."""
        with self._lock:
            return self._blobs.get(digest)

    def entries(self) -> list[ModelEntry]:
        """Every published model, in publication order."""
        with self._lock:
            return list(self._entries)

    def latest(self, cluster: int | None = None) -> ModelEntry | None:
        """The last published model of ``cluster`` (None = the global twin)."""
        for e in reversed(self.entries()):
            if e.cluster == cluster:
                return e
        return None


class _Handler(BaseHTTPRequestHandler):
    registry: ModelRegistry

    def log_message(self, fmt: str, *args: Any) -> None:  # route http.server's stderr lines to logging
        log.debug("registry http: " + fmt, *args)

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/models":
            body = json.dumps([asdict(e) for e in self.registry.entries()]).encode()
            self._send(200, body, "application/json")
            return
        if path.startswith("/models/"):
            blob = self.registry.get(path[len("/models/"):])
            if blob is not None:
                self._send(200, blob, "application/octet-stream")
                return
        self._send(404, json.dumps({"error": f"no such model: {path}"}).encode(), "application/json")


class RegistryServer:
    """Serves a :class:`ModelRegistry` over HTTP on ``host:port`` (port 0 = any free port) in a thread."""

    def __init__(self, registry: ModelRegistry, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("RegistryHandler", (_Handler,), {"registry": registry})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="model-registry", daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port`` of the server."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RegistryServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def fetch_model(base_url: str, digest: str, timeout_s: float = 10.0) -> bytes:
    """``GET <base_url>/models/<digest>`` and check the bytes hash to ``digest``.

    Raises
    ------
    TransportError
        the registry cannot be reached or does not have the model.
    ModelIntegrityError
        the bytes do not hash to ``digest`` (a corrupt or substituted model is never returned).
    """
    url = f"{base_url.rstrip('/')}/models/{digest}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (configured http URL)
            data = resp.read()
    except (urllib.error.URLError, OSError) as err:
        raise TransportError(f"cannot fetch model {digest} from {url}: {err}") from err
    got = sha256_hex(data)
    if got != digest:
        raise ModelIntegrityError(f"model from {url} hashes to {got}, not the policy's digest {digest}")
    return data


def twin_policy_type(path: str | Path | None = None) -> dict[str, Any]:
    """The ``dnt-twin`` policy type body (``schemas/a1/dnt-twin.json``)."""
    p = Path(path) if path is not None else POLICY_TYPE_PATH
    try:
        return dict(json.loads(p.read_text()))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the dnt-twin policy type {p}: {err}") from err


def validate_twin_policy(body: Mapping[str, Any], policy_type: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return ``body`` as a dict when it is a valid ``dnt-twin`` instance, else raise :class:`PolicyError`."""
    schema = (policy_type or twin_policy_type())["create_schema"]
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise PolicyError(f"dnt-twin policy invalid at {where}: {error.message}")
    return dict(body)


def _rest(method: str, url: str, body: Any, timeout_s: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (configured http URL)
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()
    except (urllib.error.URLError, OSError) as err:
        raise TransportError(f"A1 mediator {url} unreachable: {err}") from err


def a1_put_policy_type(a1_url: str, policy_type: Mapping[str, Any], timeout_s: float = 10.0) -> bool:
    """Onboard a policy type (``PUT /A1-P/v2/policytypes/{id}``); False when it already exists unchanged.

    Raises
    ------
    PolicyError
        the mediator refused it and holds no identical type.
    """
    type_id = int(policy_type["policy_type_id"])
    url = f"{a1_url.rstrip('/')}/A1-P/v2/policytypes/{type_id}"
    code, text = _rest("PUT", url, dict(policy_type), timeout_s)
    if code in (200, 201):
        return True
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310
        existing = json.loads(resp.read())
    if existing.get("create_schema") == policy_type.get("create_schema"):
        return False
    raise PolicyError(f"A1 mediator refused policy type {type_id} ({code}): {text[:200]!r}")


def a1_put_policy(a1_url: str, type_id: int, instance_id: str, body: Mapping[str, Any],
                  timeout_s: float = 10.0) -> None:
    """Create or update a policy instance (``PUT /A1-P/v2/policytypes/{id}/policies/{pid}``)."""
    url = f"{a1_url.rstrip('/')}/A1-P/v2/policytypes/{int(type_id)}/policies/{instance_id}"
    code, text = _rest("PUT", url, dict(body), timeout_s)
    if code not in (200, 201, 202):
        raise PolicyError(f"A1 mediator refused policy {type_id}/{instance_id} ({code}): {text[:200]!r}")
