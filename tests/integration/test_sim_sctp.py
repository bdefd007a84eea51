"""Kernel SCTP end to end (skips where the kernel has no SCTP, e.g. EPROTONOSUPPORT on the project machines)."""

from __future__ import annotations

import pytest

from dnt.e2 import transport as t
from sim.config import load_config
from sim.runner import SimRunner
from sim.testing import ReceiverConfig, TestReceiver

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not t.sctp_available(), reason="kernel has no SCTP (EPROTONOSUPPORT)")]


def test_blocking_sctp_transports_keep_message_boundaries_and_ppid_70():
    listener = t.StreamListener("sctp", "127.0.0.1", 0)
    try:
        client = t.connect("sctp", *listener.address)
        server = listener.accept(timeout=5)
        assert server is not None
        messages = [b"a", b"bc" * 1000, b"", b"x" * 70_000]
        client.send_many(m for m in messages if m)
        assert [server.recv(timeout=5) for _ in range(3)] == [m for m in messages if m]
        # PPID as received: ask the kernel for sctp_rcvinfo on the raw socket
        server.sock.setsockopt(t.SOL_SCTP, t.SCTP_RECVRCVINFO, 1)
        client.send(b"ping")
        data, anc, _flags, _addr = server.sock.recvmsg(1024, 1024)
        infos = [t.unpack_rcvinfo(d) for level, kind, d in anc if level == t.SOL_SCTP and kind == t.SCTP_RCVINFO]
        assert data == b"ping" and infos and infos[0].ppid == t.E2AP_PPID
        client.close()
        server.close()
    finally:
        listener.close()


def test_simulator_reports_over_kernel_sctp():
    with TestReceiver(ReceiverConfig(transport="sctp", report_period_ms=50)) as rx:
        cfg = load_config(None, ["ric.transport=sctp", f"ric.port={rx.port}", "topology.n_gnbs=1",
                                 "replay.speed=600", "replay.duration_sim_s=1200"])
        runner = SimRunner(cfg).start()
        assert runner.join(30)
        sent = runner.counters()["e2/indications_sent"]
        assert sent > 0 and rx.wait_for(lambda: rx.indications() == sent)
        assert rx.counters["rx/sn_gaps"] == 0
