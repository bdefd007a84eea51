"""A stand-in for RMR's C library, so ricxappframe's real Python code runs where ``librmr_si.so`` is absent.

This is the one documented exception to "no monkeypatched transports" (STYLE.md): it replaces exactly
ricxappframe's C-library binding, ``ricxappframe.rmr.rmrclib.rmrclib``, by a module registered in
``sys.modules`` **before ricxappframe's RMR modules are imported** — the same boundary the OSC docs
build mocks (``autodoc_mock_imports = ['ricxappframe.rmr.rmrclib']``). Everything above it is real:
``rmr.py``'s ctypes wrappers and ``rmr_mbuf_t`` handling, ``helpers.rmr_rcvall_msgs_raw``, ``RmrLoop``'s
receive thread and queue, ``RMRXapp``'s dispatch, config watcher and health handler.

What the stub provides:

* the module attributes ``rmr.py`` imports: ``rmr_c_lib`` (an object whose ``__getattr__`` hands out the
  C functions, as ``ctypes.CDLL`` does; ``restype`` / ``argtypes`` may be set on them and are ignored),
  ``get_constants()`` (RMR 4.9's values), ``get_mapping_dict()``, ``state_to_status()``;
* C functions emulated on real ``rmr_mbuf_t`` ctypes structures (payload and transaction-id buffers
  the Python code ``memmove``\\ s into): ``rmr_init``, ``rmr_ready``, ``rmr_close``, ``rmr_alloc_msg``,
  ``rmr_realloc_payload``, ``rmr_free_msg``, ``rmr_payload_size``, ``rmr_send_msg``, ``rmr_rts_msg``,
  ``rmr_torcv_msg``, ``rmr_rcv_msg``, ``rmr_bytes2meid``, ``rmr_get_meid``, ``rmr_get_src``,
  ``rmr_set_stimeout``, ``rmr_set_vlevel`` (calls, wormholes: ``NotImplementedError``);
* an in-process "wire": every ``rmr_init`` context is an endpoint ``<host>:<port>``; sends are routed
  by a route table (``mse``/``rte`` records of RMR's seed-table format, or :meth:`RmrStub.add_route`),
  return-to-sender goes to the message's source; :class:`StubPeer` endpoints play platform components
  (the A1 mediator, e2term) in tests. No route: ``RMR_ERR_NOENDPT``; an endpoint nobody listens on:
  ``RMR_ERR_SENDFAILED``.
* ``rmr_torcv_msg`` waits at most :attr:`RmrStub.max_wait_ms` (default 20 ms) per call whatever the
  caller asks (RmrLoop asks 5 s), so that a receive thread notices ``stop`` quickly; RMR may return
  early with ``RMR_ERR_TIMEOUT``, so callers cannot tell.

Use::

    from dnt.ric import rmr_stub
    stub = rmr_stub.install()          # before anything imports ricxappframe.rmr / xapp_frame
    a1 = stub.peer("a1mediator:4562")
    stub.add_route(A1_POLICY_RESP, "a1mediator:4562")

One stub per process (ricxappframe binds the C functions once, at import); :meth:`RmrStub.reset` clears
routes and peers between tests. :attr:`RmrStub.live_buffers` counts mbufs not yet freed (leak checks).
"""

from __future__ import annotations

import ctypes
import queue
import sys
import threading
import types
from collections.abc import Callable
from ctypes import POINTER, Structure, c_char, c_int
from dataclasses import dataclass
from typing import Any

__all__ = ["MODULE", "CONSTANTS", "RmrStub", "StubPeer", "StubMessage", "install", "installed"]

MODULE = "ricxappframe.rmr.rmrclib.rmrclib"
"""The module the stub replaces."""

