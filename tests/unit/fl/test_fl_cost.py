"""Cost ledger arithmetic and the folded cost."""

import pytest

from dnt.errors import ConfigError
from dnt.fl.cost import CostLedger, CostTotals, CostWeights


def test_ledger_sums_by_phase_and_total():
    led = CostLedger("htwin")
    led.add("creation", bytes_up=100, bytes_down=50, client_s=1.5, messages=2, samples=10)
    led.add("creation", bytes_up=20, server_s=0.5)
    led.add("maintenance", bytes_up=1, client_s=0.25, wall_s=3.0)
    assert led.totals("creation") == CostTotals(120, 50, 1.5, 0.5, 0.0, 2, 10)
    assert led.totals("nothing") == CostTotals()
    tot = led.totals()
    assert (tot.bytes_up, tot.bytes, tot.compute_s, tot.wall_s) == (121, 171, 2.25, 3.0)


def test_weights_fold_bytes_and_compute():
    w = CostWeights(link_bps=8e6, compute_weight=2.0)  # 1 MB = 1 link-second
    t = CostTotals(bytes_up=1_000_000, bytes_down=1_000_000, client_s=1.0, server_s=0.5)
    assert w.link_s(t) == pytest.approx(2.0)
    assert w.cost(t) == pytest.approx(2.0 * 1.5 + 2.0)


def test_merge_and_dict():
    a, b = CostLedger("a"), CostLedger("b")
    a.add("x", bytes_up=1)
    b.add("x", bytes_up=2)
    b.add("y", client_s=1.0)
    a.merge(b)
    d = a.as_dict(CostWeights(link_bps=8.0))
    assert d["phases"]["x"]["bytes_up"] == 3 and d["total"]["client_s"] == 1.0
    assert d["total"]["link_s"] == pytest.approx(3.0) and d["total"]["cost_s"] == pytest.approx(4.0)


def test_rejects_negative_or_nan():
    led = CostLedger()
    with pytest.raises(ConfigError, match="bytes_up"):
        led.add("x", bytes_up=-1)
    with pytest.raises(ConfigError, match="client_s"):
        led.add("x", client_s=float("nan"))
    with pytest.raises(ConfigError, match="link_bps"):
        CostWeights(link_bps=0)
