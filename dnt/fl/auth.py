"""Authenticated twin updates: per-client keys, HMAC-SHA256 tags, replay protection.

A twin worker signs each :class:`~dnt.fl.messages.TwinUpdate` with its own secret key; the aggregator
checks the tag and the nonce *before* the update reaches the FedBuff server. A worker without the key
cannot push updates under another worker's id, a modified update (delta, base version, sample count …)
fails the tag, and an update recorded on the wire and sent again is rejected as a replay, also after an
aggregator restart (the :class:`ReplayGuard` is persisted in SDL).

**Keys** (:class:`KeyRing`): at least 16 random bytes per client id, written as **hex**. Either one
JSON/YAML file mapping client id → hex key::

    {"htwin-0": "3f9a…", "htwin-1": "c001…"}

or a directory holding one file per client, named by the client id and containing its hex key: that is
how a Kubernetes Secret mounted as a volume looks (``kubectl create secret generic twin-keys
--from-literal=htwin-0=$(openssl rand -hex 32) …``); the hidden entries Kubernetes adds (``..data``,
``..2024_…``) are ignored. ``python -m dnt.fl.auth generate keys.json htwin-0 htwin-1`` writes a new key
file (mode 0600) for local runs.

**Nonce**: 16 bytes = 8-byte big-endian wall-clock time in ms (the worker's clock) followed by 8 random
bytes (:func:`new_nonce`). The random half makes two nonces of one millisecond differ; the time half lets
the aggregator forget old nonces: it remembers each client's recent nonces and rejects any nonce older
than its window (see :class:`ReplayGuard`), so its memory is bounded.

**Tag**: ``HMAC-SHA256(key, canonical_bytes(msg))`` (32 bytes in ``auth_tag``), compared with
:func:`hmac.compare_digest`. The canonical byte string is a sequence of length-prefixed fields, each
``uint32 big-endian length || bytes``, in this order:

====  ======================  ===============================================================
 #    field                   bytes
====  ======================  ===============================================================
 1    domain                  ASCII ``dnt.twin.v1.TwinUpdate/hmac-sha256`` (version/purpose)
 2    client_id               UTF-8
 3    base_version            uint64 big-endian (8 bytes)
 4    num_samples             uint64 big-endian (8 bytes)
 5    cluster_id              empty when absent, else int64 big-endian (8 bytes)
 6    nonce                   the raw nonce (16 bytes)
 7    delta digest            SHA-256 (32 bytes) of the delta payload, see :func:`delta_digest`
====  ======================  ===============================================================

The delta payload digest is SHA-256 over, per tensor in layout order, the length-prefixed tensor name
(UTF-8), the length-prefixed shape (uint32 big-endian per dimension) and the length-prefixed tensor data
(little-endian float32, exactly the wire bytes of ``Tensor.data``). ``num_samples`` and ``cluster_id``
are signed too: a sample-weighted rule weighs updates by ``num_samples``, and changing it in flight
would otherwise change the update's weight without breaking the tag. ``created_ms`` (informational) and
``staleness`` (set by the server) are not covered; the nonce carries the signed timestamp.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dnt.errors import AuthError, ConfigError, DecodeError
from dnt.fl.messages import TwinUpdate
from dnt.fl.types import split

__all__ = ["KeyRing", "ReplayGuard", "sign_update", "verify_update", "canonical_bytes", "delta_digest",
           "new_nonce", "nonce_time_ms", "NONCE_BYTES", "TAG_BYTES", "MIN_KEY_BYTES", "DOMAIN"]

NONCE_BYTES = 16
"""Nonce length: 8-byte big-endian ms timestamp + 8 random bytes."""
TAG_BYTES = 32
"""HMAC-SHA256 tag length."""
MIN_KEY_BYTES = 16
"""Shortest key accepted (128 bits); :meth:`KeyRing.generate` makes 32-byte keys."""
DOMAIN = b"dnt.twin.v1.TwinUpdate/hmac-sha256"
"""First field of the signed bytes: binds the tag to this message kind and layout version."""

_KEY_HELP = ("write a JSON/YAML file mapping client id -> hex key, or a directory with one file per client id "
             "holding its hex key (a mounted Kubernetes Secret); `python -m dnt.fl.auth generate FILE ID...` "
             "makes one; or leave keys_path empty to run without authentication")


# --- keys ------------------------------------------------------------------------------------------------
def _parse_key(client_id: str, raw: Any, where: str) -> bytes:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: key of client {client_id!r} must be a hex string (quote it in YAML), "
                          f"got {type(raw).__name__}")
    text = raw.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as err:
        raise ConfigError(f"{where}: key of client {client_id!r} is not hex ({err})") from err
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"{where}: key of client {client_id!r} has {len(key)} bytes, at least {MIN_KEY_BYTES} "
                          "are needed (e.g. `openssl rand -hex 32`)")
    return key


class KeyRing:
    """Per-client secret keys (client id → key bytes). ``repr`` never shows a key.

    Parameters
    ----------
    keys : client id → key (at least :data:`MIN_KEY_BYTES` bytes each).
    """

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        self._keys: dict[str, bytes] = {}
        for cid, key in keys.items():
            if not isinstance(cid, str) or not cid:
                raise ConfigError(f"client ids must be non-empty strings, got {cid!r}")
            if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
                raise ConfigError(f"key of client {cid!r} must be at least {MIN_KEY_BYTES} bytes")
            self._keys[cid] = bytes(key)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyRing:
        """Read keys from a JSON/YAML file (client id → hex key) or a directory of per-client files.

        Raises
        ------
        ConfigError
            the path is missing, unreadable, empty, or holds a malformed key (the message says what to do).
        """
        p = Path(path)
        if not str(path):
            raise ConfigError(f"no key file given; {_KEY_HELP}")
        if not p.exists():
            raise ConfigError(f"key file {p} does not exist; {_KEY_HELP}")
        try:
            keys = cls._load_dir(p) if p.is_dir() else cls._load_file(p)
        except OSError as err:
            raise ConfigError(f"cannot read key file {p}: {err}; check its permissions (the xApp's user must "
                              f"be able to read it)") from err
        if not keys:
            raise ConfigError(f"key file {p} holds no keys; {_KEY_HELP}")
        return cls(keys)

    @staticmethod
    def _load_dir(p: Path) -> dict[str, bytes]:
        keys: dict[str, bytes] = {}
        for entry in sorted(p.iterdir()):
            if entry.name.startswith(".") or not entry.is_file():  # ..data, ..2024_01_01…: k8s bookkeeping
                continue
            keys[entry.name] = _parse_key(entry.name, entry.read_text(encoding="utf-8"), str(entry))
        return keys

    @staticmethod
    def _load_file(p: Path) -> dict[str, bytes]:
        text = p.read_text(encoding="utf-8")
        if not text.strip():
            return {}
        try:
            data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as err:
            raise ConfigError(f"key file {p} is not valid JSON/YAML: {err}") from err
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"key file {p} must map client id -> hex key, got {type(data).__name__}")
        keys: dict[str, bytes] = {}
        for cid, raw in data.items():
            if isinstance(cid, bool) or not isinstance(cid, str | int):
                raise ConfigError(f"key file {p}: client id {cid!r} must be a string")
            keys[str(cid)] = _parse_key(str(cid), raw, str(p))
        return keys

    @classmethod
    def generate(cls, client_ids: Iterable[str], nbytes: int = 32) -> KeyRing:
        """Fresh random keys (``secrets.token_bytes``) for ``client_ids`` (local runs and tests)."""
        if nbytes < MIN_KEY_BYTES:
            raise ConfigError(f"keys must have at least {MIN_KEY_BYTES} bytes, got {nbytes}")
        return cls({str(c): secrets.token_bytes(nbytes) for c in client_ids})

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the keys as a JSON file (client id → hex key) readable only by its owner (mode 0600)."""
        p = Path(path)
        body = json.dumps({c: k.hex() for c, k in sorted(self._keys.items())}, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent or ".")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(p, 0o600)

    def key(self, client_id: str) -> bytes:
        """The client's key; :class:`AuthError` ``"unknown client"`` when there is none."""
        try:
            return self._keys[client_id]
        except KeyError:
            raise AuthError("unknown client", client_id, "no key for this client id") from None

    @property
    def clients(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} clients)"


