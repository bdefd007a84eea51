"""RIC control request template codec: byte-identical to pycrate, falls back outside the template, never raises."""

from __future__ import annotations

from dataclasses import replace

import pytest
from e2_strategies import request_ids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnt.e2 import e2ap, fastpath
from dnt.e2.e2ap_ies import RicRequestId
from dnt.e2.e2ap_types import RICcontrolRequest, RICindication
from dnt.e2.fastpath_control import encode_control_request, try_decode_control_request
from dnt.errors import DecodeError, EncodeError

lengths = st.one_of(st.integers(0, 300), st.sampled_from([126, 127, 128, 129, 16300, 16383, 16384]))
octets = lengths.flatmap(lambda n: st.binary(min_size=n, max_size=n))
controls = st.builds(
    RICcontrolRequest, request_id=request_ids, ran_function_id=st.integers(0, 4095),
    call_process_id=st.none() | octets, header=octets, message=octets,
    ack_request=st.sampled_from([None, "noAck", "ack"]),
)
SLICE_CONTROL = RICcontrolRequest(request_id=RicRequestId(1001, 7), ran_function_id=3, call_process_id=b"\x00" * 8,
                                  header=bytes(range(9)), message=bytes(range(79)), ack_request="noAck")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(controls)
def test_template_is_byte_identical_to_pycrate_and_decodes_back(msg: RICcontrolRequest) -> None:
    data = encode_control_request(msg)
    assert data == e2ap.encode(msg)
    back = try_decode_control_request(data)
    if back is not None:  # inside the template
        assert back == msg == e2ap.decode(data)
    assert fastpath.decode(data) == msg


def test_typical_control_takes_the_template():
    data = fastpath.encode(SLICE_CONTROL)
    assert try_decode_control_request(data) == SLICE_CONTROL


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=120) | st.builds(lambda i, b: bytearray(encode_control_request(SLICE_CONTROL))[:i] + b,
                                          st.integers(0, 140), st.binary(max_size=4)))
def test_decoder_never_raises_and_agrees_with_pycrate(data: bytes) -> None:
    got = try_decode_control_request(data)
    if got is not None:
        assert e2ap.decode(bytes(data)) == got
    try:
        fastpath.decode(bytes(data))
    except DecodeError:
        pass


def test_other_messages_and_bad_values():
    assert try_decode_control_request(fastpath.encode(RICindication(
        request_id=RicRequestId(1, 2), ran_function_id=2, action_id=1, header=b"h", message=b"m"))) is None
    with pytest.raises(EncodeError, match="out of range"):
        encode_control_request(replace(SLICE_CONTROL, ran_function_id=5000))
    with pytest.raises(EncodeError, match="noAck/ack"):
        encode_control_request(replace(SLICE_CONTROL, ack_request="nAck"))  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match="expects a RICcontrolRequest"):
        encode_control_request("x")  # type: ignore[arg-type]
