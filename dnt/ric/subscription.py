"""E2 subscriptions through the OSC subscription manager's REST API, persisted in SDL.

Built ourselves because ricxappframe 3.2.2's ``NewSubscriber`` posts snake_case keys that submgr
ignores and uses inconsistent URIs (oran-conventions.md §3.8). The JSON follows the swagger of
``ric-plt-xapp-frame-py: api/xapp_rest_api.yaml`` (basePath ``/ric/v1``), which submgr serves:

* ``POST {url}/subscriptions`` with ``SubscriptionParams`` — ``ClientEndpoint {Host, HTTPPort, RMRPort}``
  (``Host`` is the xApp's ``-http`` service name: submgr derives the RMR endpoint by replacing "http"
  with "rmr"), ``Meid``, ``RANFunctionID``, optional ``E2SubscriptionDirectives``, and
  ``SubscriptionDetails [{XappEventInstanceId, EventTriggers, ActionToBeSetupList [{ActionID, ActionType,
  ActionDefinition, SubsequentAction {SubsequentActionType, TimeToWait}}]}]``; E2SM bytes travel as lists
  of ints. Answer: 201 ``{SubscriptionId, SubscriptionInstances}``.
* submgr then ``POST``s ``http://<Host>:<HTTPPort>/ric/v1/subscriptions/response`` with
  ``{SubscriptionId, SubscriptionInstances [{XappEventInstanceId, E2EventInstanceId, ErrorCause,
  ErrorSource, TimeoutType}]}``; the **E2EventInstanceId is the RMR sub_id** of the RIC_INDICATIONs
  (0 on failure). The notification may arrive before the 201, so it is buffered by SubscriptionId.
* ``DELETE {url}/subscriptions/{SubscriptionId}`` -> 204.

The JSON itself is built and parsed in :mod:`dnt.ric.subscription_json` (re-exported here).

:class:`SubscriptionBook` keeps one record per distinct request (node, RAN function, trigger, actions)
in SDL, so a restarted xApp finds its subscriptions and does not subscribe twice.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from dnt.e2.e2ap_ies import RicAction
from dnt.errors import TransportError
from dnt.ric.sdl import Store, check_namespace
from dnt.ric.subscription_json import (
    NOTIFICATION_PATH,
    SUBMGR_URL,
    ClientEndpoint,
    E2Directives,
    SubscriptionInstance,
    SubscriptionNotification,
    field_of,
    parse_notification,
    subscription_params,
)

__all__ = [
    "NOTIFICATION_PATH",
    "SUBMGR_URL",
    "ClientEndpoint",
    "E2Directives",
    "SubscriptionError",
    "SubscriptionInstance",
    "SubscriptionNotification",
    "SubscriptionRecord",
    "SubscriptionBook",
    "SubmgrClient",
    "subscription_params",
    "parse_notification",
    "request_key",
]

logger = logging.getLogger(__name__)


class SubscriptionError(TransportError):
    """submgr or the E2 node refused a subscription, or its result did not arrive in time."""


def request_key(meid: str, ran_function_id: int, event_trigger: bytes, actions: Sequence[RicAction]) -> str:
    """A stable digest of what is subscribed (not of who asks), used to find an existing subscription."""
    canon = {"meid": meid, "ran": ran_function_id, "trigger": bytes(event_trigger).hex(),
             "actions": [[a.action_id, a.action_type, (a.definition or b"").hex(),
                          None if a.subsequent_action is None else [a.subsequent_action.action_type,
                                                                    a.subsequent_action.time_to_wait]]
                         for a in actions]}
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SubscriptionRecord:
    """A live subscription as persisted in SDL."""

    key: str
    sub_id: int
    subscription_id: str
    meid: str
    ran_function_id: int
    xapp_event_instance_id: int


class SubscriptionBook:
    """Subscription records in SDL namespace ``ns``: ``sub/<key>`` -> record JSON, ``next_instance``."""

    def __init__(self, store: Store, ns: str) -> None:
        self.store, self.ns = store, check_namespace(ns)

    def get(self, key: str) -> SubscriptionRecord | None:
        """The record of request ``key``, or None."""
        obj = self.store.get_json(self.ns, f"sub/{key}")
        return None if obj is None else SubscriptionRecord(**obj)

    def by_sub_id(self, sub_id: int) -> SubscriptionRecord | None:
        """The record whose RMR sub_id is ``sub_id``, or None."""
        return next((r for r in self.all() if r.sub_id == sub_id), None)

    def all(self) -> list[SubscriptionRecord]:
        """Every record, ordered by sub_id."""
        return sorted((SubscriptionRecord(**v) for v in self.store.find_json(self.ns, "sub/").values()),
                      key=lambda r: r.sub_id)

    def save(self, record: SubscriptionRecord) -> None:
        """Persist ``record``."""
        self.store.set_json(self.ns, f"sub/{record.key}", asdict(record))

    def remove(self, record: SubscriptionRecord) -> None:
        """Forget ``record``."""
        self.store.delete(self.ns, f"sub/{record.key}")

    def next_instance_id(self) -> int:
        """A fresh XappEventInstanceId (1..65535, wrapping), persisted so restarts do not reuse one."""
        current = self.store.get_json(self.ns, "next_instance") or 1
        self.store.set_json(self.ns, "next_instance", current % 65535 + 1)
        return int(current)


class SubmgrClient:
    """REST client of submgr: subscribe (wait for the result notification), unsubscribe.

    Parameters
    ----------
    url : str
        submgr REST base, default :data:`SUBMGR_URL`.
    endpoint : ClientEndpoint
        This xApp's endpoint as submgr should address it.
    book : SubscriptionBook
        Where records persist.
    directives : E2Directives, optional
        Sent with every request.
    request_timeout_s, response_timeout_s : float
        HTTP call timeout; how long :meth:`subscribe` waits for the notification.
    """

    def __init__(self, url: str, endpoint: ClientEndpoint, book: SubscriptionBook, *,
                 directives: E2Directives | None = None, request_timeout_s: float = 5.0,
                 response_timeout_s: float = 10.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise TransportError(f"submgr URL {url!r} must be http://host:port/ric/v1")
        self.url, self.endpoint, self.book, self.directives = url.rstrip("/"), endpoint, book, directives
        self.request_timeout_s, self.response_timeout_s = request_timeout_s, response_timeout_s
        self._host, self._port, self._base = parsed.hostname, parsed.port or 80, parsed.path.rstrip("/")
        self._cond = threading.Condition()
        self._notified: dict[str, SubscriptionNotification] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.request_timeout_s)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, self._base + path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError as err:
            raise TransportError(f"submgr {method} {self.url}{path}: {err}") from err
        finally:
            conn.close()

    def handle_notification(self, body: bytes | Mapping[str, Any]) -> SubscriptionNotification:
        """Take a notification posted to :data:`NOTIFICATION_PATH` (raises DecodeError when malformed)."""
        note = parse_notification(body)
        with self._cond:
            self._notified[note.subscription_id] = note
            while len(self._notified) > 1000:  # results nobody waits for any more (timed out)
                del self._notified[next(iter(self._notified))]
            self._cond.notify_all()
        logger.info("subscription %s: %s", note.subscription_id, note.instances)
        return note

    def _wait(self, subscription_id: str) -> SubscriptionNotification | None:
        deadline = time.monotonic() + self.response_timeout_s
        with self._cond:
            while subscription_id not in self._notified:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._notified.pop(subscription_id)

    def subscribe(self, meid: str, ran_function_id: int, event_trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe (or find the persisted subscription of the same request) and return its sub_id.

        Raises
        ------
        SubscriptionError
            submgr answered an error status, the E2 node refused, or no result came in time.
        TransportError
            submgr is unreachable.
        """
        key = request_key(meid, ran_function_id, event_trigger, actions)
        with self._lock:
            existing = self.book.get(key)
            if existing is not None:
                logger.info("E2 subscription %s to %s already exists (sub_id %d); reusing it",
                            existing.subscription_id, meid, existing.sub_id)
                return existing.sub_id
            instance = self.book.next_instance_id()
            params = subscription_params(self.endpoint, meid, ran_function_id, event_trigger, actions,
                                         xapp_event_instance_id=instance, directives=self.directives)
            status, raw = self._call("POST", "/subscriptions", params)
            if status not in (200, 201):
                raise SubscriptionError(f"submgr refused the subscription to {meid} (HTTP {status}): "
                                        f"{raw.decode(errors='replace')[:300]}")
            try:
                answer = json.loads(raw or b"{}")
            except ValueError:
                answer = None
            sid = field_of(answer, "SubscriptionId") if isinstance(answer, Mapping) else None
            if sid is None:
                raise SubscriptionError(f"submgr's answer has no SubscriptionId: {raw[:300]!r}")
            note = self._wait(str(sid))
            mine = None if note is None else next(
                (i for i in note.instances if i.xapp_event_instance_id == instance), None)
            if mine is None or not mine.ok:
                self._delete_quietly(str(sid))
                why = f"no result notification within {self.response_timeout_s:.1f} s" if mine is None else (
                    f"ErrorCause={mine.error_cause!r} ErrorSource={mine.error_source!r} "
                    f"TimeoutType={mine.timeout_type!r}")
                raise SubscriptionError(f"E2 subscription {sid} to {meid} RAN function {ran_function_id} failed: {why}")
            record = SubscriptionRecord(key, mine.e2_event_instance_id, str(sid), meid, ran_function_id, instance)
            self.book.save(record)
            return record.sub_id

    def _delete_quietly(self, subscription_id: str) -> None:
        try:
            self._call("DELETE", f"/subscriptions/{urllib.parse.quote(subscription_id, safe='')}")
        except TransportError as err:
            logger.warning("could not delete failed subscription %s: %s", subscription_id, err)

    def unsubscribe(self, sub_id: int) -> None:
        """Delete the subscription whose RMR sub_id is ``sub_id`` (unknown ids are ignored, logged).

        Raises
        ------
        SubscriptionError
            submgr answered an error status other than 404.
        """
        with self._lock:
            record = self.book.by_sub_id(sub_id)
            if record is None:
                logger.warning("unsubscribe: no subscription with sub_id %d", sub_id)
                return
            status, raw = self._call("DELETE", f"/subscriptions/{urllib.parse.quote(record.subscription_id, safe='')}")
            if status not in (200, 204, 404):
                raise SubscriptionError(f"submgr refused to delete subscription {record.subscription_id} "
                                        f"(HTTP {status}): {raw.decode(errors='replace')[:300]}")
            self.book.remove(record)