CONSTANTS: dict[str, int] = {
    "RMR_MAX_XID": 32, "RMR_MAX_SID": 32, "RMR_MAX_MEID": 32, "RMR_MAX_SRC": 64, "RMR_MAX_RCV_BYTES": 4096,
    "RMRFL_NONE": 0, "RMRFL_NOTHREAD": 1, "RMRFL_MTCALL": 2, "RMRFL_AUTO_ALLOC": 3, "RMRFL_NAME_ONLY": 4,
    "RMRFL_NOLOCK": 8, "RMR_DEF_SIZE": 0, "RMR_VOID_MSGTYPE": -1, "RMR_VOID_SUBID": -1,
    "RMR_OK": 0, "RMR_ERR_BADARG": 1, "RMR_ERR_NOENDPT": 2, "RMR_ERR_EMPTY": 3, "RMR_ERR_NOHDR": 4,
    "RMR_ERR_SENDFAILED": 5, "RMR_ERR_CALLFAILED": 6, "RMR_ERR_NOWHOPEN": 7, "RMR_ERR_WHID": 8,
    "RMR_ERR_OVERFLOW": 9, "RMR_ERR_RETRY": 10, "RMR_ERR_RCVFAILED": 11, "RMR_ERR_TIMEOUT": 12,
    "RMR_ERR_UNSET": 13, "RMR_ERR_TRUNC": 14, "RMR_ERR_INITFAILED": 15,
}
"""What ``rmr_get_consts`` of RMR 4.9 publishes (``ricxappframe.rmr.rmrclib`` docstring, its tests)."""
_OK, _NOENDPT, _SENDFAILED, _TIMEOUT = 0, 2, 5, 12
_XID = 32


class _Mbuf(Structure):
    """Layout of the public part of RMR's ``rmr_mbuf_t`` (identical to ricxappframe's ``rmr_mbuf_t``)."""

    _fields_ = [("state", c_int), ("mtype", c_int), ("len", c_int), ("payload", POINTER(c_char)),
                ("xaction", POINTER(c_char)), ("sub_id", c_int), ("tp_state", c_int)]


@dataclass(frozen=True)
class StubMessage:
    """A message on the stub's wire (what a :class:`StubPeer` receives)."""

    mtype: int
    payload: bytes
    meid: bytes = b""
    sub_id: int = -1
    xid: bytes = b""
    source: str = ""


class _Buf:
    """Everything behind one mbuf pointer: the struct, its buffers, the hidden header fields."""

    def __init__(self, capacity: int) -> None:
        self.struct = _Mbuf()
        self.xbuf = ctypes.create_string_buffer(_XID + 1)  # +1: ricxappframe reads it as a C string
        self.struct.xaction = ctypes.cast(self.xbuf, POINTER(c_char))
        self.struct.mtype = self.struct.sub_id = -1
        self.meid = b""
        self.src = ""
        self.capacity = 0
        self.pbuf: Any = None
        self.resize(capacity, copy=False)

    def resize(self, capacity: int, copy: bool) -> None:
        new = ctypes.create_string_buffer(max(capacity, 1))
        if copy and self.pbuf is not None:
            ctypes.memmove(new, self.pbuf, min(self.capacity, capacity))
        self.pbuf, self.capacity = new, max(capacity, 1)
        self.struct.payload = ctypes.cast(new, POINTER(c_char))

    def snapshot(self, source: str) -> StubMessage:
        s = self.struct
        return StubMessage(s.mtype, ctypes.string_at(self.pbuf, s.len), self.meid, s.sub_id,
                           ctypes.string_at(self.xbuf, _XID).rstrip(b"\0"), source)

    def load(self, msg: StubMessage) -> None:
        if len(msg.payload) > self.capacity:
            self.resize(len(msg.payload), copy=False)
        ctypes.memmove(self.pbuf, msg.payload, len(msg.payload))
        ctypes.memmove(self.xbuf, msg.xid[:_XID].ljust(_XID, b"\0"), _XID)
        s = self.struct
        s.mtype, s.len, s.sub_id, s.state, s.tp_state = msg.mtype, len(msg.payload), msg.sub_id, _OK, 0
        self.meid, self.src = msg.meid, msg.source