# --- tags ------------------------------------------------------------------------------------------------
def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def new_nonce(now_ms: int | None = None) -> bytes:
    """A fresh nonce: 8-byte big-endian ms timestamp (now) + 8 random bytes."""
    ms = int(time.time() * 1000) if now_ms is None else int(now_ms)
    return struct.pack(">Q", ms) + secrets.token_bytes(NONCE_BYTES - 8)


def nonce_time_ms(nonce: bytes) -> int:
    """The timestamp a :func:`new_nonce` nonce carries (ms since the epoch)."""
    if len(nonce) != NONCE_BYTES:
        raise AuthError("unsigned", "", f"nonce has {len(nonce)} bytes, expected {NONCE_BYTES}")
    return int(struct.unpack(">Q", nonce[:8])[0])


def delta_digest(msg: TwinUpdate) -> bytes:
    """SHA-256 of the update's delta payload (per tensor: name, shape, little-endian float32 data)."""
    h = hashlib.sha256()
    try:
        parts = split(msg.update.delta, msg.layout)
    except (ValueError, IndexError) as err:
        raise DecodeError(f"TwinUpdate: delta does not fit its layout ({err})") from err
    for (name, arr), shape in zip(parts.items(), msg.layout.shapes, strict=True):
        h.update(_field(name.encode()))
        h.update(_field(b"".join(struct.pack(">I", int(s)) for s in shape)))
        h.update(_field(np.ascontiguousarray(arr, dtype="<f4").tobytes()))
    return h.digest()


