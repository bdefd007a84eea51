"""KPM measurement names, values and encodings."""

import numpy as np
import pytest

from dnt.e2 import kpm
from dnt.ran import SLICES, CellReport
from sim.measurements import (
    MessageEncoder,
    ValueTable,
    decode_message_generic,
    default_names,
    parse_name,
    subcounter_name,
    supported_names,
)


def test_names_are_28552_with_snssai_subcounters():
    assert subcounter_name("DRB.UEThpDl", SLICES[0]) == "DRB.UEThpDl.1-000001"
    assert parse_name("DRB.UEThpDl.2-000002")[1] == 1
    assert parse_name("RRU.PrbAvailDl")[1] is None
    assert parse_name("RRU.PrbAvailDl.1-000001") is None  # cell-level only
    assert parse_name("DRB.UEThpDl.9-000009") is None
    assert len(default_names()) == 11 and set(default_names()) <= set(supported_names())


def test_value_table_rounds_units_and_sums_cell_totals():
    # Prepare: one cell, served (10.0004, 0.5, 0.0) Mbit/s, 40.6 / 2.2 / 0 PRBs of 106
    rep = CellReport(offered_mbps=np.array([[20.0, 0.5, 0.001]]), served_mbps=np.array([[10.0004, 0.5, 0.0]]),
                     prb_used=np.array([[40.6, 2.2, 0.0]]), prb_avail=106)
    table = ValueTable()
    # Execute
    vals = dict(zip(table.names, table.compute(rep)[0].tolist(), strict=True))
    # Assert
    assert vals["DRB.UEThpDl.1-000001"] == 10_000 and vals["DRB.UEThpDl"] == 10_500
    assert vals["DNT.OfferedLoadDl.1-000001"] == 20_000 and vals["DNT.OfferedLoadDl.3-000003"] == 1
    assert vals["RRU.PrbUsedDl.1-000001"] == 41 and vals["RRU.PrbUsedDl"] == 43
    assert vals["RRU.PrbAvailDl"] == 106 and vals["RRU.PrbTotDl"] == round(100 * 42.8 / 106)
    with pytest.raises(KeyError, match="Nope"):
        table.columns(["RRU.PrbAvailDl", "Nope"])


@pytest.mark.parametrize("values", [[0] * 11, list(range(11)), [2**32 - 1, 65536, 255, 256, 1, 0, 7, 10**6, 3, 106,
                                                                 100]])
def test_fast_and_generic_messages_are_the_same_bytes(values):
    fast = MessageEncoder(default_names(), 1000, fast=True).encode(values)
    generic = MessageEncoder(default_names(), 1000, fast=False).encode(values)
    assert fast == generic
    msg = decode_message_generic(fast)
    assert msg.records == (tuple(values),) and msg.meas_names == default_names() and msg.granul_period_ms == 1000
    assert kpm.decode_indication_message(fast).named() == dict(zip(default_names(), values, strict=True))
