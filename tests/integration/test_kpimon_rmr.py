"""kpimon's wiring, unchanged, on the production runtime: RmrRuntime over ricxappframe's real RMRXapp.

RMR's C library is the documented stub (:mod:`dnt.ric.rmr_stub`, installed before ricxappframe's RMR modules
are imported); a stub peer plays e2term, a small real HTTP server plays submgr (201, then the notification
POSTed to the xApp), and SDL is an in-memory store holding one E2 node record as e2mgr would.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dnt.e2 import e2ap, kpm
from dnt.e2.e2ap_ies import ComponentIdNG, E2nodeComponentConfig, E2nodeGnb, RanFunction, RicRequestId
from dnt.e2.e2ap_types import E2setupRequest, RICindication
from dnt.e2.kpm_types import KpmIndicationHeader, KpmIndicationMessage
from dnt.e2.mtypes import RIC_INDICATION
from dnt.e2.rnib import E2MGR_NS, NodebInfo, ran_key
from dnt.ran.kpi import node_cells
from dnt.ric import rmr_stub
from dnt.ric.subscription_json import SubscriptionInstance, notification_json, parse_subscription_params

pytestmark = pytest.mark.integration

STUB = rmr_stub.install()  # before RmrRuntime imports ricxappframe.rmr / xapp_frame
REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("kpimon_app", REPO / "xapps" / "kpimon" / "app.py")
assert _spec is not None and _spec.loader is not None
kpimon = sys.modules.setdefault("kpimon_app", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(kpimon)
MEAS = ("DRB.UEThpDl.1-000001", "RRU.PrbAvailDl")


class FakeSubmgr:
    """submgr's REST contract: 201 with the ids, then the notification to the ClientEndpoint."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                req = parse_subscription_params(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(req)
                sid, e2_id = f"sub{len(owner.requests)}", 100 + len(owner.requests)
                body = json.dumps({"SubscriptionId": sid}).encode()
                self.send_response(201)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                note = notification_json(sid, [SubscriptionInstance(req.details[0].xapp_event_instance_id, e2_id)])
                threading.Thread(target=owner.notify, args=(req.endpoint, note)).start()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notify(self, endpoint: Any, note: dict[str, Any]) -> None:
        import urllib.request

        url = f"http://{endpoint.host}:{endpoint.http_port}/ric/v1/subscriptions/response"
        urllib.request.urlopen(urllib.request.Request(url, json.dumps(note).encode(), method="POST"), timeout=5).read()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ric/v1"


@pytest.fixture
def submgr() -> Iterator[FakeSubmgr]:
    fake = FakeSubmgr()
    yield fake
    fake.server.shutdown()


def test_kpimon_wiring_runs_unchanged_on_the_rmr_runtime(submgr: FakeSubmgr, monkeypatch: pytest.MonkeyPatch):
    from dnt.ric.config import RicConfig, SubmgrConfig
    from dnt.ric.rmr_runtime import RmrRuntime
    from dnt.ric.sdl import MemoryStore

    # Prepare: e2mgr's record of one gNB, the runtime, kpimon's wiring
    monkeypatch.delenv("CONFIG_FILE", raising=False)
    STUB.reset()
    store = MemoryStore()
    setup = E2setupRequest(transaction_id=1, global_e2node_id=E2nodeGnb.build("001", "01", 1, 22),
                           ran_functions=(RanFunction(2, b"", 1, kpm.KPM_OID),),
                           component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("amf"), b"\0", b"\0"),))
    node = NodebInfo.from_setup(setup, [2])
    store.set(E2MGR_NS, ran_key(node.ran_name), node.to_bytes())
    cfg = RicConfig(xapp_name="kpimon", rmr_port=4560, http_port=0, http_host="127.0.0.1", rmr_wait_for_ready=False,
                    use_fake_sdl=True, poll_interval_s=0.02, stop_timeout_s=5.0,
                    submgr=SubmgrConfig(url=submgr.url, client_host="127.0.0.1", response_timeout_s=5.0))
    rt = RmrRuntime(cfg, store=store, deregister_on_stop=False)
    app_cfg = kpimon.KpimonConfig(runtime="rmr", meas_names=MEAS, scan_period_s=0.05)
    cells = kpimon.wire(rt, app_cfg)
    rt.start()
    stopped = threading.Event()
    watcher = threading.Thread(target=kpimon.watch_nodes, args=(rt, cells, app_cfg, stopped), daemon=True)
    watcher.start()
    e2term = STUB.peer("e2term:38000")
    try:
        deadline = time.monotonic() + 10
        while cells.nodes != {node.ran_name} and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition, bounded
        # Execute: e2term forwards an indication of the second subscription's first cell
        header = kpm.encode_indication_header(KpmIndicationHeader.from_unix_ms(1_700_000_000_000))
        message = kpm.encode_indication_message(KpmIndicationMessage(((5000, 106),), MEAS, 1000))
        ind = RICindication(request_id=RicRequestId(1, 102), ran_function_id=2, action_id=1, sn=9, header=header,
                            message=message)
        e2term.send(RIC_INDICATION, e2ap.encode(ind), meid=node.ran_name, sub_id=102, to="127.0.0.1:4560")
        square = node_cells(1)[16]
        deadline = time.monotonic() + 10
        while store.get_json("kpimon", f"cell:{square}") is None and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition, bounded
        record = store.get_json("kpimon", f"cell:{square}")
    finally:
        stopped.set()
        rt.stop()
        STUB.reset()
    # Assert: two subscriptions (16 + 9 cells) through submgr's REST API, the record written by the same handler
    assert [len(r.details[0].actions) for r in submgr.requests] == [16, 9]
    assert record["ran_name"] == node.ran_name and record["sn"] == 9
    assert record["slices"] == {"embb": {"DRB.UEThpDl": 5000}} and record["cell_kpis"] == {"RRU.PrbAvailDl": 106}
