"""The local runtime's frame format (sans-IO), its config from the environment, and the runtime factory."""

from __future__ import annotations

import json

import pytest

from dnt.errors import ConfigError, DecodeError, TransportError
from dnt.ric.factory import runtime_kind
from dnt.ric.local_runtime import (
    FLAG_RTS,
    HEADER,
    KIND_DATA,
    KIND_HELLO,
    Frame,
    FrameBuffer,
    FramingError,
    LocalConfig,
    decode_body,
    encode_frame,
)


def test_a_frame_round_trips_through_the_buffer_in_any_split() -> None:
    # Prepare
    frames = [Frame(KIND_DATA, 12050, b"\x00\x05payload", "gnb_001_001_000001", 7, b"xid-1", "e2term"),
              Frame(KIND_DATA, 12040, b"", None, -1, b"", "", FLAG_RTS),
              Frame(KIND_HELLO, 0, json.dumps({"name": "kpimon"}).encode(), endpoint="kpimon")]
    stream = b"".join(encode_frame(f) for f in frames)
    for chunk in (1, 3, 20, len(stream)):
        buf = FrameBuffer()
        # Execute
        bodies = [b for k in range(0, len(stream), chunk) for b in buf.feed(stream[k:k + chunk])]
        # Assert
        assert [decode_body(b) for b in bodies] == frames


def test_the_header_layout_is_the_documented_one() -> None:
    # Execute
    data = encode_frame(Frame(KIND_DATA, 12050, b"P", "m", 3, b"x", "e"))
    # Assert: length, version, kind, flags, meid_len, mtype, sub_id, xid_len, endpoint_len, reserved
    assert HEADER.size == 20
    assert HEADER.unpack_from(data) == (20, 1, KIND_DATA, 0, 1, 12050, 3, 1, 1, 0)
    assert data[20:] == b"mxeP"


def test_a_bad_length_or_version_loses_framing() -> None:
    # Execute / Assert
    with pytest.raises(FramingError):
        FrameBuffer().feed(b"\x00\x00\x00\x20\x09" + b"\x00" * 32)
    with pytest.raises(FramingError):
        FrameBuffer(max_frame_bytes=64).feed(encode_frame(Frame(KIND_DATA, 1, b"x" * 100)))
    with pytest.raises(FramingError):
        FrameBuffer().feed(b"\x00\x00\x00\x02\x01\x01")


_GOOD = encode_frame(Frame(KIND_DATA, 1, b"x", "m"))


@pytest.mark.parametrize("body", [
    _GOOD[4:7] + b"\x1f" + _GOOD[8:],  # MEID length 31 in an 18-byte body
    encode_frame(Frame(7, 1, b"x"))[4:],
    encode_frame(Frame(KIND_DATA, 1, b"", "\xe9"))[4:].replace(b"?", b"\xe9"),
    b"\x01\x01",
])
def test_inconsistent_frames_are_decode_errors(body: bytes) -> None:
    # Execute / Assert
    with pytest.raises(DecodeError):
        decode_body(body)


def test_fields_that_do_not_fit_are_refused_on_encode() -> None:
    with pytest.raises(TransportError):
        encode_frame(Frame(KIND_DATA, 1, meid="g" * 32))
    with pytest.raises(TransportError):
        encode_frame(Frame(KIND_DATA, 1, endpoint="e" * 65))


def test_local_config_from_env_reads_fabric_address_and_descriptor(tmp_path) -> None:
    # Prepare
    desc = tmp_path / "config-file.json"
    desc.write_text(json.dumps({"name": "rrm", "messaging": {"ports": [{"name": "rmrdata", "policies": [20008, 7]}]}}))
    # Execute
    cfg = LocalConfig.from_env({"DNT_FABRIC": "10.0.0.5:4561", "CONFIG_FILE": str(desc),
                                "DNT_SUBMGR_URL": "http://h:1/ric/v1"})
    # Assert
    assert (cfg.xapp_name, cfg.fabric_host, cfg.fabric_port, cfg.policies, cfg.submgr_url) == (
        "rrm", "10.0.0.5", 4561, (7, 20008), "http://h:1/ric/v1")
    with pytest.raises(ConfigError):
        LocalConfig.from_env({"DNT_FABRIC": "nohostport"})
    with pytest.raises(ConfigError):
        LocalConfig(xapp_name="")


def test_runtime_kind_comes_from_config_unless_the_environment_overrides_it() -> None:
    assert runtime_kind("local", {}) == "local"
    assert runtime_kind("local", {"DNT_RIC_RUNTIME": "RMR"}) == "rmr"
    with pytest.raises(ConfigError):
        runtime_kind("k8s", {})
