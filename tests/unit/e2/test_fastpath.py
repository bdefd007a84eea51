"""RIC indication template codec (dnt.e2.fastpath): byte-identical to pycrate, falls back outside the template."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from e2_strategies import messages, request_ids, u8, u16
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pycrate_asn1dir import E2AP

from dnt.e2 import e2ap, fastpath
from dnt.e2.e2ap_ies import RicRequestId
from dnt.e2.e2ap_types import RICindication, RICsubscriptionDeleteRequest, WireInfo
from dnt.errors import DecodeError, EncodeError

PDU = E2AP.E2AP_PDU_Descriptions.E2AP_PDU

# octet-string lengths around the X.691 length-determinant forms: 1 octet < 128 <= 2 octets < 16384 <= fragments
_BOUNDARY_LENGTHS = [0, 1, 125, 126, 127, 128, 129, 255, 256, 16300, 16317, 16318, 16319, 16381, 16382, 16383,
                     16384, 16385, 20000]
lengths = st.one_of(st.integers(0, 300), st.sampled_from(_BOUNDARY_LENGTHS))
octets = lengths.flatmap(lambda n: st.binary(min_size=n, max_size=n))
indications = st.builds(
    RICindication, request_id=request_ids, ran_function_id=st.integers(0, 4095), action_id=u8,
    sn=st.none() | u16, indication_type=st.sampled_from(["report", "insert"]), header=octets, message=octets,
    call_process_id=st.none() | octets,
)
KPM_SIZED = RICindication(request_id=RicRequestId(1001, 7), ran_function_id=2, action_id=1, sn=42,
                          header=bytes(range(17)), message=bytes(range(256))[:250])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(indications)
@example(KPM_SIZED)
@example(replace(KPM_SIZED, message=bytes(16383), call_process_id=b"c"))  # outer length needs fragments
def test_template_encoding_is_byte_identical_to_pycrate(msg: RICindication) -> None:
    # Execute
    fast = fastpath.encode_indication(msg)
    generic = e2ap.encode(msg)

    # Assert
    assert fast == generic
    assert fastpath.decode_indication(fast) == msg
    assert fastpath.decode(fast) == msg


@settings(max_examples=200, deadline=None)
@given(st.builds(RICindication, request_id=request_ids, ran_function_id=st.integers(0, 4095), action_id=u8,
                 sn=st.none() | u16, indication_type=st.sampled_from(["report", "insert"]),
                 header=st.binary(max_size=200), message=st.binary(max_size=400),
                 call_process_id=st.none() | st.binary(max_size=200)))
def test_template_decoder_reads_pycrate_bytes_without_fallback(msg: RICindication) -> None:
    # Prepare: bytes built by pycrate, all within the template (< 16384 octets)
    data = e2ap.encode(msg)

    # Execute
    fast = fastpath.try_decode_indication(data)

    # Assert
    assert fast == msg == e2ap.decode(data)


def test_kpm_sized_pycrate_vector_decodes_on_the_template() -> None:
    # Prepare: a pycrate-built indication of a KPM report's size (17-octet header, 250-octet message)
    data = e2ap.encode(KPM_SIZED)

    # Execute
    fast = fastpath.try_decode_indication(data)

    # Assert
    assert len(data) == 318  # 5-octet PDU head + 313-octet RICindication value
    assert fast == KPM_SIZED
    assert fastpath.encode_indication(fast) == data


def test_long_values_leave_the_template_for_pycrate() -> None:
    # Prepare: 16384 octets need X.691 fragmentation, which the template does not write
    msg = replace(KPM_SIZED, message=bytes(16384))

    # Execute
    data = fastpath.encode_indication(msg)

    # Assert
    assert data == e2ap.encode(msg)
    assert fastpath.try_decode_indication(data) is None
    assert fastpath.decode_indication(data) == msg


def test_non_standard_criticalities_fall_back_both_ways() -> None:
    # Prepare: the same indication with IE 28 marked "ignore" on the wire
    PDU.from_aper(e2ap.encode(KPM_SIZED))
    val = copy.deepcopy(PDU.get_val())
    val[1]["value"][1]["protocolIEs"][4]["criticality"] = "ignore"
    data = bytes(PDU.to_aper(val))

    # Execute
    fast = fastpath.try_decode_indication(data)
    decoded = fastpath.decode_indication(data)

    # Assert
    assert fast is None
    assert decoded == KPM_SIZED and decoded.wire is not None
    assert fastpath.encode_indication(decoded) == data


def test_unknown_optional_ie_falls_back_to_the_generic_decoder() -> None:
    # Prepare: an extra IE (id 98, criticality ignore) the template does not know
    data = bytearray(e2ap.encode(KPM_SIZED))
    extra = bytes.fromhex("0062400100")
    length = ((data[3] & 0x3F) << 8) | data[4]  # 2-octet open-type length
    data[3:5] = bytes((0x80 | (length + len(extra)) >> 8, (length + len(extra)) & 0xFF))
    data[7] += 1
    mutated = bytes(data[:8] + extra + data[8:])

    # Execute
    fast = fastpath.try_decode_indication(mutated)
    decoded = fastpath.decode_indication(mutated)

    # Assert
    assert fast is None
    assert decoded == KPM_SIZED


def test_other_messages_go_through_the_generic_codec() -> None:
    # Prepare
    msg = RICsubscriptionDeleteRequest(request_id=RicRequestId(123, 21), ran_function_id=147)
    data = e2ap.encode(msg)

    # Execute / Assert
    assert fastpath.encode(msg) == data
    assert fastpath.decode(data) == msg
    assert fastpath.try_decode_indication(data) is None
    with pytest.raises(DecodeError, match="expected a RICindication, got RICsubscriptionDeleteRequest"):
        fastpath.decode_indication(data)


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (replace(KPM_SIZED, ran_function_id=4096), "out of range"),
        (replace(KPM_SIZED, request_id=RicRequestId(-1, 0)), "out of range"),
        (replace(KPM_SIZED, action_id=256), "out of range"),
        (replace(KPM_SIZED, sn=65536), "out of range"),
        (replace(KPM_SIZED, indication_type="policy"), "not report/insert"),
        (replace(KPM_SIZED, header="text"), "must be bytes"),
        (replace(KPM_SIZED, request_id=None), "wrong type"),
        (RICsubscriptionDeleteRequest(request_id=RicRequestId(1, 1), ran_function_id=1), "expects a RICindication"),
    ],
    ids=["ran-function", "requestor", "action", "sn", "type", "header", "request-id", "other-message"],
)
def test_encode_indication_rejects_invalid_values(msg: Any, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        fastpath.encode_indication(msg)


def test_wire_record_makes_the_encoder_use_pycrate() -> None:
    # Prepare: a wire record the structure does not fit is ignored by pycrate as well
    msg = replace(KPM_SIZED, wire=WireInfo(("ignore",)))

    # Execute / Assert
    assert fastpath.encode(msg) == e2ap.encode(KPM_SIZED)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_dispatching_codec_agrees_with_the_generic_one_on_every_message(msg: Any) -> None:
    # Execute
    data = fastpath.encode(msg)

    # Assert
    assert data == e2ap.encode(msg)
    assert fastpath.decode(data) == msg
