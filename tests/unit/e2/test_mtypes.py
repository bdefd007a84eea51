"""RMR message type numbers (dnt.e2.mtypes) against OSC's RIC_message_types.h / rtmgr list."""

from __future__ import annotations

import pytest

from dnt.e2 import e2ap, mtypes
from dnt.e2.e2ap_types import E2connectionUpdate, E2RemovalRequest, RICindication, RICsubscriptionRequest


def test_the_numbers_osc_routes_by() -> None:
    # Prepare: the values of oran-conventions §2.1
    expected = {
        "RIC_E2_SETUP_REQ": 12001, "RIC_E2_SETUP_RESP": 12002, "RIC_E2_SETUP_FAILURE": 12003,
        "RIC_E2_RESET_REQ": 12004, "RIC_E2_RESET_RESP": 12005, "RIC_ERROR_INDICATION": 12007,
        "RIC_SUB_REQ": 12010, "RIC_SUB_RESP": 12011, "RIC_SUB_FAILURE": 12012,
        "RIC_SUB_DEL_REQ": 12020, "RIC_SUB_DEL_RESP": 12021, "RIC_SUB_DEL_FAILURE": 12022,
        "RIC_SUB_DEL_REQUIRED": 12023, "RIC_SERVICE_UPDATE": 12030, "RIC_SERVICE_UPDATE_ACK": 12031,
        "RIC_SERVICE_UPDATE_FAILURE": 12032, "RIC_CONTROL_REQ": 12040, "RIC_CONTROL_ACK": 12041,
        "RIC_CONTROL_FAILURE": 12042, "RIC_INDICATION": 12050, "RIC_SERVICE_QUERY": 12060,
        "RIC_E2NODE_CONFIG_UPDATE": 12070, "RIC_E2NODE_CONFIG_UPDATE_ACK": 12071,
        "RIC_E2NODE_CONFIG_UPDATE_FAILURE": 12072, "A1_POLICY_REQ": 20010, "A1_POLICY_RESP": 20011,
        "A1_POLICY_QUERY": 20012, "RIC_HEALTH_CHECK_REQ": 100, "RIC_HEALTH_CHECK_RESP": 101,
    }

    # Execute
    got = {name: getattr(mtypes, name) for name in expected}

    # Assert
    assert got == expected
    assert {name: mtypes.MTYPE_BY_NAME[name] for name in expected} == expected


def test_numbers_are_unique_and_name_of_inverts_the_table() -> None:
    # Execute
    names = [mtypes.name_of(v) for v in mtypes.MTYPE_BY_NAME.values()]

    # Assert
    assert names == list(mtypes.MTYPE_BY_NAME)
    assert len(set(mtypes.MTYPE_BY_NAME.values())) == len(mtypes.MTYPE_BY_NAME)
    assert mtypes.name_of(12050) == "RIC_INDICATION"
    assert mtypes.name_of(4242) == "UNKNOWN(4242)"
    assert set(mtypes.MTYPE_BY_NAME) <= set(mtypes.__all__)


def test_every_e2ap_message_of_the_rmr_table_maps_to_its_type() -> None:
    # Prepare
    classes = {spec.cls for spec in e2ap._SPECS}

    # Execute
    mapped = {cls.E2AP_NAME: mtypes.MTYPE_BY_E2AP_MESSAGE.get(cls.E2AP_NAME) for cls in classes}

    # Assert: only E2 connection update and E2 removal have no OSC RMR type
    unmapped = {name for name, mtype in mapped.items() if mtype is None}
    assert unmapped == {"E2connectionUpdate", "E2connectionUpdateAcknowledge", "E2connectionUpdateFailure",
                        "E2RemovalRequest", "E2RemovalResponse", "E2RemovalFailure"}
    assert set(mtypes.MTYPE_BY_E2AP_MESSAGE) <= set(mapped)


def test_mtype_of_accepts_a_message_or_its_name() -> None:
    # Prepare
    sub = RICsubscriptionRequest.__new__(RICsubscriptionRequest)

    # Execute / Assert
    assert mtypes.mtype_of(sub) == mtypes.RIC_SUB_REQ
    assert mtypes.mtype_of("RICindication") == mtypes.RIC_INDICATION == mtypes.mtype_of(
        RICindication.__new__(RICindication))
    with pytest.raises(KeyError, match="no OSC RMR message type"):
        mtypes.mtype_of(E2connectionUpdate.__new__(E2connectionUpdate))
    with pytest.raises(KeyError):
        mtypes.mtype_of(E2RemovalRequest.E2AP_NAME)
