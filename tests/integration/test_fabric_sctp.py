"""The fabric's E2 termination over kernel SCTP: the same code path as TCP (skips without kernel SCTP)."""

from __future__ import annotations

import pytest
from fabric_support import FabricProcess, wait_until

from dnt.e2 import transport as t
from dnt.e2.rnib import read_nodes
from sim.config import load_config
from sim.runner import SimRunner

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not t.sctp_available(), reason="kernel has no SCTP (EPROTONOSUPPORT)")]


def test_e2_setup_over_sctp(fabric_env, fabric_store):
    # Prepare
    fab = FabricProcess(fabric_env, extra=("--transport", "sctp")).start()
    cfg = load_config(None, ["ric.transport=sctp", "ric.host=127.0.0.1", f"ric.port={fab.endpoints['e2_port']}",
                             "topology.n_gnbs=1"])
    sim = SimRunner(cfg).start()
    try:
        # Execute
        nodes = wait_until(lambda: read_nodes(fabric_store), what="E2 setup over SCTP")
    finally:
        sim.stop()
        sim.join(10)
        fab.stop()
    # Assert
    assert [n.ran_name for n in nodes] == sim.ran_names
