"""A small in-memory Kubernetes API server for ``dntctl deploy | status | undeploy`` tests.

It speaks enough of the real REST API for the real clients (the ``kubernetes`` Python client and the Helm
v4 SDK) to install, list, upgrade and uninstall releases: discovery (``/version``, ``/api``, ``/apis``,
``/api/v1``, ``/apis/apps/v1``), namespaced objects of a few kinds (create, get, list with a label
selector, replace, merge or apply patch, delete), namespaces, and the pod proxy. A created Deployment is
"rolled out" at once: its status says every replica is ready and one Running, Ready pod appears with the
template's labels and ports, whose ``/ric/v1/health/*`` answer 200 through the pod proxy.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

_CORE = {"pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
         "serviceaccounts": "ServiceAccount", "persistentvolumeclaims": "PersistentVolumeClaim"}
_APPS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}
_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _resources(kinds: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for plural, kind in kinds.items():
        out.append({"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind, "verbs": _VERBS})
        out.append({"name": f"{plural}/status", "singularName": "", "namespaced": True, "kind": kind,
                    "verbs": ["get", "patch", "update"]})
    return out


def _matches(obj: dict[str, Any], selector: str) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _fields(data: bytes) -> dict[int, list[Any]]:
    """Protobuf wire format -> {field number: [varint or bytes values]} (enough for a Secret)."""
    out: dict[int, list[Any]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any = varint()
        elif wire == 2:
            n = varint()
            value, i = data[i:i + n], i + n
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, i = data[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _secret_from_protobuf(raw: bytes) -> dict[str, Any]:
    """A ``k8s\\0``-framed protobuf Secret (what client-go's Helm storage driver sends) as its JSON form."""
    import base64

    if not raw.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf object")
    secret = _fields(_fields(raw[4:])[2][0])  # runtime.Unknown.raw -> v1.Secret
    meta = _fields(secret.get(1, [b""])[0])

    def entries(values: list[bytes]) -> dict[str, bytes]:
        return {_fields(e)[1][0].decode(): _fields(e).get(2, [b""])[0] for e in values}

    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": meta[1][0].decode(), "namespace": meta.get(3, [b""])[0].decode(),
                         "labels": {k: v.decode() for k, v in entries(meta.get(11, [])).items()}},
            "type": secret.get(3, [b"Opaque"])[0].decode(),
            "data": {k: base64.b64encode(v).decode() for k, v in entries(secret.get(2, [])).items()}}