class StubPeer:
    """A named endpoint driven by the test (plays the A1 mediator, e2term, submgr's RMR side...)."""

    def __init__(self, stub: RmrStub, name: str) -> None:
        self.stub, self.name = stub, name
        self.inbox: queue.Queue[StubMessage] = stub._register(name)

    def send(self, mtype: int, payload: bytes, *, meid: bytes | str = b"", sub_id: int = -1, xid: bytes = b"",
             to: str | None = None) -> None:
        """Send to endpoint ``to``, or by the route table when None; raises LookupError without a route."""
        meid_b = meid.encode() if isinstance(meid, str) else meid
        msg = StubMessage(mtype, bytes(payload), meid_b, sub_id, xid, self.name)
        state = self.stub._deliver([to] if to else None, msg)
        if state != _OK:
            raise LookupError(f"{self.name}: cannot send mtype {mtype} (sub_id {sub_id}) to {to or 'route'}: "
                              f"state {state}")

    def reply(self, msg: StubMessage, mtype: int, payload: bytes) -> None:
        """Answer ``msg`` to its source, keeping MEID, sub_id and transaction id."""
        self.send(mtype, payload, meid=msg.meid, sub_id=msg.sub_id, xid=msg.xid, to=msg.source)

    def recv(self, timeout_s: float) -> StubMessage | None:
        """The next message for this peer, or None after ``timeout_s``."""
        try:
            return self.inbox.get(timeout=timeout_s)
        except queue.Empty:
            return None