def canonical_bytes(msg: TwinUpdate, nonce: bytes | None = None) -> bytes:
    """The byte string the tag covers (module docstring, "Tag"); ``nonce`` defaults to ``msg.nonce``."""
    u = msg.update
    cluster = b"" if u.cluster is None else struct.pack(">q", int(u.cluster))
    return b"".join((_field(DOMAIN), _field(u.client_id.encode("utf-8")), _field(struct.pack(">Q", u.base_version)),
                     _field(struct.pack(">Q", u.num_samples)), _field(cluster),
                     _field(msg.nonce if nonce is None else nonce), _field(delta_digest(msg))))


def _key_of(keys: KeyRing | bytes, client_id: str) -> bytes:
    return keys.key(client_id) if isinstance(keys, KeyRing) else bytes(keys)


def sign_update(msg: TwinUpdate, keys: KeyRing | bytes, *, nonce: bytes | None = None,
                now_ms: int | None = None) -> TwinUpdate:
    """A copy of ``msg`` carrying a fresh nonce and its HMAC-SHA256 tag (then ``encode`` it and send).

    Parameters
    ----------
    keys : the worker's own key, or a :class:`KeyRing` holding it under ``msg.update.client_id``.
    nonce : the nonce to use (default :func:`new_nonce` at ``now_ms``).
    """
    nonce = new_nonce(now_ms) if nonce is None else bytes(nonce)
    key = _key_of(keys, msg.update.client_id)
    tag = hmac.new(key, canonical_bytes(msg, nonce), hashlib.sha256).digest()
    return dataclasses.replace(msg, nonce=nonce, auth_tag=tag)


def verify_update(msg: TwinUpdate, keys: KeyRing | bytes) -> None:
    """Check a decoded update's tag; returns quietly when it is authentic.

    Raises
    ------
    AuthError
        ``"unknown client"`` (no key), ``"unsigned"`` (no nonce/tag, or of the wrong length) or
        ``"bad tag"`` (the tag does not match: another key, or the message was modified).
    """
    cid = msg.update.client_id
    key = _key_of(keys, cid)
    if not msg.auth_tag or not msg.nonce:
        raise AuthError("unsigned", cid, "the update carries no nonce/auth tag")
    if len(msg.nonce) != NONCE_BYTES or len(msg.auth_tag) != TAG_BYTES:
        raise AuthError("unsigned", cid, f"nonce/tag of {len(msg.nonce)}/{len(msg.auth_tag)} bytes, "
                                         f"expected {NONCE_BYTES}/{TAG_BYTES}")
    want = hmac.new(key, canonical_bytes(msg), hashlib.sha256).digest()
    if not hmac.compare_digest(want, msg.auth_tag):
        raise AuthError("bad tag", cid, "HMAC mismatch: wrong key or modified message")


# --- replay ----------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _ClientNonces:
    floor_ms: int = -1
    """Nonces with a timestamp <= floor are rejected as stale (older ones were forgotten)."""
    seen: dict[bytes, int] = dataclasses.field(default_factory=dict)
    """Remembered nonce -> its timestamp."""


