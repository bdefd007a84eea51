"""The fabric's A1 mediator: the OSC A1-P v2 REST API, and A1_POLICY_REQ / RESP with the xApps.

REST (``ric-plt-a1: api/swagger.yaml``; oran-conventions.md §4.1–4.2), under ``/A1-P/v2``:

* ``GET /healthcheck``; ``GET /policytypes`` → ``[ids]``;
* ``PUT /policytypes/{id}`` with ``{name, description, policy_type_id, create_schema}`` (nothing else; the
  schema must be a valid JSON Schema draft 7) → 201, 400 when malformed or when the type exists;
  ``GET`` → the body, ``DELETE`` → 204 (400 while instances exist);
* ``PUT /policytypes/{id}/policies/{pid}`` → 202 after validating the body against ``create_schema``
  (400 with the reason on a violation, 404 for an unknown type); ``GET`` → the body; ``DELETE`` → 202;
* ``GET .../policies/{pid}/status`` → ``{instance_status: "IN EFFECT" | "NOT IN EFFECT", has_been_deleted,
  created_at}`` (plus the v2.1 ``enforceStatus`` / ``enforceReason``); IN EFFECT once an xApp answered OK.

RMR (§4.3): each instance change goes to the xApps that handle the type (HELLO ``policies`` or an
A1_POLICY_QUERY) as A1_POLICY_REQ with sub id = type id and the Go mediator's body (string type id,
the instance as a JSON string, ``""`` for DELETE); A1_POLICY_RESP ``{policy_type_id, policy_instance_id,
handler_id, status}`` updates the status; A1_POLICY_QUERY re-sends one CREATE per instance to the asker.
A deleted instance disappears when every handler answered DELETED (or after ``a1_delete_ttl_s``).

State in SDL namespace ``A1m_ns`` with the OSC mediator's key names (``a1.policy_type.<t>``,
``a1.policy_instance.<t>.<p>``, ``a1.policy_inst_metadata.<t>.<p>``, ``a1.policy_handler.<t>.<p>.<h>``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import jsonschema

from dnt.e2.mtypes import A1_POLICY_QUERY, A1_POLICY_REQ, A1_POLICY_RESP
from dnt.ric.runtime import Message

if TYPE_CHECKING:
    from sim.fabric.server import Fabric

__all__ = ["A1Mediator", "ENDPOINT"]

log = logging.getLogger(__name__)

NS = "A1m_ns"
ENDPOINT = "a1mediator"
_TYPE_FIELDS = {"name", "description", "policy_type_id", "create_schema"}
Reply = tuple[int, Any]


def _type_id(raw: str | int) -> int | None:
    text = str(raw)
    return int(text) if text.isdigit() and 1 <= int(text) <= 2**31 - 1 else None


class A1Mediator:
    """See the module docstring. REST methods run in HTTP threads, :meth:`on_message` in the event loop."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self.store = fabric.store
        self._lock = threading.RLock()

    # -- helpers --------------------------------------------------------------------------------------------
    def _type(self, t: int) -> dict[str, Any] | None:
        return self.store.get_json(NS, f"a1.policy_type.{t}")

    def _instances(self, t: int) -> list[str]:
        prefix = f"a1.policy_instance.{t}."
        return [k[len(prefix):] for k in self.store.keys(NS, prefix)]

    def _handlers(self, t: int, p: str) -> dict[str, str]:
        prefix = f"a1.policy_handler.{t}.{p}."
        return {k[len(prefix):]: v["status"] for k, v in self.store.find_json(NS, prefix).items()}

    def _send(self, targets: list[str], t: int, p: str, operation: str, body: Any) -> None:
        payload = json.dumps({"operation": operation, "policy_type_id": str(t), "policy_instance_id": p,
                              "payload": "" if body is None else json.dumps(body)}).encode()
        msg = Message(A1_POLICY_REQ, payload, None, t, b"", ENDPOINT)
        for name in targets:
            self.fabric.call(lambda n=name: self.fabric.hub.deliver(n, msg, ENDPOINT))
        self.fabric.count("fabric/a1/requests_sent", len(targets))

    def _forget(self, t: int, p: str) -> None:
        keys = [f"a1.policy_instance.{t}.{p}", f"a1.policy_inst_metadata.{t}.{p}"]
        keys += self.store.keys(NS, f"a1.policy_handler.{t}.{p}.")
        for key in keys:
            self.store.delete(NS, key)

    # -- REST: policy types ---------------------------------------------------------------------------------
    def healthcheck(self) -> Reply:
        return (200, None) if self.store.healthy() else (503, {"error": "SDL is not reachable"})

    def list_types(self) -> Reply:
        prefix = "a1.policy_type."
        return 200, sorted(int(k[len(prefix):]) for k in self.store.keys(NS, prefix))

    def get_type(self, raw: str) -> Reply:
        t = _type_id(raw)
        body = None if t is None else self._type(t)
        return (200, body) if body is not None else (404, {"error": f"policy type {raw} not found"})

    def put_type(self, raw: str, body: Any) -> Reply:
        t = _type_id(raw)
        if t is None:
            return 400, {"error": f"policy type id {raw!r} must be an integer in 1..2147483647"}
        if not isinstance(body, dict) or set(body) != _TYPE_FIELDS:
            got = sorted(body) if isinstance(body, dict) else type(body).__name__
            return 400, {"error": f"a policy type needs exactly {sorted(_TYPE_FIELDS)}, got {got}"}
        if body["policy_type_id"] != t or not isinstance(body["name"], str) or not isinstance(body["description"], str):
            return 400, {"error": f"policy_type_id must equal {t} (a number); name and description strings"}
        try:
            jsonschema.Draft7Validator.check_schema(body["create_schema"])
        except jsonschema.SchemaError as err:
            return 400, {"error": f"create_schema is not a valid JSON Schema (draft 7): {err.message}"}
        with self._lock:
            if self._type(t) is not None:
                return 400, {"error": f"policy type {t} already exists; delete it first"}
            self.store.set_json(NS, f"a1.policy_type.{t}", body)
        self.fabric.count("fabric/a1/types_created")
        return 201, None

    def delete_type(self, raw: str) -> Reply:
        t = _type_id(raw)
        with self._lock:
            if t is None or self._type(t) is None:
                return 404, {"error": f"policy type {raw} not found"}
            if self._instances(t):
                return 400, {"error": f"policy type {t} still has instances"}
            self.store.delete(NS, f"a1.policy_type.{t}")
        return 204, None

    # -- REST: instances ------------------------------------------------------------------------------------
    def list_instances(self, raw: str) -> Reply:
        t = _type_id(raw)
        if t is None or self._type(t) is None:
            return 404, {"error": f"policy type {raw} not found"}
        return 200, sorted(p for p in self._instances(t) if self._live(t, p))

    def _live(self, t: int, p: str) -> bool:
        """False (and the instance forgotten) when a deleted instance's handlers all answered or its TTL passed."""
        meta = self.store.get_json(NS, f"a1.policy_inst_metadata.{t}.{p}")
        if meta is None or not meta.get("has_been_deleted"):
            return meta is not None
        handlers = self._handlers(t, p)
        done = all(s == "DELETED" for s in handlers.values())
        if done or time.time() - meta.get("deleted_at", 0) > self.fabric.cfg.a1_delete_ttl_s:
            self._forget(t, p)
            return False
        return True

    def get_instance(self, raw: str, p: str) -> Reply:
        t = _type_id(raw)
        body = None if t is None or not self._live(t, p) else self.store.get_json(NS, f"a1.policy_instance.{t}.{p}")
        return (200, body) if body is not None else (404, {"error": f"policy instance {raw}/{p} not found"})

    def put_instance(self, raw: str, p: str, body: Any) -> Reply:
        t = _type_id(raw)
        spec = None if t is None else self._type(t)
        if spec is None or t is None:
            return 404, {"error": f"policy type {raw} not found"}
        if not isinstance(body, dict):
            return 400, {"error": f"a policy instance must be a JSON object, got {type(body).__name__}"}
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(spec["create_schema"]).iter_errors(body))
        if error is not None:
            where = "/".join(str(x) for x in error.absolute_path) or "(root)"
            self.fabric.count("fabric/a1/rejected")
            return 400, {"error": f"instance violates the create_schema of policy type {t} at {where}: {error.message}"}
        with self._lock:
            exists = self._live(t, p)
            self.store.set_json(NS, f"a1.policy_instance.{t}.{p}", body)
            self.store.set_json(NS, f"a1.policy_inst_metadata.{t}.{p}", {
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "has_been_deleted": False})
            for key in self.store.keys(NS, f"a1.policy_handler.{t}.{p}."):
                self.store.delete(NS, key)
        self._send(self.fabric.router.policy_handlers(t), t, p, "UPDATE" if exists else "CREATE", body)
        return 202, None

    def delete_instance(self, raw: str, p: str) -> Reply:
        t = _type_id(raw)
        with self._lock:
            if t is None or not self._live(t, p):
                return 404, {"error": f"policy instance {raw}/{p} not found"}
            meta = self.store.get_json(NS, f"a1.policy_inst_metadata.{t}.{p}")
            meta.update(has_been_deleted=True, deleted_at=time.time())
            self.store.set_json(NS, f"a1.policy_inst_metadata.{t}.{p}", meta)
            targets = self.fabric.router.policy_handlers(t)
            if not targets:
                self._forget(t, p)
        self._send(targets, t, p, "DELETE", None)
        return 202, None

    def status(self, raw: str, p: str) -> Reply:
        t = _type_id(raw)
        if t is None or not self._live(t, p):
            return 404, {"error": f"policy instance {raw}/{p} not found"}
        meta = self.store.get_json(NS, f"a1.policy_inst_metadata.{t}.{p}") or {}
        deleted = bool(meta.get("has_been_deleted"))
        ok = not deleted and "OK" in self._handlers(t, p).values()
        return 200, {"instance_status": "IN EFFECT" if ok else "NOT IN EFFECT", "has_been_deleted": deleted,
                     "created_at": meta.get("created_at"), "enforceStatus": "ENFORCED" if ok else "NOT_ENFORCED",
                     "enforceReason": None if ok else "OTHER_REASON"}

    # -- RMR ------------------------------------------------------------------------------------------------
    def on_message(self, msg: Message, sender: str) -> None:
        """A1_POLICY_RESP / A1_POLICY_QUERY from xApp ``sender`` (event loop; SDL work goes to the SDL thread)."""
        try:
            body = json.loads(msg.payload)
            t = int(body["policy_type_id"])
        except (ValueError, KeyError, TypeError) as err:
            self.fabric.drop("a1_bad_message", f"{msg.describe()} from {sender}: {err}")
            return
        if msg.mtype == A1_POLICY_QUERY:
            self.fabric.router.add_policy(sender, t)
            self.fabric.sdl(lambda: self._resend(sender, t))
        elif msg.mtype == A1_POLICY_RESP:
            self.fabric.sdl(lambda: self._record(body, t, sender))
        else:
            self.fabric.drop("no_route", f"{msg.describe()} from {sender} sent to the A1 mediator")

    def _resend(self, sender: str, t: int) -> None:
        for p in self._instances(t):
            if self._live(t, p):
                self._send([sender], t, p, "CREATE", self.store.get_json(NS, f"a1.policy_instance.{t}.{p}"))

    def _record(self, body: dict[str, Any], t: int, sender: str) -> None:
        p, status = str(body.get("policy_instance_id", "")), str(body.get("status", ""))
        handler = str(body.get("handler_id") or sender)
        if status not in ("OK", "ERROR", "DELETED") or not p:
            self.fabric.drop("a1_bad_message", f"A1_POLICY_RESP from {sender} with status {status!r}: {body}")
            return
        with self._lock:
            if self.store.get_json(NS, f"a1.policy_inst_metadata.{t}.{p}") is None:
                return  # an answer for an instance that is gone
            self.store.set_json(NS, f"a1.policy_handler.{t}.{p}.{handler}", {"status": status,
                                                                              "reason": body.get("reason")})
            self._live(t, p)
        self.fabric.count(f"fabric/a1/responses/{status}")
        if status == "ERROR":
            log.warning("A1 policy %d/%s refused by %s: %s", t, p, handler, body.get("reason"))