class RmrStub:
    """The stub's state: endpoints, routes, live buffers. Its ``c_*`` methods are the C functions."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.max_wait_ms = 20
        self._lock = threading.RLock()
        self._endpoints: dict[str, queue.Queue[StubMessage]] = {}
        self._routes: dict[tuple[int, int], list[list[str]]] = {}
        self._rr: dict[tuple[int, int, int], int] = {}
        self._bufs: dict[int, _Buf] = {}
        self._ctx_names: dict[int, str] = {}
        self._idle = threading.Event()

    # --- test-side API -----------------------------------------------------------------------
    def peer(self, name: str) -> StubPeer:
        """Create the endpoint ``name`` (``host:port``) for the test to drive."""
        return StubPeer(self, name)

    def add_route(self, mtype: int, *targets: str, sub_id: int = -1) -> None:
        """Route ``mtype`` (+ ``sub_id``) to each of ``targets`` (fan-out: one group per target)."""
        with self._lock:
            self._routes.setdefault((mtype, sub_id), []).extend([t] for t in targets)

    def load_route_table(self, text: str) -> None:
        """Load ``mse | mtype[,sender] | subid | g1;g2`` / ``rte | mtype[,sender] | g1;g2`` records."""
        for line in text.splitlines():
            line = line.split(" #")[0].strip()
            fields = [f.strip() for f in line.split("|")]
            if fields[0] not in ("mse", "rte") or len(fields) < 3:
                continue
            mtype = int(fields[1].split(",")[0])
            sub_id, groups = (int(fields[2]), fields[3]) if fields[0] == "mse" else (-1, fields[2])
            with self._lock:
                self._routes.setdefault((mtype, sub_id), []).extend(
                    [m.strip() for m in g.split(",") if m.strip()] for g in groups.split(";") if g.strip())

    def reset(self) -> None:
        """Forget routes and peers (contexts of live runtimes stay)."""
        with self._lock:
            self._routes.clear()
            self._rr.clear()
            live = set(self._ctx_names.values())
            for name in [n for n in self._endpoints if n not in live]:
                del self._endpoints[name]

    @property
    def live_buffers(self) -> int:
        """mbufs allocated and not yet freed."""
        with self._lock:
            return len(self._bufs)

    @property
    def endpoints(self) -> list[str]:
        """Names of the endpoints (contexts and peers)."""
        with self._lock:
            return sorted(self._endpoints)

    # --- wire --------------------------------------------------------------------------------
    def _register(self, name: str) -> queue.Queue[StubMessage]:
        with self._lock:
            if name in self._endpoints:
                raise ValueError(f"RMR stub endpoint {name} already exists")
            q: queue.Queue[StubMessage] = queue.Queue()
            self._endpoints[name] = q
            return q

    def _deliver(self, targets: list[str] | None, msg: StubMessage) -> int:
        with self._lock:
            if targets is None:
                groups = self._routes.get((msg.mtype, msg.sub_id)) or self._routes.get((msg.mtype, -1))
                if not groups:
                    return _NOENDPT
                targets = []
                for i, group in enumerate(groups):
                    k = (msg.mtype, msg.sub_id, i)
                    self._rr[k] = self._rr.get(k, -1) + 1
                    targets.append(group[self._rr[k] % len(group)])
            inboxes = [self._endpoints.get(t) for t in targets]
            if any(q is None for q in inboxes):
                return _SENDFAILED
            for q in inboxes:
                q.put(msg)  # type: ignore[union-attr]
            return _OK

    def _buf(self, ptr: Any) -> _Buf:
        with self._lock:
            return self._bufs[ctypes.addressof(ptr.contents)]

    def _new_buf(self, capacity: int) -> Any:
        buf = _Buf(capacity or CONSTANTS["RMR_MAX_RCV_BYTES"])
        ptr = ctypes.pointer(buf.struct)
        with self._lock:
            self._bufs[ctypes.addressof(buf.struct)] = buf
        return ptr

    # --- the C functions ---------------------------------------------------------------------
    def c_rmr_init(self, uproto_port: bytes, max_msg_size: int, flags: int) -> Any:
        port = uproto_port.decode().split(":")[-1]
        name = f"{self.host}:{port}"
        self._register(name)
        handle = ctypes.c_int(0)  # any object; ricxappframe only passes it back
        with self._lock:
            self._ctx_names[id(handle)] = name
        return handle

    def _ctx(self, vctx: Any) -> str:
        with self._lock:
            return self._ctx_names[id(vctx)]

    def c_rmr_ready(self, vctx: Any) -> int:
        return 1

    def c_rmr_close(self, vctx: Any) -> None:
        with self._lock:
            name = self._ctx_names.pop(id(vctx), None)
            if name is not None:
                self._endpoints.pop(name, None)

    def c_rmr_set_stimeout(self, vctx: Any, rloops: int) -> int:
        return 0

    def c_rmr_set_vlevel(self, level: int) -> None:
        return None

    def c_rmr_alloc_msg(self, vctx: Any, size: int) -> Any:
        return self._new_buf(size)

    def c_rmr_realloc_payload(self, ptr: Any, new_len: int, copy: int, clone: int) -> Any:
        old = self._buf(ptr)
        if not clone:  # RMR keeps the same mbuf and swaps its transport buffer
            old.resize(max(new_len, old.capacity), bool(copy))
            return ptr
        new_ptr = self._new_buf(max(new_len, old.capacity))
        new = self._buf(new_ptr)
        new.load(old.snapshot(old.src))
        return new_ptr

    def c_rmr_free_msg(self, ptr: Any) -> None:
        if ptr:
            with self._lock:
                self._bufs.pop(ctypes.addressof(ptr.contents), None)

    def c_rmr_payload_size(self, ptr: Any) -> int:
        return self._buf(ptr).capacity

    def c_rmr_bytes2meid(self, ptr: Any, src: bytes, length: int) -> int:
        self._buf(ptr).meid = bytes(src[:length])
        return length

    def c_rmr_get_meid(self, ptr: Any, dest: Any) -> Any:
        meid = self._buf(ptr).meid[:CONSTANTS["RMR_MAX_MEID"] - 1]
        ctypes.memmove(dest, meid + b"\0", len(meid) + 1)
        return dest

    def c_rmr_get_src(self, ptr: Any, dest: Any) -> Any:
        src = self._buf(ptr).src.encode()[:CONSTANTS["RMR_MAX_SRC"] - 1]
        ctypes.memmove(dest, src + b"\0", len(src) + 1)
        return dest

    def _send(self, vctx: Any, ptr: Any, targets: list[str] | None) -> Any:
        buf = self._buf(ptr)
        buf.struct.state = self._deliver(targets, buf.snapshot(self._ctx(vctx)))
        return ptr

    def c_rmr_send_msg(self, vctx: Any, ptr: Any) -> Any:
        return self._send(vctx, ptr, None)

    def c_rmr_rts_msg(self, vctx: Any, ptr: Any) -> Any:
        return self._send(vctx, ptr, [self._buf(ptr).src])

    def c_rmr_torcv_msg(self, vctx: Any, ptr: Any, ms_to: int) -> Any:
        with self._lock:
            inbox = self._endpoints.get(self._ctx_names.get(id(vctx), ""))
        buf = self._buf(ptr)
        wait_s = min(max(ms_to, 0), self.max_wait_ms) / 1000
        msg = None
        if inbox is None:
            self._idle.wait(wait_s)  # a closed context: behave like an empty one, without spinning
        else:
            try:
                msg = inbox.get(timeout=wait_s) if wait_s > 0 else inbox.get_nowait()
            except queue.Empty:
                msg = None
        if msg is None:
            buf.struct.state, buf.struct.len = _TIMEOUT, 0
        else:
            buf.load(msg)
        return ptr

    def c_rmr_rcv_msg(self, vctx: Any, ptr: Any) -> Any:
        return self.c_rmr_torcv_msg(vctx, ptr, self.max_wait_ms)


class _CFunc:
    """A C function as ``ctypes.CDLL`` hands it out: callable, with settable restype/argtypes."""

    def __init__(self, name: str, impl: Callable[..., Any]) -> None:
        self.__name__, self._impl = name, impl
        self.restype: Any = None
        self.argtypes: Any = None

    def __call__(self, *args: Any) -> Any:
        return self._impl(*args)


class _FakeLib:
    """``rmr_c_lib``: ricxappframe calls ``rmr_c_lib.__getattr__(name)`` explicitly, as on a CDLL."""

    def __init__(self, stub: RmrStub) -> None:
        self._stub = stub
        self._funcs: dict[str, _CFunc] = {}

    def __getattr__(self, name: str) -> _CFunc:
        if name.startswith("__"):
            raise AttributeError(name)
        func = self._funcs.get(name)
        if func is None:
            impl = getattr(self._stub, "c_" + name, None)
            if impl is None:
                def impl(*_args: Any, _name: str = name) -> Any:
                    raise NotImplementedError(f"the RMR stub does not emulate {_name}")
            func = self._funcs[name] = _CFunc(name, impl)
        return func


def installed() -> RmrStub | None:
    """The installed stub, or None."""
    module = sys.modules.get(MODULE)
    stub = getattr(module, "STUB", None)
    return stub if isinstance(stub, RmrStub) else None


def install(host: str = "127.0.0.1") -> RmrStub:
    """Register the stub as ``ricxappframe.rmr.rmrclib.rmrclib`` (idempotent) and return it.

    Raises
    ------
    RuntimeError
        ricxappframe's real binding (or a module built on it) was imported before.
    """
    existing = installed()
    if existing is not None:
        return existing
    if MODULE in sys.modules or "ricxappframe.rmr.rmr" in sys.modules:
        raise RuntimeError("ricxappframe's RMR binding is already imported; install the stub before importing "
                           "ricxappframe.rmr, ricxappframe.xapp_frame or dnt.ric.rmr_runtime's RmrRuntime")
    stub = RmrStub(host)
    module = types.ModuleType(MODULE, "Stub of RMR's C library (dnt.ric.rmr_stub).")
    names = {v: k for k, v in CONSTANTS.items() if k.startswith(("RMR_OK", "RMR_ERR"))}

    def get_constants(cache: Any = None) -> dict[str, int]:
        return dict(CONSTANTS)

    def get_mapping_dict(cache: Any = None) -> dict[int, str]:
        return dict(names)

    def state_to_status(stateno: int) -> str:
        return names.get(stateno, "UNKNOWN STATE")

    module.rmr_c_lib = _FakeLib(stub)  # type: ignore[attr-defined]
    module.get_constants = get_constants  # type: ignore[attr-defined]
    module.get_mapping_dict = get_mapping_dict  # type: ignore[attr-defined]
    module.state_to_status = state_to_status  # type: ignore[attr-defined]
    module.STUB = stub  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    return stub
