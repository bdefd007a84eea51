"""Twin message codecs: round trips, digest verification, malformed bytes."""

import numpy as np
import pytest
import torch
from fl_helpers import tiny_model

from dnt.errors import DecodeError, EncodeError, ModelIntegrityError
from dnt.fl.messages import Forecast, GlobalTwin, TwinUpdate, WireSizes, decode, encode, global_twin_from_model
from dnt.fl.proto import dnt_twin_pb2 as pb
from dnt.fl.types import GlobalModel, Update, flatten, layout


def _update_msg() -> TwinUpdate:
    model = tiny_model()
    delta = np.random.default_rng(0).normal(size=layout(model).size).astype(np.float32)
    return TwinUpdate(Update("5161", delta, 144, 7, cluster=2, staleness=1), layout(model), 1_700_000_000_000,
                      b"n" * 16, b"t" * 32)


def test_twin_update_round_trip():
    msg = _update_msg()
    out = decode(encode(msg), TwinUpdate, layout=msg.layout)
    u, v = msg.update, out.update
    assert (v.client_id, v.num_samples, v.base_version, v.cluster, v.staleness) == ("5161", 144, 7, 2, 1)
    assert np.array_equal(u.delta, v.delta) and out.layout == msg.layout
    assert (out.created_ms, out.nonce, out.auth_tag) == (msg.created_ms, msg.nonce, msg.auth_tag)


def test_optional_fields_stay_absent():
    lay = layout(tiny_model())
    out = decode(encode(TwinUpdate(Update("a", np.zeros(lay.size), 1, 0), lay)), TwinUpdate)
    assert out.update.cluster is None and out.update.staleness is None and out.nonce == b""


def test_global_twin_round_trip_loads_into_a_model():
    src, dst = tiny_model(0), tiny_model(1)
    msg = global_twin_from_model(src, version=12, cluster=3)
    out = decode(encode(msg), GlobalTwin, layout=layout(dst))
    out.load_into(dst)
    assert out.model.version == 12 and out.model.cluster == 3 and out.sha256 == msg.sha256
    assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values(), strict=True))


def test_global_twin_digest_mismatch_raises_integrity_error():
    data = encode(global_twin_from_model(tiny_model(), version=1))
    m = pb.GlobalTwin.FromString(data)
    raw = bytearray(m.tensors[0].data)
    raw[0] ^= 0x01  # one flipped bit in one weight
    m.tensors[0].data = bytes(raw)
    with pytest.raises(ModelIntegrityError, match="corrupt or was modified"):
        decode(m.SerializeToString(), GlobalTwin)
    m.sha256 = ""
    with pytest.raises(ModelIntegrityError):
        decode(m.SerializeToString(), GlobalTwin)


def test_forecast_round_trip():
    f = Forecast(5161, 1_388_000_000_000, 600_000, (1.5, 2.25, 3.0), 9, cluster=1)
    assert decode(encode(f), Forecast) == f


@pytest.mark.parametrize("cls", [TwinUpdate, GlobalTwin, Forecast])
def test_garbage_bytes_raise_decode_error(cls: type):
    rng = np.random.default_rng(0)
    samples = [b"", b"\xff", b"\x0a\xff\xff\xff\xff\x0f", b"hello world"] + [rng.bytes(n) for n in (3, 17, 64, 500)]
    for data in samples:
        with pytest.raises(DecodeError):
            decode(data, cls)


def test_truncated_and_mismatched_tensors_raise_decode_error():
    msg = _update_msg()
    data = encode(msg)
    with pytest.raises(DecodeError):
        decode(data[: len(data) // 2], TwinUpdate)
    m = pb.TwinUpdate.FromString(data)
    m.delta[0].data = m.delta[0].data[:-4]
    with pytest.raises(DecodeError, match="expected"):
        decode(m.SerializeToString(), TwinUpdate)
    other = layout(torch.nn.Linear(2, 2))
    with pytest.raises(DecodeError, match="do not match"):
        decode(data, TwinUpdate, layout=other)
    with pytest.raises(DecodeError, match="expected bytes"):
        decode("text", TwinUpdate)  # type: ignore[arg-type]


def test_load_into_wrong_architecture_and_encode_errors():
    msg = global_twin_from_model(tiny_model(), version=1)
    with pytest.raises(DecodeError, match="does not match"):
        msg.load_into(torch.nn.Linear(2, 2))
    bad = GlobalTwin(GlobalModel(1, np.zeros(3)), layout(tiny_model()))
    with pytest.raises(EncodeError):
        encode(bad)
    with pytest.raises(EncodeError, match="not a twin message"):
        encode("x")  # type: ignore[arg-type]


def test_wire_sizes_match_real_messages():
    lay = layout(tiny_model())
    sizes = WireSizes.of(lay)
    real = len(encode(_update_msg()))
    assert abs(sizes.update_bytes - real) <= 16 and sizes.update_bytes > lay.nbytes
    assert abs(sizes.model_bytes - len(encode(global_twin_from_model(tiny_model(), 5)))) <= 16
    assert flatten(tiny_model()).nbytes == lay.nbytes
