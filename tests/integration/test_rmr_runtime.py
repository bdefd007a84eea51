"""RmrRuntime on ricxappframe's real RMRXapp, without librmr_si.so.

The RMR C library is replaced by :mod:`dnt.ric.rmr_stub`, registered as
``ricxappframe.rmr.rmrclib.rmrclib`` before ricxappframe's RMR modules are imported (RmrRuntime imports
them when built). That stub is the one documented exception to "no monkeypatched transports"; above
it, ricxappframe's ctypes wrappers, receive thread, queue and RMRXapp dispatch run unchanged. Peers
on the stub's wire play e2term and the A1 mediator; a real HTTP server on 127.0.0.1 plays submgr.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dnt.e2 import e2ap, kpm, rc
from dnt.e2.e2ap_ies import PlmnId, RicAction, RicRequestId
from dnt.e2.e2ap_types import RICcontrolRequest, RICindication
from dnt.e2.kpm_types import KpmActionDefinition, KpmEventTrigger, KpmIndicationHeader, KpmIndicationMessage
from dnt.e2.mtypes import (
    A1_POLICY_REQ,
    A1_POLICY_RESP,
    RIC_CONTROL_REQ,
    RIC_HEALTH_CHECK_REQ,
    RIC_HEALTH_CHECK_RESP,
    RIC_INDICATION,
)
from dnt.errors import ConfigError, TransportError
from dnt.ric import rmr_stub
from dnt.ric.a1 import A1PolicyHandler
from dnt.ric.config import RicConfig, SubmgrConfig
from dnt.ric.redis_server import RedisServer
from dnt.ric.rmr_runtime import RmrRuntime
from dnt.ric.runtime import Message, Runtime
from dnt.ric.sdl import MemoryStore, SdlStore, Store
from dnt.ric.subscription import SubscriptionError
from dnt.ric.subscription_json import SubscriptionInstance, notification_json, parse_subscription_params

pytestmark = pytest.mark.integration

STUB = rmr_stub.install()  # before RmrRuntime imports ricxappframe.rmr / xapp_frame
XAPP = "127.0.0.1:4560"
NODE = "gnb_001_001_00000001"
TYPE_ID = 20008
SCHEMA = {"type": "object", "properties": {"max_prb_ratio": {"type": "integer", "minimum": 0, "maximum": 100}},
          "required": ["max_prb_ratio"]}
MEAS = ("DRB.UEThpDl", "RRU.PrbUsedDl")


def make_runtime(store: Store | None = None, submgr_url: str = "http://127.0.0.1:9/ric/v1",
                 response_timeout_s: float = 5.0) -> RmrRuntime:
    cfg = RicConfig(xapp_name="kpimon", rmr_port=4560, http_port=0, http_host="127.0.0.1", rmr_wait_for_ready=False,
                    use_fake_sdl=not isinstance(store, SdlStore), poll_interval_s=0.02, stop_timeout_s=5.0,
                    submgr=SubmgrConfig(url=submgr_url, client_host="127.0.0.1", request_timeout_s=5.0,
                                        response_timeout_s=response_timeout_s))
    return RmrRuntime(cfg, store=store or MemoryStore(), deregister_on_stop=False)


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def indication_payload(instance: int, sn: int) -> bytes:
    header = kpm.encode_indication_header(KpmIndicationHeader.from_unix_ms(1_700_000_000_000))
    message = kpm.encode_indication_message(KpmIndicationMessage(((40, 12.5),), MEAS, 1000))
    return e2ap.encode(RICindication(request_id=RicRequestId(123, instance), ran_function_id=2, action_id=1, sn=sn,
                                     indication_type="report", header=header, message=message))


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[rmr_stub.RmrStub]:
    monkeypatch.delenv("CONFIG_FILE", raising=False)  # no appmgr registration thread unless a test wants one
    STUB.reset()
    yield STUB
    STUB.reset()


@pytest.fixture
def rt(stub: rmr_stub.RmrStub) -> Iterator[RmrRuntime]:
    runtime = make_runtime().start()
    yield runtime
    runtime.stop()


@pytest.fixture
def e2term(stub: rmr_stub.RmrStub) -> rmr_stub.StubPeer:
    return stub.peer("e2term:38000")


def test_rmrxapp_dispatch_delivers_decoded_e2ap_to_our_handler(rt: RmrRuntime, e2term: rmr_stub.StubPeer) -> None:
    # Prepare
    got: queue.Queue[tuple[Message, Any]] = queue.Queue()
    rt.on(RIC_INDICATION, lambda msg, r: got.put((msg, e2ap.decode(msg.payload))))

    # Execute: e2term forwards a RIC INDICATION (real APER bytes) with the node's MEID and the sub_id
    e2term.send(RIC_INDICATION, indication_payload(7, 42), meid=NODE, sub_id=7, to=XAPP)
    msg, ind = got.get(timeout=5)

    # Assert
    assert (msg.mtype, msg.meid, msg.sub_id, msg.source) == (RIC_INDICATION, NODE, 7, "e2term:38000")
    assert isinstance(ind, RICindication) and (ind.sn, ind.request_id.instance_id) == (42, 7)
    assert kpm.decode_indication_message(ind.message).records == ((40, 12.5),)


def test_dispatch_survives_handler_errors_that_would_end_rmrxapps_loop(rt: RmrRuntime,
                                                                       e2term: rmr_stub.StubPeer) -> None:
    # Prepare: a handler that decodes (bad bytes raise) and a handler that crashes
    got: queue.Queue[int] = queue.Queue()
    rt.on(RIC_INDICATION, lambda msg, r: got.put(e2ap.decode(msg.payload).sn))  # type: ignore[attr-defined]
    rt.on(30000, lambda msg, r: 1 / 0)

    # Execute
    e2term.send(RIC_INDICATION, b"\x00\x07not-e2ap", meid=NODE, sub_id=7, to=XAPP)
    e2term.send(30000, b"", to=XAPP)
    e2term.send(31999, b"", to=XAPP)
    e2term.send(RIC_INDICATION, indication_payload(7, 2), meid=NODE, sub_id=7, to=XAPP)

    # Assert: the good indication after three bad messages is still handled
    assert got.get(timeout=5) == 2
    m = rt.metrics()
    assert (m["ric/dropped/decode_error"], m["ric/dropped/handler_error"], m["ric/dropped/no_handler"]) == (1, 1, 1)


def test_send_sets_meid_and_sub_id_even_zero(rt: RmrRuntime, stub: rmr_stub.RmrStub,
                                            e2term: rmr_stub.StubPeer) -> None:
    # Prepare: RIC_CONTROL_REQ is routed to the node's e2term (rtmgr's %meid)
    stub.add_route(RIC_CONTROL_REQ, "e2term:38000")
    header, message = rc.control_slice_prb_quota([rc.SlicePrbQuota(plmn=PlmnId("001", "01"), sst=1,
                                                                   max_prb_ratio=50)])
    control = e2ap.encode(RICcontrolRequest(request_id=RicRequestId(123, 1), ran_function_id=3, header=header,
                                            message=message))

    # Execute
    rt.send(RIC_CONTROL_REQ, control, meid=NODE, sub_id=0, xid=b"tx-1")
    got = e2term.recv(5)

    # Assert
    assert got is not None
    assert (got.mtype, got.meid, got.sub_id, got.xid.rstrip(b"\0"), got.source) == (RIC_CONTROL_REQ, NODE.encode(),
                                                                                     0, b"tx-1", XAPP)
    decoded = e2ap.decode(got.payload)
    assert isinstance(decoded, RICcontrolRequest)
    assert rc.parse_slice_prb_quota(decoded.message)[0].max_prb_ratio == 50


def test_send_without_route_raises_with_the_rmr_state(rt: RmrRuntime) -> None:
    with pytest.raises(TransportError, match="RMR_ERR_NOENDPT"):
        rt.send(RIC_CONTROL_REQ, b"x", meid=NODE)
    assert rt.metrics()["ric/send_failed"] == 1


def test_replies_go_back_to_the_sender_empty_or_larger_than_the_request(rt: RmrRuntime,
                                                                        e2term: rmr_stub.StubPeer) -> None:
    # Prepare
    big = bytes(range(256)) * 40
    rt.on(30000, lambda msg, r: r.reply(msg, 30001, b""))
    rt.on(30002, lambda msg, r: r.reply(msg, 30003, big))

    # Execute
    e2term.send(30000, b"request", meid=NODE, sub_id=9, to=XAPP)
    empty = e2term.recv(5)
    e2term.send(30002, b"r", to=XAPP)
    large = e2term.recv(5)

    # Assert: ricxappframe's rmr_rts would have kept b"request"
    assert empty is not None
    assert (empty.mtype, empty.payload, empty.meid, empty.sub_id) == (30001, b"", NODE.encode(), 9)
    assert large is not None and (large.mtype, large.payload) == (30003, big)


def test_rmr_health_check_and_http_probes(rt: RmrRuntime, e2term: rmr_stub.StubPeer) -> None:
    # Execute
    e2term.send(RIC_HEALTH_CHECK_REQ, b"", to=XAPP)
    answer = e2term.recv(5)
    base = f"http://127.0.0.1:{rt.http.port}/ric/v1"
    alive = urllib.request.urlopen(base + "/health/alive", timeout=5)
    ready = urllib.request.urlopen(base + "/health/ready", timeout=5)
    metrics = json.loads(urllib.request.urlopen(base + "/metrics", timeout=5).read())

    # Assert
    assert answer is not None and (answer.mtype, answer.payload) == (RIC_HEALTH_CHECK_RESP, b"OK\n")
    assert (alive.status, ready.status) == (200, 200)
    assert metrics["ric/received/RIC_HEALTH_CHECK_REQ"] == 1
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(base + "/nothing", timeout=5)
    assert err.value.code == 404


def test_a1_round_trip_over_rmr(rt: RmrRuntime, stub: rmr_stub.RmrStub) -> None:
    # Prepare: the mediator sends with sub_id = policy type id; the xApp answers by return-to-sender
    a1 = stub.peer("service-ricplt-a1mediator-rmr.ricplt:4562")
    applied: queue.Queue[Any] = queue.Queue()
    A1PolicyHandler({TYPE_ID: SCHEMA}, lambda policy, r: applied.put(policy)).register(rt)

    def request(instance: str, body: dict[str, Any]) -> dict[str, Any]:
        req = {"operation": "CREATE", "policy_type_id": str(TYPE_ID), "policy_instance_id": instance,
               "payload": json.dumps(body)}
        a1.send(A1_POLICY_REQ, json.dumps(req).encode(), sub_id=TYPE_ID, to=XAPP)
        reply = a1.recv(5)
        assert reply is not None and reply.mtype == A1_POLICY_RESP and reply.sub_id == TYPE_ID
        return json.loads(reply.payload)

    # Execute
    ok = request("p-1", {"max_prb_ratio": 40})
    bad = request("p-2", {"max_prb_ratio": 400})

    # Assert
    assert ok == {"policy_type_id": TYPE_ID, "policy_instance_id": "p-1", "handler_id": "kpimon", "status": "OK"}
    assert bad["status"] == "ERROR" and "400 is greater than the maximum of 100" in bad["reason"]
    assert applied.get(timeout=1).body == {"max_prb_ratio": 40} and applied.empty()


def test_stop_is_quick_idempotent_and_frees_every_buffer(stub: rmr_stub.RmrStub, e2term: rmr_stub.StubPeer) -> None:
    # Prepare
    runtime = make_runtime().start()
    done = threading.Event()
    runtime.on(30000, lambda msg, r: done.set())
    e2term.send(30000, b"", to=XAPP)
    assert done.wait(5)
    port = runtime.http.port

    # Execute
    t0 = time.monotonic()
    runtime.stop()
    runtime.stop()
    took = time.monotonic() - t0

    # Assert: ricxappframe's own stop() takes more than 10 s
    assert took < 5
    assert stub.live_buffers == 0
    assert XAPP not in stub.endpoints and not runtime.healthy()
    with pytest.raises(TransportError, match="stopped"):
        runtime.send(30000, b"")
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/ric/v1/health/alive", timeout=2)


def test_config_file_changes_are_validated_then_swapped(stub: rmr_stub.RmrStub, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: RMRXapp watches CONFIG_FILE (inotify) and calls our handler at start and on change
    path = tmp_path / "config-file.json"
    path.write_text(json.dumps({"name": "kpimon", "version": "1.0.0", "controls": {"period_ms": 1000}}))
    monkeypatch.setenv("CONFIG_FILE", str(path))
    monkeypatch.delenv("HOSTNAME", raising=False)  # registration finds no service endpoints and stays quiet

    def parse(raw: Any) -> int:
        period = raw.get("controls", {}).get("period_ms")
        if not isinstance(period, int) or period <= 0:
            raise ConfigError(f"controls.period_ms={period!r}")
        return period

    runtime = make_runtime().start()
    try:
        assert runtime.watch_config(parse) == 1000

        # Execute: an invalid change, then a valid one
        path.write_text(json.dumps({"name": "kpimon", "controls": {"period_ms": "fast"}}))
        wait_for(lambda: runtime.metrics().get("ric/config/rejected", 0) >= 1)
        kept = runtime.app_config
        path.write_text(json.dumps({"name": "kpimon", "controls": {"period_ms": 250}}))
        wait_for(lambda: runtime.app_config == 250)
    finally:
        runtime.stop()

    # Assert
    assert kept == 1000
    assert runtime.metrics()["ric/config/reloads"] >= 1


class FakeSubmgr:
    """submgr's REST side on 127.0.0.1: answers 201 and posts the result to the xApp's ClientEndpoint."""

    def __init__(self, mode: str = "after") -> None:
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.next_e2_id = 100
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                params = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(params)
                sid = f"sub-{len(fake.requests)}"
                note = fake.notification(sid, params)
                if fake.mode == "before":  # the result overtakes the 201
                    fake.post(params, note)
                self._answer(201, json.dumps({"SubscriptionId": sid, "SubscriptionInstances": None}).encode())
                if fake.mode in ("after", "error"):
                    threading.Thread(target=fake.post, args=(params, note), daemon=True).start()

            def do_DELETE(self) -> None:  # noqa: N802
                fake.deleted.append(self.path.rsplit("/", 1)[-1])
                self._answer(204)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ric/v1"

    def notification(self, sid: str, params: dict[str, Any]) -> dict[str, Any]:
        (detail,) = parse_subscription_params(params).details
        if self.mode == "error":
            instance = SubscriptionInstance(detail.xapp_event_instance_id, 0, "RICrequestRejected", "E2Node")
        else:
            self.next_e2_id += 1
            instance = SubscriptionInstance(detail.xapp_event_instance_id, self.next_e2_id)
        return notification_json(sid, [instance])

    @staticmethod
    def post(params: dict[str, Any], note: dict[str, Any]) -> None:
        ep = params["ClientEndpoint"]
        req = urllib.request.Request(f"http://{ep['Host']}:{ep['HTTPPort']}/ric/v1/subscriptions/response",
                                     data=json.dumps(note).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def submgr() -> Iterator[FakeSubmgr]:
    fake = FakeSubmgr()
    yield fake
    fake.close()


@pytest.fixture
def redis_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    with RedisServer() as srv:
        for key, value in srv.env().items():
            monkeypatch.setenv(key, value)
        yield srv


def kpm_subscription() -> tuple[bytes, list[RicAction]]:
    trigger = kpm.encode_event_trigger(KpmEventTrigger(1000))
    return trigger, [RicAction(1, "report", kpm.encode_action_definition(KpmActionDefinition(MEAS, 1000)))]


def test_subscribe_over_rest_then_indications_arrive_with_the_e2_instance_id(
        stub: rmr_stub.RmrStub, submgr: FakeSubmgr, e2term: rmr_stub.StubPeer, redis_env: RedisServer) -> None:
    # Prepare: SDL on a real Redis through DBAAS_*, as in production
    runtime = make_runtime(SdlStore(), submgr.url).start()
    got: queue.Queue[Message] = queue.Queue()
    runtime.on(RIC_INDICATION, lambda msg, r: got.put(msg))
    trigger, actions = kpm_subscription()
    try:
        # Execute
        sub_id = runtime.subscribe(NODE, 2, trigger, actions)
        stub.add_route(RIC_INDICATION, XAPP, sub_id=sub_id)  # what submgr asks rtmgr for
        e2term.send(RIC_INDICATION, indication_payload(1, 1), meid=NODE, sub_id=sub_id)
        msg = got.get(timeout=5)
    finally:
        runtime.stop()

    # Assert: the JSON submgr received, and the indication routed by sub_id
    (params,) = submgr.requests
    assert params["ClientEndpoint"] == {"Host": "127.0.0.1", "HTTPPort": runtime.http.port, "RMRPort": 4560}
    assert (params["Meid"], params["RANFunctionID"]) == (NODE, 2)
    detail = params["SubscriptionDetails"][0]
    assert detail["EventTriggers"] == list(trigger)
    assert detail["ActionToBeSetupList"] == [{"ActionID": 1, "ActionType": "report",
                                              "ActionDefinition": list(actions[0].definition or b"")}]
    assert sub_id == 101 and (msg.sub_id, msg.meid) == (101, NODE)


def test_a_restarted_xapp_resumes_its_subscriptions_from_sdl(stub: rmr_stub.RmrStub, submgr: FakeSubmgr,
                                                             redis_env: RedisServer) -> None:
    # Prepare
    trigger, actions = kpm_subscription()
    first = make_runtime(SdlStore(), submgr.url)
    sub_id = first.subscribe(NODE, 2, trigger, actions)
    first.stop()

    # Execute: a new process would build a new runtime with a new SDL client
    second = make_runtime(SdlStore(), submgr.url)
    try:
        again = second.subscribe(NODE, 2, trigger, actions)
        second.unsubscribe(sub_id)
        third = second.subscribe(NODE, 2, trigger, actions)
    finally:
        second.stop()

    # Assert: no duplicate POST after the restart; unsubscribe deletes at submgr; a new one after that
    assert again == sub_id
    assert submgr.deleted == ["sub-1"]
    assert len(submgr.requests) == 2 and third == 102
    xids = [r["SubscriptionDetails"][0]["XappEventInstanceId"] for r in submgr.requests]
    assert xids[0] != xids[1]


def test_a_result_that_overtakes_the_201_is_not_lost(stub: rmr_stub.RmrStub) -> None:
    fake = FakeSubmgr(mode="before")
    runtime = make_runtime(submgr_url=fake.url)
    try:
        assert runtime.subscribe(NODE, 2, *kpm_subscription()) == 101
    finally:
        runtime.stop()
        fake.close()


def test_an_e2_refusal_raises_and_deletes_the_subscription(stub: rmr_stub.RmrStub) -> None:
    fake = FakeSubmgr(mode="error")
    runtime = make_runtime(submgr_url=fake.url)
    try:
        with pytest.raises(SubscriptionError, match="RICrequestRejected"):
            runtime.subscribe(NODE, 2, *kpm_subscription())
    finally:
        runtime.stop()
        fake.close()
    assert fake.deleted == ["sub-1"]
    assert runtime.subscriptions.book.all() == []


def test_no_result_in_time_raises(stub: rmr_stub.RmrStub) -> None:
    fake = FakeSubmgr(mode="silent")
    runtime = make_runtime(submgr_url=fake.url, response_timeout_s=0.3)
    try:
        with pytest.raises(SubscriptionError, match="no result notification"):
            runtime.subscribe(NODE, 2, *kpm_subscription())
    finally:
        runtime.stop()
        fake.close()


def test_an_unreachable_submgr_is_a_transport_error(rt: RmrRuntime) -> None:
    with pytest.raises(TransportError, match="submgr POST"):
        rt.subscribe(NODE, 2, *kpm_subscription())


def test_a_malformed_result_post_is_answered_400(rt: RmrRuntime) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{rt.http.port}/ric/v1/subscriptions/response", data=b"{}",
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 400


def test_runtime_satisfies_the_protocol(rt: RmrRuntime) -> None:
    assert isinstance(rt, Runtime)
