"""Interop: the E2AP codec on real PDUs from other implementations (../shared/data/e2-vectors).

Every valid E2AP-PDU vector decodes to a typed message and re-encodes byte-identically (through both the
pycrate codec and the fast-path dispatcher); the pre-standard OSC draft and srsRAN 4G's own setup
request with a non-PrintableString AMF name are rejected with DecodeError; setup requests with vendor
or KPM v1 RAN function definitions decode (definitions stay opaque) and E2 setup can skip what it
does not serve. E2SM-level vectors (KPM header/message) belong to the E2SM tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dnt.e2 import e2ap, fastpath
from dnt.e2.e2ap_ies import (
    Cause,
    ComponentIdF1,
    ComponentIdNG,
    E2nodeGnb,
    GlobalRicId,
    PlmnId,
    RanFunctionIdCause,
    RanFunctionIdItem,
)
from dnt.e2.e2ap_types import (
    E2connectionUpdate,
    E2setupRequest,
    E2setupResponse,
    RICcontrolFailure,
    RICcontrolRequest,
    RICindication,
    RICsubscriptionDeleteRequest,
    RICsubscriptionRequest,
)
from dnt.e2.vectors import Vector, load_vector, load_vectors
from dnt.errors import DecodeError

pytestmark = [pytest.mark.shared, pytest.mark.integration]

KPM_OID = "1.3.6.1.4.1.53148.1.2.2.2"
RC_OID = "1.3.6.1.4.1.53148.1.1.2.3"

VALID = {
    "ns3_e2sim_ricindication_short": RICindication,
    "radisys_e2setuprequest": E2setupRequest,
    "srsran4g_old_foreign_e2setuprequest_kpmv1": E2setupRequest,
    "srsran_e2connectionupdate": E2connectionUpdate,
    "srsran_e2setupresponse": E2setupResponse,
    "srsran_riccontrolfailure": RICcontrolFailure,
    "srsran_riccontrolrequest_rc_handover": RICcontrolRequest,
    "srsran_riccontrolrequest_rc_slice_prb_quota": RICcontrolRequest,
    "srsran_ricsubscriptiondeleterequest": RICsubscriptionDeleteRequest,
    "srsran_ricsubscriptionrequest": RICsubscriptionRequest,
}
REJECTED = {
    "osc_submgr_legacy_subscriptionrequest_NEGATIVE": r"unknown procedure code 201",
    "srsran4g_old_self_e2setuprequest_kpmv1": r"E2setupRequest.*PrintableString.*outside its alphabet",
}


def _vector(directory: Path, name: str) -> Vector:
    return load_vector(directory / f"{name}.txt")


def test_every_e2ap_vector_has_an_expectation(e2_vectors_dir: Path) -> None:
    # Execute
    names = {v.name for v in load_vectors(e2_vectors_dir, type_prefix="E2AP-PDU")}

    # Assert: a new vector in ../shared must be classified here
    assert names == set(VALID) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_vector_decodes_and_re_encodes_byte_identically(e2_vectors_dir: Path, name: str) -> None:
    # Prepare
    vector = _vector(e2_vectors_dir, name)

    # Execute
    msg = e2ap.decode(vector.data)
    fast = fastpath.decode(vector.data)

    # Assert
    assert type(msg) is VALID[name]
    assert e2ap.encode(msg) == vector.data
    assert fast == msg
    assert fastpath.encode(fast) == vector.data


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_non_conformant_vector_is_rejected_with_a_decode_error(e2_vectors_dir: Path, name: str) -> None:
    # Prepare
    vector = _vector(e2_vectors_dir, name)

    # Execute / Assert
    with pytest.raises(DecodeError, match=REJECTED[name]):
        e2ap.decode(vector.data)
    with pytest.raises(DecodeError):
        fastpath.decode(vector.data)


def test_radisys_setup_keeps_vendor_definitions_opaque_and_skips_what_the_ric_does_not_serve(
    e2_vectors_dir: Path,
) -> None:
    # Prepare
    request = e2ap.decode(_vector(e2_vectors_dir, "radisys_e2setuprequest").data)
    assert isinstance(request, E2setupRequest)
    ric = GlobalRicId(PlmnId("001", "01"), 25)

    # Execute: a RIC that serves KPM only
    accepted, rejected = e2ap.known_ran_functions(request, {KPM_OID})
    response = e2ap.decode(e2ap.encode(e2ap.e2_setup_response(request, ric, {KPM_OID})))

    # Assert
    assert [(f.ran_function_id, f.oid) for f in request.ran_functions] == [(1, KPM_OID), (2, RC_OID)]
    assert request.ran_functions[0].definition.startswith(b"\x70\x18ORAN-E2SM-KPM")
    assert request.global_e2node_id == E2nodeGnb.build("311", "48", 0, 22)
    assert e2ap.ran_name(request.global_e2node_id) == "gnb_311_048_000000"
    assert [(c.interface_type, c.component_id) for c in request.component_configs] == [
        ("f1", ComponentIdF1(4294967297)), ("ng", ComponentIdNG("RadisysAMF"))]
    assert accepted == (RanFunctionIdItem(1, 0),)
    assert rejected == (RanFunctionIdCause(2, Cause("ricService", "ran-function-not-supported")),)
    assert isinstance(response, E2setupResponse)
    assert response.accepted == accepted and response.rejected == rejected
    assert len(response.component_config_acks) == len(request.component_configs)


def test_kpm_v1_setup_request_decodes_and_its_unknown_oid_is_rejected(e2_vectors_dir: Path) -> None:
    # Prepare
    request = e2ap.decode(_vector(e2_vectors_dir, "srsran4g_old_foreign_e2setuprequest_kpmv1").data)
    assert isinstance(request, E2setupRequest)

    # Execute
    accepted, rejected = e2ap.known_ran_functions(request, {KPM_OID, RC_OID})

    # Assert
    assert [(f.ran_function_id, f.oid, f.revision) for f in request.ran_functions] == [(0, "OID123", 2)]
    assert accepted == ()
    assert [r.ran_function_id for r in rejected] == [0]


def test_srsran_indication_and_control_fields(e2_vectors_dir: Path) -> None:
    # Execute
    indication = e2ap.decode(_vector(e2_vectors_dir, "ns3_e2sim_ricindication_short").data)
    control = e2ap.decode(_vector(e2_vectors_dir, "srsran_riccontrolrequest_rc_slice_prb_quota").data)
    subscription = e2ap.decode(_vector(e2_vectors_dir, "srsran_ricsubscriptionrequest").data)

    # Assert: the values the vector files' headers state
    assert isinstance(indication, RICindication)
    assert (indication.request_id.requestor_id, indication.ran_function_id, indication.action_id) == (24, 200, 1)
    assert indication.call_process_id == b"cpid"
    assert fastpath.try_decode_indication(_vector(e2_vectors_dir, "ns3_e2sim_ricindication_short").data) == indication
    assert isinstance(control, RICcontrolRequest)
    assert (control.ran_function_id, control.ack_request, control.call_process_id) == (3, "ack", None)
    assert (control.header.hex(), len(control.message)) == ("0100000102000005", 79)  # RC style 2, action 6
    assert isinstance(subscription, RICsubscriptionRequest)
    assert (subscription.request_id.requestor_id, subscription.request_id.instance_id) == (123, 21)
    assert subscription.event_trigger == bytes.fromhex("01020304")
    assert [(a.action_id, a.action_type, a.definition) for a in subscription.actions] == [
        (1, "report", bytes.fromhex("01020304"))]
    assert subscription.wire is not None  # sent with procedure criticality "ignore"