class ReplayGuard:
    """Rejects a nonce seen before for the same client, and nonces too old to be checked.

    A nonce is accepted when (1) its timestamp is within ``window_ms`` of the aggregator's clock (not older
    than ``now - window_ms``, not newer than ``now + max_skew_ms``), (2) its timestamp is above the
    client's *floor*, and (3) it is not among the client's remembered nonces. Memory is bounded: nonces
    older than the window are forgotten (rule 1 rejects them anyway), and a client keeps at most
    ``max_nonces``; forgetting a nonce raises that client's floor to its timestamp, so no forgotten nonce
    can ever be accepted again. Only call :meth:`admit` for authenticated updates (after
    :func:`verify_update`), so unauthenticated traffic cannot fill the memory.

    Parameters
    ----------
    window_ms : how old a nonce may be (10 minutes by default).
    max_nonces : nonces remembered per client (a worker sending more than this many updates per window
        has its oldest ones forgotten, and any older nonce rejected as stale).
    max_skew_ms : how far a nonce may be ahead of the aggregator's clock.
    clock : ``() -> ms since the epoch`` (tests).
    """

    def __init__(self, window_ms: int = 600_000, max_nonces: int = 1024, max_skew_ms: int = 60_000,
                 clock: Callable[[], int] | None = None) -> None:
        if window_ms <= 0 or max_nonces < 1 or max_skew_ms < 0:
            raise ConfigError(f"replay window_ms must be > 0, max_nonces >= 1, max_skew_ms >= 0; got "
                              f"{window_ms}, {max_nonces}, {max_skew_ms}")
        self.window_ms, self.max_nonces, self.max_skew_ms = int(window_ms), int(max_nonces), int(max_skew_ms)
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._clients: dict[str, _ClientNonces] = {}

    def check(self, client_id: str, nonce: bytes, now_ms: int | None = None) -> None:
        """Raise :class:`AuthError` (``"replayed nonce"``, ``"stale nonce"``, ``"unsigned"``) without recording."""
        if len(nonce) != NONCE_BYTES:
            raise AuthError("unsigned", client_id, f"nonce has {len(nonce)} bytes, expected {NONCE_BYTES}")
        ts = nonce_time_ms(nonce)
        now = self.clock() if now_ms is None else int(now_ms)
        state = self._clients.get(client_id)
        if state is not None and nonce in state.seen:
            raise AuthError("replayed nonce", client_id, f"nonce {nonce.hex()[:16]}… was already used")
        if ts < now - self.window_ms:
            raise AuthError("stale nonce", client_id, f"nonce time {ts} is {now - ts} ms old, the window is "
                                                      f"{self.window_ms} ms (check the worker's clock)")
        if ts > now + self.max_skew_ms:
            raise AuthError("stale nonce", client_id, f"nonce time {ts} is {ts - now} ms ahead of the aggregator's "
                                                      f"clock, at most {self.max_skew_ms} ms allowed")
        if state is not None and ts <= state.floor_ms:
            raise AuthError("stale nonce", client_id, f"nonce time {ts} is not after {state.floor_ms}, the oldest "
                                                      "time still checkable for this client")

    def admit(self, client_id: str, nonce: bytes, now_ms: int | None = None) -> None:
        """:meth:`check` then remember the nonce."""
        now = self.clock() if now_ms is None else int(now_ms)
        if client_id in self._clients:
            self._prune(self._clients[client_id], now)
        self.check(client_id, nonce, now)
        state = self._clients.setdefault(client_id, _ClientNonces())
        state.seen[bytes(nonce)] = nonce_time_ms(nonce)
        self._prune(state, now)

    def _prune(self, state: _ClientNonces, now: int) -> None:
        horizon = now - self.window_ms
        old = [n for n, t in state.seen.items() if t < horizon]
        if len(state.seen) - len(old) > self.max_nonces:
            by_time = sorted((t, n) for n, t in state.seen.items() if t >= horizon)
            old += [n for _, n in by_time[:len(by_time) - self.max_nonces]]
        for n in old:
            state.floor_ms = max(state.floor_ms, state.seen.pop(n))

    def __len__(self) -> int:
        """Nonces remembered, all clients together."""
        return sum(len(s.seen) for s in self._clients.values())

    def to_bytes(self) -> bytes:
        """The remembered nonces and floors (JSON), to persist in SDL."""
        body = {"v": 1, "window_ms": self.window_ms, "max_nonces": self.max_nonces, "max_skew_ms": self.max_skew_ms,
                "clients": {c: {"floor_ms": s.floor_ms,
                                "seen": {base64.b64encode(n).decode(): t for n, t in s.seen.items()}}
                            for c, s in sorted(self._clients.items())}}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, window_ms: int | None = None, max_nonces: int | None = None,
                   max_skew_ms: int | None = None, clock: Callable[[], int] | None = None) -> ReplayGuard:
        """Rebuild a saved guard; settings given here replace the saved ones.

        Raises
        ------
        DecodeError
            a corrupt blob.
        """
        try:
            body = json.loads(data)
            guard = cls(int(body["window_ms"]) if window_ms is None else window_ms,
                        int(body["max_nonces"]) if max_nonces is None else max_nonces,
                        int(body["max_skew_ms"]) if max_skew_ms is None else max_skew_ms, clock)
            for cid, s in body["clients"].items():
                guard._clients[str(cid)] = _ClientNonces(
                    int(s["floor_ms"]), {base64.b64decode(n, validate=True): int(t) for n, t in s["seen"].items()})
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as err:
            raise DecodeError(f"replay guard state is corrupt: {err}") from err
        now = guard.clock()
        for state in guard._clients.values():
            guard._prune(state, now)
        return guard


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dnt.fl.auth generate FILE CLIENT_ID...``: write fresh keys (JSON, hex, mode 0600)."""
    p = argparse.ArgumentParser(prog="python -m dnt.fl.auth", description="twin update keys")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write a new key file (JSON: client id -> hex key, mode 0600)")
    g.add_argument("path")
    g.add_argument("client_ids", nargs="+")
    args = p.parse_args(argv)
    KeyRing.generate(args.client_ids).save(args.path)
    print(f"wrote {len(args.client_ids)} keys to {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
