"""The fabric's subscription manager: the OSC submgr REST API over E2AP subscriptions, persisted in SDL.

REST (oran-conventions.md §3.7, swagger ``xapp_rest_api.yaml``, CamelCase JSON):

* ``POST /ric/v1/subscriptions`` with ``SubscriptionParams`` → 201 ``{SubscriptionId, SubscriptionInstances}``;
  then, per request, a ``SubscriptionResponse`` is POSTed to ``http://<ClientEndpoint.Host>:<HTTPPort>
  /ric/v1/subscriptions/response`` with one instance per ``SubscriptionDetails`` item
  (``XappEventInstanceId``, ``E2EventInstanceId``; on failure ``E2EventInstanceId`` 0 and ``ErrorCause``,
  ``ErrorSource`` ``E2Node``/``SUBMGR``, ``TimeoutType`` ``E2-Timeout``). 400 for a malformed request or a
  ClientEndpoint that is no attached xApp, 503 "No E2 connection for ranName" when the node is not connected.
* ``DELETE /ric/v1/subscriptions/{SubscriptionId}`` → 204 (404 unknown); ``GET /ric/v1/subscriptions``.

E2: each ``SubscriptionDetails`` item becomes one RICsubscriptionRequest with RICrequestID (requestor =
``XappEventInstanceId``, instance = the allocated **E2EventInstanceId**, which is also the RMR sub id of the
RIC_INDICATIONs routed to the subscriber). Waits ``e2_timeout_s`` per try, ``e2_retries`` re-sends.

Persistence (SDL ns ``submgr``, key ``e2sub:<E2EventInstanceId>``): an identical request of the same xApp
(same node, RAN function, trigger and actions) reuses the live E2 subscription instead of making a second
one, and when a node sets up again (node reconnect, fabric restart) its subscriptions are re-established.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import RicAction, RicRequestId, RicSubsequentAction
from dnt.e2.e2ap_types import E2apMessage, RICsubscriptionDeleteRequest, RICsubscriptionRequest
from dnt.errors import DecodeError
from dnt.ric.subscription_json import (
    NOTIFICATION_PATH,
    SubscriptionDetail,
    SubscriptionInstance,
    SubscriptionRequest,
    notification_json,
    parse_subscription_params,
)

if TYPE_CHECKING:
    from sim.fabric.server import Fabric

__all__ = ["SubMgr", "parse_params"]

log = logging.getLogger(__name__)

NS = "submgr"


def _action_json(a: RicAction) -> dict[str, Any]:
    sub = a.subsequent_action
    return {"id": a.action_id, "type": a.action_type, "definition": (a.definition or b"").hex(),
            "subsequent": None if sub is None else [sub.action_type, sub.time_to_wait]}


def parse_params(body: Any) -> SubscriptionRequest:
    """Validate ``SubscriptionParams`` (:func:`dnt.ric.subscription_json.parse_subscription_params`, the same
    definition the xApp client builds from) plus submgr's rule that action types are not mixed.

    Raises
    ------
    DecodeError
        The reason, for the 400 answer.
    """
    req = parse_subscription_params(body)
    for d in req.details:
        if not d.actions:
            raise DecodeError("ActionToBeSetupList must not be empty")
        if len({a.action_type for a in d.actions}) > 1:
            raise DecodeError("action types cannot be mixed in one subscription")
    return req


def _request(rec: dict[str, Any]) -> RICsubscriptionRequest:
    actions = tuple(RicAction(a["id"], a["type"], bytes.fromhex(a["definition"]) or None,
                              None if a["subsequent"] is None else RicSubsequentAction(*a["subsequent"]))
                    for a in rec["actions"])
    return RICsubscriptionRequest(request_id=RicRequestId(rec["xapp_event_instance_id"], rec["instance"]),
                                  ran_function_id=rec["ran_function_id"], event_trigger=bytes.fromhex(rec["trigger"]),
                                  actions=actions)


class SubMgr:
    """See the module docstring. REST methods run in HTTP threads; :meth:`on_e2_response` in the event loop."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self._lock = threading.RLock()
        self._recs: dict[int, dict[str, Any]] = {}
        self._waiters: dict[tuple[str, int], Future[E2apMessage]] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="submgr")

    def load(self) -> None:
        """Read the persisted subscriptions and route their indications (at fabric start)."""
        for rec in self.fabric.store.find_json(NS, "e2sub:").values():
            self._recs[int(rec["instance"])] = rec
            if rec["state"] == "active":
                self.fabric.router.add_sub(rec["instance"], rec["xapp"])
        log.info("submgr: %d persisted subscriptions", len(self._recs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- REST -----------------------------------------------------------------------------------------------
    def create(self, body: Any) -> tuple[int, Any]:
        """POST /ric/v1/subscriptions."""
        try:
            req = parse_params(body)
        except DecodeError as err:
            return 400, {"error": f"invalid SubscriptionParams: {err}"}
        ep = req.endpoint
        xapp = self.fabric.router.by_http(ep.host, ep.http_port)
        if xapp is None:
            return 400, {"error": f"ClientEndpoint {ep.host}:{ep.http_port} is not an attached xApp"}
        if req.meid not in self.fabric.e2term.nodes:
            return 503, {"error": f"No E2 connection for ranName {req.meid}"}
        sid = uuid.uuid4().hex[:16]
        with self._lock:
            recs = [self._admit(sid, xapp, req, d) for d in req.details]
        self._pool.submit(self._establish, sid, recs, ep.host, ep.http_port)
        self.fabric.count("fabric/submgr/requests")
        return 201, notification_json(sid, [SubscriptionInstance(r["xapp_event_instance_id"], r["instance"])
                                            for r in recs])

    def _admit(self, sid: str, xapp: str, req: SubscriptionRequest, detail: SubscriptionDetail) -> dict[str, Any]:
        actions = [_action_json(a) for a in detail.actions]
        canon = json.dumps([xapp, req.meid, req.ran_function_id, detail.event_trigger.hex(), actions])
        key = hashlib.sha256(canon.encode()).hexdigest()[:32]
        same = next((r for r in self._recs.values() if r["key"] == key and r["state"] != "failed"), None)
        if same is not None:  # identical request: the same E2 subscription, one more REST id
            same["subscription_ids"].append(sid)
            self._save(same)
            self.fabric.count("fabric/submgr/merged")
            return same
        d = req.directives
        rec = {"instance": self._allocate(), "subscription_ids": [sid], "xapp": xapp, "meid": req.meid,
               "ran_function_id": req.ran_function_id, "key": key, "state": "requested",
               "xapp_event_instance_id": detail.xapp_event_instance_id, "trigger": detail.event_trigger.hex(),
               "actions": actions, "timeout_s": d.timeout_timer_s if d else None,
               "retries": d.retry_count if d else None}
        self._recs[rec["instance"]] = rec
        self._save(rec)
        return rec

    def _allocate(self) -> int:
        start = int(self.fabric.store.get_json(NS, "next_instance") or 1)
        for k in range(65535):
            candidate = (start - 1 + k) % 65535 + 1
            if candidate not in self._recs:
                self.fabric.store.set_json(NS, "next_instance", candidate % 65535 + 1)
                return candidate
        raise ValueError("all 65535 E2 event instance ids are in use")

    def _save(self, rec: dict[str, Any]) -> None:
        self.fabric.store.set_json(NS, f"e2sub:{rec['instance']}", rec)

    def delete(self, sid: str) -> tuple[int, Any]:
        """DELETE /ric/v1/subscriptions/{id}: the E2 subscription goes when no REST id refers to it."""
        with self._lock:
            recs = [r for r in self._recs.values() if sid in r["subscription_ids"]]
            for r in recs:
                r["subscription_ids"].remove(sid)
                if r["subscription_ids"]:
                    self._save(r)
            gone = [r for r in recs if not r["subscription_ids"]]
            for r in gone:
                del self._recs[r["instance"]]
                self.fabric.store.delete(NS, f"e2sub:{r['instance']}")
        if not recs:
            return 404, {"error": f"no subscription {sid}"}
        for r in gone:
            self.fabric.call(lambda i=r["instance"]: self.fabric.router.remove_sub(i))
            if r["state"] == "active" and r["meid"] in self.fabric.e2term.nodes:
                msg = RICsubscriptionDeleteRequest(request_id=RicRequestId(r["xapp_event_instance_id"], r["instance"]),
                                                   ran_function_id=r["ran_function_id"])
                self._e2_exchange(r["meid"], r["instance"], e2ap.encode(msg), 0, self.fabric.cfg.e2_timeout_s)
        self.fabric.count("fabric/submgr/deletes")
        return 204, None

    def list(self) -> tuple[int, Any]:
        """GET /ric/v1/subscriptions: one entry per REST subscription id."""
        with self._lock:
            recs = [dict(r) for r in self._recs.values()]
        by_sid: dict[str, dict[str, Any]] = {}
        for r in sorted(recs, key=lambda r: r["instance"]):
            for sid in r["subscription_ids"]:
                entry = by_sid.setdefault(sid, {"SubscriptionId": sid, "Meid": r["meid"], "XappName": r["xapp"],
                                                "RANFunctionID": r["ran_function_id"], "SubscriptionInstances": []})
                entry["SubscriptionInstances"].append({"XappEventInstanceId": r["xapp_event_instance_id"],
                                                       "E2EventInstanceId": r["instance"], "State": r["state"]})
        return 200, list(by_sid.values())

    # -- E2 -------------------------------------------------------------------------------------------------
    def on_e2_response(self, meid: str, msg: E2apMessage) -> None:
        """A subscription (delete) response or failure from node ``meid`` (event loop)."""
        rid = msg.request_id  # type: ignore[attr-defined]
        fut = self._waiters.pop((meid, rid.instance_id), None)
        if fut is None:
            self.fabric.drop("e2_unexpected", f"{type(msg).__name__} {rid} from {meid}: no request waits for it")
        elif not fut.done():
            fut.set_result(msg)

    def _e2_exchange(self, meid: str, instance: int, pdu: bytes, retries: int, timeout_s: float) -> E2apMessage | None:
        for _ in range(retries + 1):
            fut: Future[E2apMessage] = Future()
            self._waiters[(meid, instance)] = fut
            self.fabric.call(lambda: self.fabric.e2term.send(meid, pdu))
            try:
                return fut.result(timeout=timeout_s)
            except FutureTimeout:
                self._waiters.pop((meid, instance), None)
        return None

    def _subscribe_e2(self, rec: dict[str, Any]) -> SubscriptionInstance:
        """Run one E2 subscription (``E2SubscriptionDirectives`` or the defaults); its notification instance."""
        cfg = self.fabric.cfg
        retries = cfg.e2_retries if rec.get("retries") is None else rec["retries"]
        answer = self._e2_exchange(rec["meid"], rec["instance"], e2ap.encode(_request(rec)), retries,
                                   rec.get("timeout_s") or cfg.e2_timeout_s)
        xid = rec["xapp_event_instance_id"]
        if answer is None:
            return SubscriptionInstance(xid, 0, "no response from the E2 node", "SUBMGR", "E2-Timeout")
        if type(answer).__name__ == "RICsubscriptionFailure":
            cause = answer.cause  # type: ignore[attr-defined]
            return SubscriptionInstance(xid, 0, f"{cause.group}/{cause.value}", "E2Node")
        return SubscriptionInstance(xid, rec["instance"])

    def _establish(self, sid: str, recs: list[dict[str, Any]], host: str, port: int) -> None:
        instances = []
        for rec in recs:
            if rec["state"] == "active":
                inst = SubscriptionInstance(rec["xapp_event_instance_id"], rec["instance"])
            else:
                inst = self._subscribe_e2(rec)
                with self._lock:
                    rec["state"] = "active" if inst.ok else "failed"
                    if rec["instance"] in self._recs:
                        self._save(rec)
                if inst.ok:
                    self.fabric.call(lambda r=rec: self.fabric.router.add_sub(r["instance"], r["xapp"]))
            instances.append(inst)
        self.fabric.count("fabric/submgr/established", sum(1 for i in instances if i.ok))
        self._notify(host, port, notification_json(sid, instances))

    def _notify(self, host: str, port: int, body: dict[str, Any]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=self.fabric.cfg.notify_timeout_s)
        try:
            conn.request("POST", NOTIFICATION_PATH, body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()  # read the body: closing with unread data resets the xApp's keep-alive connection
            if resp.status >= 300:
                log.warning("submgr: %s:%d answered %d to the notification of %s", host, port, resp.status,
                            body["SubscriptionId"])
        except OSError as err:
            log.warning("submgr: cannot notify %s:%d of %s: %s", host, port, body["SubscriptionId"], err)
        finally:
            conn.close()

    def restore(self, meid: str) -> None:
        """Re-establish the persisted subscriptions of ``meid`` after its E2 setup (no notifications)."""
        with self._lock:
            recs = [r for r in self._recs.values() if r["meid"] == meid and r["state"] == "active"]
        if recs:
            self._pool.submit(self._restore, recs)

    def _restore(self, recs: list[dict[str, Any]]) -> None:
        for rec in recs:
            inst = self._subscribe_e2(rec)
            self.fabric.count("fabric/submgr/restored" if inst.ok else "fabric/submgr/restore_failed")
            if inst.ok:
                self.fabric.call(lambda r=rec: self.fabric.router.add_sub(r["instance"], r["xapp"]))
            else:
                log.warning("submgr: could not restore subscription %d on %s: %s", rec["instance"], rec["meid"],
                            inst.error_cause)
