"""ServedLedger: live vs counterfactual static-policy served traffic from KPM records."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.ran.capacity import CapacityModel, CellRadioConfig, SlicePolicy
from dnt.rrm.served import STATIC_POLICIES, ServedLedger

RADIO = CellRadioConfig()
CAP = 1000.0 * RADIO.mbps_per_prb * RADIO.n_prb  # kbit/s of one cell


def _record(cell: int, t: int, offered: tuple[float, float, float], served: tuple[float, float, float]) -> dict:
    names = ("embb", "voice", "messaging")
    return {"cell": cell, "time_ms": t, "slices": {n: {"DNT.OfferedLoadDl": o, "DRB.UEThpDl": s}
                                                   for n, o, s in zip(names, offered, served, strict=True)}}


def test_counterfactuals_match_the_simulators_capacity_model_and_split_who_goes_unserved() -> None:
    led = ServedLedger(RADIO)
    offered = (0.9 * CAP, 0.5 * CAP, 0.01 * CAP)  # 141 % load: someone is cut
    assert led.add(_record(1, 0, offered, (0.5 * CAP, 0.49 * CAP, 0.01 * CAP)))
    model = CapacityModel(RADIO)
    activity = np.array(offered) / (1000.0 * np.array(RADIO.mbps_per_unit))
    for name, pol in STATIC_POLICIES.items():
        rep = model.serve(activity[None], *(a[None] for a in pol.arrays()))
        np.testing.assert_allclose(led.served[name], 1000.0 * rep.served_mbps[0], rtol=1e-9)
    s = led.summary()
    # work-conserving quotas: the same total is unserved, the split between slices differs
    assert s["live"]["unserved"] == pytest.approx(1 - 1.0 / 1.41, abs=1e-6)
    assert s["no_quotas"]["unserved"] == pytest.approx(s["live"]["unserved"], abs=1e-6)
    assert s["live"]["unserved_by_slice"]["voice"] < s["no_quotas"]["unserved_by_slice"]["voice"]
    # weighted utility: live keeps voice (w 0.3) at 98 % and cuts eMBB (w 0.5) to 56 %
    assert s["live"]["utility"] == pytest.approx(0.5 * 0.5 / 0.9 + 0.3 * 0.98 + 0.2, abs=1e-9)


def test_each_report_counts_once_and_incomplete_records_are_dropped() -> None:
    led = ServedLedger(RADIO, {"all": SlicePolicy()})
    rec = _record(2, 600_000, (100.0, 10.0, 1.0), (100.0, 10.0, 1.0))
    assert led.add(rec) and not led.add(rec)
    assert not led.add({"cell": 2, "time_ms": 0, "slices": {"embb": {}}}) and led.dropped == 1
    s = led.summary()
    assert led.reports == 1 and s["live"]["unserved"] == 0.0 and s["all"]["utility"] == pytest.approx(1.0)
    assert ServedLedger(RADIO).summary()["static_equal"] == {
        "unserved": 0.0, "unserved_by_slice": {"embb": 0.0, "voice": 0.0, "messaging": 0.0}, "utility": 0.0}
