"""Authenticated twin updates: key files and Secret directories, HMAC tags, replay guard."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import stat
import struct

import numpy as np
import pytest

from dnt.errors import AuthError, ConfigError, DecodeError
from dnt.fl.auth import (
    DOMAIN,
    NONCE_BYTES,
    KeyRing,
    ReplayGuard,
    canonical_bytes,
    delta_digest,
    main,
    new_nonce,
    nonce_time_ms,
    sign_update,
    verify_update,
)
from dnt.fl.messages import TwinUpdate, decode, encode
from dnt.fl.types import Layout, Update

LAY = Layout(("w", "b"), ((2, 2), (3,)))
NOW = 1_700_000_000_000


def _msg(cid: str = "htwin-0", delta: np.ndarray | None = None, **kw: object) -> TwinUpdate:
    d = np.arange(LAY.size, dtype=np.float32) / 10 if delta is None else delta
    return TwinUpdate(Update(cid, d, 12, 3, **kw), LAY, NOW)  # type: ignore[arg-type]


# --- keys ------------------------------------------------------------------------------------------------
def test_generate_save_load_roundtrip_with_0600(tmp_path) -> None:
    ring = KeyRing.generate(["htwin-0", "htwin-1"])
    path = tmp_path / "keys.json"
    ring.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = KeyRing.load(path)
    assert again.clients == ("htwin-0", "htwin-1")
    assert all(again.key(c) == ring.key(c) and len(ring.key(c)) == 32 for c in ring.clients)
    assert "htwin-0" in again and len(again) == 2 and ring.key("htwin-0").hex() not in repr(again)
    assert main(["generate", str(tmp_path / "k2.json"), "a", "b"]) == 0
    assert KeyRing.load(tmp_path / "k2.json").clients == ("a", "b")


def test_yaml_file_with_numeric_ids(tmp_path) -> None:
    p = tmp_path / "keys.yaml"
    p.write_text(f'5161: "{"ab" * 16}"\n"htwin-1": "{"cd" * 20}"\n')
    ring = KeyRing.load(p)
    assert ring.key("5161") == bytes.fromhex("ab" * 16) and len(ring.key("htwin-1")) == 20


def test_directory_like_a_mounted_kubernetes_secret(tmp_path) -> None:
    # kubelet layout: <dir>/..2024_01_01_00_00_00.123/<id>, <dir>/..data -> that dir, <dir>/<id> -> ..data/<id>
    d = tmp_path / "twin-keys"
    ts = d / "..2024_01_01_00_00_00.123"
    ts.mkdir(parents=True)
    keys = {"htwin-0": "11" * 32, "htwin-1": "22" * 32}
    for cid, hexkey in keys.items():
        (ts / cid).write_text(hexkey + "\n")
    os.symlink(ts.name, d / "..data")
    for cid in keys:
        os.symlink(f"..data/{cid}", d / cid)
    ring = KeyRing.load(d)
    assert ring.clients == ("htwin-0", "htwin-1")
    assert ring.key("htwin-1") == bytes.fromhex("22" * 32)


def test_key_file_errors_say_what_to_do(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist.*generate"):
        KeyRing.load(tmp_path / "nope.json")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ConfigError, match="holds no keys"):
        KeyRing.load(empty)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(ConfigError, match="holds no keys"):
        KeyRing.load(tmp_path / "emptydir")
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": "zz"}')
    with pytest.raises(ConfigError, match="not hex"):
        KeyRing.load(bad)
    short = tmp_path / "short.json"
    short.write_text('{"a": "abcd"}')
    with pytest.raises(ConfigError, match="at least 16"):
        KeyRing.load(short)
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must map client id"):
        KeyRing.load(lst)
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.json"
        KeyRing.generate(["a"]).save(locked)
        os.chmod(locked, 0)
        with pytest.raises(ConfigError, match="cannot read"):
            KeyRing.load(locked)
    with pytest.raises(AuthError) as err:
        KeyRing.generate(["a"]).key("b")
    assert err.value.reason == "unknown client"


# --- tags ------------------------------------------------------------------------------------------------
def test_sign_encode_decode_verify() -> None:
    ring = KeyRing.generate(["htwin-0"])
    signed = sign_update(_msg(), ring, now_ms=NOW)
    assert len(signed.nonce) == NONCE_BYTES and len(signed.auth_tag) == 32 and nonce_time_ms(signed.nonce) == NOW
    back = decode(encode(signed), TwinUpdate, LAY)
    verify_update(back, ring)  # no exception
    verify_update(back, ring.key("htwin-0"))  # a bare key works too
    assert sign_update(_msg(), ring).nonce != sign_update(_msg(), ring).nonce  # fresh random part


def test_canonical_layout_is_length_prefixed_fields() -> None:
    m = dataclasses.replace(_msg(cluster=2), nonce=b"N" * 16)
    got = canonical_bytes(m)

    def f(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    want = (f(DOMAIN) + f(b"htwin-0") + f(struct.pack(">Q", 3)) + f(struct.pack(">Q", 12)) + f(struct.pack(">q", 2))
            + f(b"N" * 16) + f(delta_digest(m)))
    assert got == want
    assert len(delta_digest(m)) == 32
    # no cluster = an empty field, distinct from cluster 0
    assert canonical_bytes(dataclasses.replace(_msg(), nonce=b"N" * 16)) != canonical_bytes(
        dataclasses.replace(_msg(cluster=0), nonce=b"N" * 16))


def test_field_boundaries_are_unambiguous() -> None:
    # moving bytes between the client id and the tensor names must change the signed string
    a = TwinUpdate(Update("ab", np.zeros(2, np.float32), 1, 0), Layout(("c",), ((2,),)), 0, b"N" * 16)
    b = TwinUpdate(Update("a", np.zeros(2, np.float32), 1, 0), Layout(("bc",), ((2,),)), 0, b"N" * 16)
    assert canonical_bytes(a) != canonical_bytes(b)
    # same data cut into other shapes must change the digest
    c = TwinUpdate(Update("a", np.zeros(4, np.float32), 1, 0), Layout(("x",), ((2, 2),)), 0)
    d = TwinUpdate(Update("a", np.zeros(4, np.float32), 1, 0), Layout(("x",), ((4,),)), 0)
    assert delta_digest(c) != delta_digest(d)


@pytest.mark.parametrize("change", ["delta", "base_version", "num_samples", "client_id", "cluster", "nonce"])
def test_any_modification_breaks_the_tag(change: str) -> None:
    ring = KeyRing.generate(["htwin-0", "htwin-1"])
    m = sign_update(_msg(), ring, now_ms=NOW)
    u = m.update
    if change == "delta":
        d = u.delta.copy()
        d[3] += 1e-3
        m = dataclasses.replace(m, update=dataclasses.replace(u, delta=d))
    elif change == "client_id":
        m = dataclasses.replace(m, update=dataclasses.replace(u, client_id="htwin-1"))
    elif change == "cluster":
        m = dataclasses.replace(m, update=dataclasses.replace(u, cluster=1))
    elif change == "nonce":
        m = dataclasses.replace(m, nonce=new_nonce(NOW))
    else:
        m = dataclasses.replace(m, update=dataclasses.replace(u, **{change: getattr(u, change) + 1}))
    with pytest.raises(AuthError) as err:
        verify_update(decode(encode(m), TwinUpdate, LAY), ring)
    assert err.value.reason == "bad tag"


def test_unsigned_unknown_and_wrong_key() -> None:
    ring = KeyRing.generate(["htwin-0"])
    with pytest.raises(AuthError) as err:
        verify_update(_msg(), ring)
    assert err.value.reason == "unsigned"
    with pytest.raises(AuthError) as err:
        verify_update(sign_update(_msg("intruder"), b"k" * 32), ring)
    assert err.value.reason == "unknown client"
    with pytest.raises(AuthError) as err:
        verify_update(sign_update(_msg(), b"k" * 32), ring)  # right id, wrong key
    assert err.value.reason == "bad tag"
    with pytest.raises(AuthError) as err:
        verify_update(dataclasses.replace(sign_update(_msg(), ring), nonce=b"short"), ring)
    assert err.value.reason == "unsigned"


def test_tag_is_plain_hmac_sha256_of_the_canonical_bytes() -> None:
    key = b"\x01" * 32
    m = sign_update(_msg(), key, nonce=b"\x02" * 16)
    assert m.auth_tag == hmac.new(key, canonical_bytes(m), hashlib.sha256).digest()


def test_delta_not_fitting_layout_is_a_decode_error() -> None:
    m = TwinUpdate(Update("a", np.zeros(3, np.float32), 1, 0), LAY, 0)
    with pytest.raises(DecodeError):
        delta_digest(m)


# --- replay ----------------------------------------------------------------------------------------------
def _reason(fn, *args) -> str:
    with pytest.raises(AuthError) as err:
        fn(*args)
    return err.value.reason


def test_replayed_and_stale_nonces_are_rejected() -> None:
    now = [NOW]
    g = ReplayGuard(window_ms=60_000, max_nonces=100, max_skew_ms=5_000, clock=lambda: now[0])
    n1 = new_nonce(NOW)
    g.admit("a", n1)
    assert _reason(g.admit, "a", n1) == "replayed nonce"
    g.admit("b", n1)  # per client
    assert _reason(g.admit, "a", new_nonce(NOW - 60_001)) == "stale nonce"  # older than the window
    assert _reason(g.admit, "a", new_nonce(NOW + 5_001)) == "stale nonce"  # too far ahead
    g.admit("a", new_nonce(NOW + 5_000))
    assert _reason(g.admit, "a", b"x" * 5) == "unsigned"
    now[0] = NOW + 120_000  # everything old is forgotten, and stays rejected as stale
    assert _reason(g.admit, "a", n1) == "stale nonce"
    g.admit("a", new_nonce(now[0]))
    assert len(g) <= 2


def test_memory_is_bounded_and_forgotten_nonces_stay_rejected() -> None:
    g = ReplayGuard(window_ms=10**9, max_nonces=5, clock=lambda: NOW + 100)
    nonces = [new_nonce(NOW + i) for i in range(20)]
    for n in nonces:
        g.admit("a", n)
    assert len(g) == 5
    for n in nonces:  # remembered ones are replays, forgotten ones are below the floor
        assert _reason(g.admit, "a", n) in ("replayed nonce", "stale nonce")
    assert _reason(g.admit, "a", new_nonce(NOW + 3)) == "stale nonce"


def test_guard_survives_serialisation() -> None:
    clock = lambda: NOW  # noqa: E731
    g = ReplayGuard(window_ms=60_000, clock=clock)
    n1, n2 = new_nonce(NOW), new_nonce(NOW - 1)
    g.admit("a", n1)
    g.admit("b", n2)
    again = ReplayGuard.from_bytes(g.to_bytes(), clock=clock)
    assert again.window_ms == 60_000 and len(again) == 2
    assert _reason(again.admit, "a", n1) == "replayed nonce"
    assert _reason(again.admit, "b", n2) == "replayed nonce"
    again.admit("a", new_nonce(NOW))
    assert ReplayGuard.from_bytes(g.to_bytes(), window_ms=1000, clock=clock).window_ms == 1000
    with pytest.raises(DecodeError):
        ReplayGuard.from_bytes(b"{not json")
    with pytest.raises(DecodeError):
        ReplayGuard.from_bytes(b'{"window_ms": 1}')