def _merge(dst: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


class FakeKube:
    """The server; :attr:`kubeconfig` is a kubeconfig file pointing at it (plain http, a token)."""

    def __init__(self, tmp: Path, namespaces: tuple[str, ...] = ("default", "ricplt"), *,
                 pull_fails: bool = False) -> None:
        self.pull_fails = pull_fails  # True: pods stay Pending in ImagePullBackOff, nothing becomes ready
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, ns, name) -> object
        self.namespaces = set(namespaces)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _do(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                with server.lock:
                    server.requests.append((self.command, self.path))
                    code, out = server.handle(self.command, self.path, raw, self.headers.get("Content-Type", ""))
                data = out if isinstance(out, bytes) else json.dumps(out).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": "t"}}]}))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the API ----------------------------------------------------------------------------------------
    @staticmethod
    def _status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
        return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": message, "reason": reason, "code": code}

    def handle(self, method: str, url: str, raw: bytes, ctype: str) -> tuple[int, Any]:
        path, _, query = url.partition("?")
        path = path.rstrip("/") or "/"
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0", "gitCommit": "0",
                         "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22",
                         "compiler": "gc", "platform": "linux/amd64"}
        if path == "/openapi/v2":  # an empty protobuf Document: no schemas, so kubectl-style validation skips
            return 200, b""
        if path == "/openapi/v3":
            return 200, {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=1"},
                                   "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=1"}}}
        if path == "/openapi/v3/api/v1":
            return 200, self._openapi_v3("", {**_CORE, "namespaces": "Namespace"})
        if path == "/openapi/v3/apis/apps/v1":
            return 200, self._openapi_v3("apps", _APPS)
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                "name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]}
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                *_resources(_CORE), {"name": "namespaces", "singularName": "namespace", "namespaced": False,
                                     "kind": "Namespace", "verbs": _VERBS}]}
        if path == "/apis/apps/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": _resources(_APPS)}
        m = re.fullmatch(r"/api/v1/namespaces(?:/([^/]+))?", path)
        if m:
            return self._namespace(method, m[1], raw)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)(?::|%3A)(\d+)/proxy/(.*)", path)
        if m:
            key = ("pods", m[1], m[2])
            return (200, {"status": "ok"}) if key in self.objects else self._status(404, "NotFound", "no pod")
        m = re.fullmatch(r"/(?:api/v1|apis/apps/v1)/namespaces/([^/]+)/([a-z]+)(?:/([^/]+))?(/status)?", path)
        if m is None or m[2] not in {**_CORE, **_APPS}:
            return self._status(404, "NotFound", f"the server could not find {path}")
        ns, plural, name = m[1], m[2], m[3]
        if ns not in self.namespaces:
            return self._status(404, "NotFound", f'namespaces "{ns}" not found')
        body = self._decode(raw) if raw and method != "DELETE" else None  # DELETE carries DeleteOptions
        if name is None:
            if method == "GET":
                items = [o for (p, n, _), o in sorted(self.objects.items())
                         if p == plural and n == ns and _matches(o, params.get("labelSelector", "").replace(
                             "%3D", "=").replace("%2C", ","))]
                return 200, {"kind": f"{_CORE.get(plural) or _APPS[plural]}List", "apiVersion": "v1",
                             "metadata": {"resourceVersion": "1"}, "items": items}
            if method == "POST":
                return self._put(plural, ns, body["metadata"]["name"], body, create=True)
        key = (plural, ns, str(name))
        if method == "GET":
            return (200, self.objects[key]) if key in self.objects else self._status(
                404, "NotFound", f'{plural} "{name}" not found')
        if method == "DELETE":
            gone = self.objects.pop(key, None)
            if gone is not None and plural == "deployments":
                for pod in [k for k in self.objects if k[0] == "pods" and k[2].startswith(f"{name}-")]:
                    del self.objects[pod]
            return (200, gone) if gone is not None else self._status(404, "NotFound", f'{plural} "{name}" not found')
        if method == "PUT":
            return self._put(plural, ns, str(name), body, create=False)
        if method == "PATCH":
            if "apply-patch" in ctype:
                return self._put(plural, ns, str(name), body, create=key not in self.objects)
            if key not in self.objects:
                return self._status(404, "NotFound", f'{plural} "{name}" not found')
            return self._put(plural, ns, str(name), _merge(copy.deepcopy(self.objects[key]), body), create=False)
        return self._status(405, "MethodNotAllowed", method)

    @staticmethod
    def _openapi_v3(group: str, kinds: dict[str, str]) -> dict[str, Any]:
        """One open schema per kind: Helm validates manifests against the server's OpenAPI v3 documents."""
        schemas = {f"io.k8s.fake.{group or 'core'}.v1.{kind}": {
            "type": "object", "x-kubernetes-group-version-kind": [{"group": group, "version": "v1", "kind": kind}]}
            for kind in kinds.values()}
        return {"openapi": "3.0.0", "info": {"title": "fake", "version": "v1.30.0"}, "paths": {},
                "components": {"schemas": schemas}}

    @staticmethod
    def _decode(raw: bytes) -> Any:
        if raw.startswith(b"k8s\x00"):
            return _secret_from_protobuf(raw)
        try:
            return json.loads(raw)
        except ValueError:
            return yaml.safe_load(raw)

    def _namespace(self, method: str, name: str | None, raw: bytes) -> tuple[int, Any]:
        if method == "POST":
            self.namespaces.add(self._decode(raw)["metadata"]["name"])
            return 201, self._decode(raw)
        if name in self.namespaces:
            return 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name},
                         "status": {"phase": "Active"}}
        return self._status(404, "NotFound", f'namespaces "{name}" not found')

    def _put(self, plural: str, ns: str, name: str, body: dict[str, Any], create: bool) -> tuple[int, Any]:
        key = (plural, ns, name)
        if create and key in self.objects:
            return self._status(409, "AlreadyExists", f'{plural} "{name}" already exists')
        if not create and key not in self.objects:
            return self._status(404, "NotFound", f'{plural} "{name}" not found')
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        old = self.objects.get(key, {}).get("metadata", {})
        meta.update(namespace=ns, name=name, uid=old.get("uid", str(uuid.uuid4())),
                    resourceVersion=str(len(self.requests)), creationTimestamp="2026-01-01T00:00:00Z",
                    generation=int(old.get("generation", 0)) + 1)
        self.objects[key] = obj
        if plural == "deployments":
            self._roll_out(ns, name, obj)
        return (201 if create else 200), obj

    def _roll_out(self, ns: str, name: str, dep: dict[str, Any]) -> None:
        replicas = int(dep.get("spec", {}).get("replicas", 1))
        ready = 0 if self.pull_fails else replicas
        dep["status"] = {"observedGeneration": dep["metadata"]["generation"], "replicas": replicas,
                         "readyReplicas": ready, "updatedReplicas": replicas, "availableReplicas": ready}
        template = dep["spec"]["template"]
        state = {"waiting": {"reason": "ImagePullBackOff"}} if self.pull_fails else {"running": {}}
        for i in range(replicas):
            containers = template["spec"]["containers"]
            self.objects[("pods", ns, f"{name}-{i}")] = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{name}-{i}", "namespace": ns, "labels": template["metadata"].get("labels")},
                "spec": {"containers": containers},
                "status": {"phase": "Pending" if self.pull_fails else "Running",
                           "conditions": [{"type": "Ready", "status": "False" if self.pull_fails else "True"}],
                           "containerStatuses": [{"name": c["name"], "ready": not self.pull_fails, "restartCount": 0,
                                                  "image": c.get("image", ""), "imageID": "", "state": state}
                                                 for c in containers]}}
