"""The one runtime interface xApps see, and the dispatch semantics every runtime shares.

An xApp is wired as ``rt.on(mtype, handler)`` per message type, ``rt.run()``; handlers are
``handler(msg, rt) -> None`` and answer with ``rt.send(...)`` / ``rt.reply(msg, ...)``. Three runtimes
implement :class:`Runtime` by subclassing :class:`BaseRuntime`:

* :class:`dnt.ric.rmr_runtime.RmrRuntime` — production, over ricxappframe's ``RMRXapp``;
* the local fabric's runtime in ``sim/`` (the embedded default);
* :class:`dnt.ric.memory.MemoryRuntime` — deterministic, in-process, for unit tests.

Dispatch rules (identical in all three, implemented once in :meth:`BaseRuntime.dispatch`):

* **One handler per message type; duplicates are rejected.** ``on(mtype, h)`` raises
  :class:`~dnt.errors.ConfigError` when ``mtype`` already has a handler, unless ``replace=True``.
  (ricxappframe's "last registration wins" silently hides wiring mistakes.) The built-in
  ``RIC_HEALTH_CHECK_REQ`` handler, which answers ``RIC_HEALTH_CHECK_RESP`` ``b"OK\\n"`` as ricxappframe
  does, may be replaced without ``replace=True``.
* **Dispatch survives every handler error.** An exception from a handler is logged once with the
  message's type, MEID, subscription id and transaction id, counted under ``ric/dropped/<reason>``,
  and the loop goes on. Reasons: ``no_handler`` (unknown type), ``decode_error``
  (:class:`~dnt.errors.CodecError`), ``policy_error`` (:class:`~dnt.errors.PolicyError`),
  ``transport_error`` (:class:`~dnt.errors.TransportError`, e.g. a send without a route),
  ``handler_error`` (anything else; logged with the traceback).
* **Metrics** are monotone integer counters with ``area/name`` keys: ``ric/received``,
  ``ric/received/<MTYPE_NAME>``, ``ric/handled``, ``ric/dropped``, ``ric/dropped/<reason>``, ``ric/sent``,
  ``ric/send_failed``, ``ric/config/reloads``, ``ric/config/rejected``; handlers may add their own with
  :meth:`BaseRuntime.count`.
* **Hot config reload validates, then swaps.** ``watch_config(parse, on_change)`` installs a parser
  (raw descriptor mapping -> typed config, raising ``ConfigError`` on bad input); every reload runs the
  parser first and keeps the old config when it fails.

To add a runtime, subclass :class:`BaseRuntime`, implement ``_send``, ``_reply``, ``subscribe``,
``unsubscribe``, ``run``, ``stop`` and ``_transport_healthy``, and call :meth:`BaseRuntime.dispatch`
for every message that arrives.
"""

from __future__ import annotations

import logging
import signal
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dnt.e2.e2ap_ies import RicAction
from dnt.e2.mtypes import RIC_HEALTH_CHECK_REQ, RIC_HEALTH_CHECK_RESP, name_of
from dnt.errors import CodecError, ConfigError, DntError, PolicyError, TransportError
from dnt.ric.sdl import Store

__all__ = [
    "NO_SUB_ID",
    "MAX_MEID_BYTES",
    "Message",
    "Envelope",
    "Handler",
    "ConfigParser",
    "ConfigListener",
    "Runtime",
    "BaseRuntime",
    "drop_reason",
    "stop_on_signals",
]

logger = logging.getLogger(__name__)

NO_SUB_ID = -1
"""RMR's "no subscription id" value (``UNSET_SUBID``; ``-1`` in route tables means "any")."""
MAX_MEID_BYTES = 31
"""Longest MEID RMR carries: a 32-byte field that C readers expect NUL-terminated (``RMR_MAX_MEID``)."""


@dataclass(frozen=True)
class Message:
    """One message as a handler sees it: the RMR header fields that matter plus the payload.

    Parameters
    ----------
    mtype : int
        RMR message type (:mod:`dnt.e2.mtypes`).
    payload : bytes
        The payload (E2AP APER, A1 JSON, protobuf, ...), never None.
    meid : str or None
        Managed element id: the E2 node's inventory name (``gnb_001_001_00019b``) on E2 messages.
    sub_id : int
        RMR subscription id: the E2EventInstanceId on RIC_INDICATION, the policy type id on
        A1_POLICY_REQ; :data:`NO_SUB_ID` when unset.
    xid : bytes
        RMR transaction id (up to 32 bytes; empty when unset).
    source : str or None
        Sender endpoint (``host:port`` under RMR); where :meth:`Runtime.reply` goes.
    """

    mtype: int
    payload: bytes = b""
    meid: str | None = None
    sub_id: int = NO_SUB_ID
    xid: bytes = b""
    source: str | None = None

    @property
    def name(self) -> str:
        """The OSC name of :attr:`mtype` (``"RIC_INDICATION"``)."""
        return name_of(self.mtype)

    def describe(self) -> str:
        """``RIC_INDICATION(12050) meid=gnb_1 sub_id=7 xid=ab12`` for log lines."""
        xid = self.xid.rstrip(b"\0").decode("ascii", "replace")
        return f"{self.name}({self.mtype}) meid={self.meid} sub_id={self.sub_id} xid={xid or '-'}"


Envelope = Message
"""Alias: STYLE.md's transport interface calls the received unit an envelope; it is the same class."""

Handler = Callable[[Message, "Runtime"], None]
"""A message handler: ``handler(msg, rt) -> None``; raising is allowed and counted as a drop."""
ConfigParser = Callable[[Mapping[str, Any]], Any]
"""Raw descriptor mapping -> typed config; raises :class:`~dnt.errors.ConfigError` on invalid input."""
ConfigListener = Callable[[Any, "Runtime"], None]
"""Called with the new typed config after a successful swap."""


@runtime_checkable
class Runtime(Protocol):
    """What application code may use. Both production and local runtimes implement it."""

    name: str

    @property
    def store(self) -> Store:
        """The SDL store (``get/set/find/delete(ns, key)``)."""
        ...

    def on(self, mtype: int, handler: Handler, *, replace: bool = False) -> None:
        """Handle ``mtype`` with ``handler``; a second registration raises unless ``replace``."""
        ...

    def send(self, mtype: int, payload: bytes, *, meid: str | None = None, sub_id: int = NO_SUB_ID,
             xid: bytes | None = None) -> None:
        """Send by message type (routed by type, sub_id and MEID); raises TransportError on failure."""
        ...

    def reply(self, msg: Message, mtype: int, payload: bytes) -> None:
        """Return ``payload`` as ``mtype`` to the sender of ``msg`` (RMR return-to-sender)."""
        ...

    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe E2 ``node`` and return the RMR sub_id its RIC_INDICATIONs will carry."""
        ...

    def unsubscribe(self, sub_id: int) -> None:
        """Delete the subscription behind ``sub_id``."""
        ...

    def healthy(self) -> bool:
        """True while the transport and the store work."""
        ...

    def metrics(self) -> dict[str, int]:
        """A snapshot of the counters."""
        ...

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the application counter ``key`` (``area/name``)."""
        ...

    def run(self) -> None:
        """Dispatch until :meth:`stop`."""
        ...

    def stop(self) -> None:
        """Stop dispatching and release the transport."""
        ...


def drop_reason(err: BaseException) -> str:
    """The ``ric/dropped/<reason>`` bucket of a handler exception."""
    if isinstance(err, CodecError):
        return "decode_error"
    if isinstance(err, PolicyError):
        return "policy_error"
    if isinstance(err, TransportError):
        return "transport_error"
    return "handler_error"


def _health_handler(msg: Message, rt: Runtime) -> None:
    payload = b"OK\n" if rt.healthy() else b"ERROR [RMR or SDL is unhealthy]\n"
    rt.reply(msg, RIC_HEALTH_CHECK_RESP, payload)


def _check_outgoing(mtype: int, payload: bytes, meid: str | None, sub_id: int) -> bytes:
    if isinstance(mtype, bool) or not isinstance(mtype, int) or not 0 <= mtype < 2**31:
        raise TransportError(f"message type {mtype!r} is not an RMR message type (0 .. 2**31-1)")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TransportError(f"payload of {name_of(mtype)} must be bytes, got {type(payload).__name__}")
    if meid is not None and (not isinstance(meid, str) or not meid or len(meid.encode()) > MAX_MEID_BYTES
                             or not meid.isascii()):
        raise TransportError(f"MEID {meid!r} must be a non-empty ASCII string of at most {MAX_MEID_BYTES} bytes")
    if isinstance(sub_id, bool) or not isinstance(sub_id, int) or not -1 <= sub_id < 2**31:
        raise TransportError(f"sub_id {sub_id!r} must be an int in -1 .. 2**31-1")
    return bytes(payload)


class BaseRuntime(ABC):
    """Handler table, error-surviving dispatch, counters and config swap; transports subclass it.

    Parameters
    ----------
    store : Store
        The SDL store this runtime exposes as :attr:`store`.
    name : str
        The xApp name (used in logs, SDL namespaces and A1 ``handler_id``).
    """

    def __init__(self, store: Store, *, name: str = "xapp") -> None:
        self.name = name
        self._store = store
        self._handlers: dict[int, Handler] = {}
        self._replaceable: set[int] = set()
        self._unknown: Handler | None = None
        self._counters: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._config_lock = threading.Lock()
        self._raw_config: Mapping[str, Any] | None = None
        self._parse: ConfigParser | None = None
        self._listeners: list[ConfigListener] = []
        self._app_config: Any = None
        self._handlers[RIC_HEALTH_CHECK_REQ] = _health_handler
        self._replaceable.add(RIC_HEALTH_CHECK_REQ)

    # --- handlers ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The SDL store."""
        return self._store

    def on(self, mtype: int, handler: Handler, *, replace: bool = False) -> None:
        """Register ``handler`` for ``mtype``.

        Raises
        ------
        ConfigError
            ``mtype`` already has a handler and ``replace`` is False, or ``handler`` is not callable.
        """
        if not callable(handler):
            raise ConfigError(f"handler for {name_of(mtype)} is not callable: {handler!r}")
        if mtype in self._handlers and not replace and mtype not in self._replaceable:
            raise ConfigError(f"{name_of(mtype)} ({mtype}) already has a handler "
                              f"({self._handlers[mtype]!r}); pass replace=True to swap it")
        self._handlers[mtype] = handler
        self._replaceable.discard(mtype)
        self._registered(mtype)

    def off(self, mtype: int) -> None:
        """Remove the handler of ``mtype`` (messages of that type then count as ``no_handler``)."""
        self._handlers.pop(mtype, None)
        self._replaceable.discard(mtype)

    def on_unknown(self, handler: Handler | None) -> None:
        """Handle messages of types without a handler (default: count and drop as ``no_handler``)."""
        self._unknown = handler

    @property
    def mtypes(self) -> frozenset[int]:
        """Message types with a handler."""
        return frozenset(self._handlers)

    def _registered(self, mtype: int) -> None:  # noqa: B027 (optional hook)
        """Hook for transports that must learn about a new message type (RMRXapp.register_callback)."""

    # --- dispatch ----------------------------------------------------------------------------
    def dispatch(self, msg: Message) -> bool:
        """Run the handler of ``msg``; never raises (except KeyboardInterrupt / SystemExit).

        Returns
        -------
        bool
            True when a handler ran without raising; False when the message was dropped.
        """
        self.count("ric/received")
        self.count(f"ric/received/{msg.name}")
        handler = self._handlers.get(msg.mtype, self._unknown)
        if handler is None:
            self._drop(msg, "no_handler", None)
            return False
        try:
            handler(msg, self)  # type: ignore[arg-type]
        except Exception as err:  # the runtime boundary: log, count, go on
            self._drop(msg, drop_reason(err), err)
            return False
        self.count("ric/handled")
        return True

    def _drop(self, msg: Message, reason: str, err: BaseException | None) -> None:
        self.count("ric/dropped")
        self.count(f"ric/dropped/{reason}")
        extra = {"mtype": msg.mtype, "meid": msg.meid, "sub_id": msg.sub_id, "reason": reason, "xapp": self.name}
        if err is None:
            logger.warning("%s: dropped %s: no handler for this message type", self.name, msg.describe(),
                           extra=extra)
        else:
            logger.error("%s: dropped %s: %s: %s: %s", self.name, msg.describe(), reason, type(err).__name__,
                         err, exc_info=reason == "handler_error", extra=extra)

    # --- sending -----------------------------------------------------------------------------
    def send(self, mtype: int, payload: bytes, *, meid: str | None = None, sub_id: int = NO_SUB_ID,
             xid: bytes | None = None) -> None:
        """Send a message routed by ``mtype`` (and ``sub_id``; E2-bound types by ``meid``).

        Raises
        ------
        TransportError
            Invalid fields, no route (``RMR_ERR_NOENDPT``), or the transport failed after its retries.
        """
        data = _check_outgoing(mtype, payload, meid, sub_id)
        msg = Message(mtype, data, meid, sub_id, xid or b"", None)
        try:
            self._send(msg)
        except TransportError:
            self.count("ric/send_failed")
            raise
        self.count("ric/sent")

    def reply(self, msg: Message, mtype: int, payload: bytes) -> None:
        """Answer ``msg`` to its sender with a new type and payload (RMR RTS; MEID, sub_id, xid kept).

        Raises
        ------
        TransportError
            The sender is unknown or unreachable.
        """
        data = _check_outgoing(mtype, payload, None, NO_SUB_ID)
        try:
            self._reply(msg, mtype, data)
        except TransportError:
            self.count("ric/send_failed")
            raise
        self.count("ric/sent")

    @abstractmethod
    def _send(self, msg: Message) -> None:
        """Transmit ``msg`` (validated; ``source`` is None); raise TransportError on failure."""

    @abstractmethod
    def _reply(self, request: Message, mtype: int, payload: bytes) -> None:
        """Return ``payload`` as ``mtype`` to ``request.source``; raise TransportError on failure."""

    # --- E2 subscriptions, lifecycle -----------------------------------------------------------
    @abstractmethod
    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe ``node`` (E2 inventory name) and return the sub_id of its RIC_INDICATIONs."""

    @abstractmethod
    def unsubscribe(self, sub_id: int) -> None:
        """Delete the subscription behind ``sub_id``."""

    @abstractmethod
    def run(self) -> None:
        """Dispatch until :meth:`stop`."""

    @abstractmethod
    def stop(self) -> None:
        """Stop dispatching; idempotent."""

    @abstractmethod
    def _transport_healthy(self) -> bool:
        """True while the transport can receive and send."""

    def healthy(self) -> bool:
        """True while the transport and the store work."""
        try:
            return self._transport_healthy() and self._store.healthy()
        except Exception:  # a health probe must answer, not raise
            logger.exception("%s: health check failed", self.name)
            return False

    # --- metrics -----------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key`` (``area/name``)."""
        with self._lock:
            self._counters[key] += n

    def metrics(self) -> dict[str, int]:
        """A snapshot of all counters, sorted by key."""
        with self._lock:
            return dict(sorted(self._counters.items()))

    # --- configuration -----------------------------------------------------------------------
    @property
    def app_config(self) -> Any:
        """The current typed config (None before :meth:`watch_config` found a valid one)."""
        return self._app_config

    @property
    def raw_config(self) -> Mapping[str, Any] | None:
        """The last raw config mapping that was accepted (or received, before a parser exists)."""
        return self._raw_config

    def watch_config(self, parse: ConfigParser, on_change: ConfigListener | None = None) -> Any:
        """Install the config parser; parse the config already received, if any.

        Returns
        -------
        Any
            The typed config (None when no raw config has arrived yet).

        Raises
        ------
        ConfigError
            The config already received is invalid (at startup, a bad config must fail loudly).
        """
        with self._config_lock:
            self._parse = parse
            if on_change is not None:
                self._listeners.append(on_change)
            if self._raw_config is not None:
                self._app_config = parse(self._raw_config)
            return self._app_config

    def reload_config(self, raw: Mapping[str, Any]) -> bool:
        """Validate ``raw`` and swap it in; keep the old config if it is invalid.

        Returns
        -------
        bool
            True when the new config is in force.
        """
        with self._config_lock:
            if self._parse is None:
                self._raw_config = raw
                return True
            try:
                if not isinstance(raw, Mapping):
                    raise ConfigError(f"config must be a mapping, got {type(raw).__name__}")
                new = self._parse(raw)
            except (DntError, ValueError, TypeError, KeyError) as err:
                self.count("ric/config/rejected")
                logger.error("%s: config reload rejected, keeping the previous config: %s", self.name, err)
                return False
            self._raw_config, self._app_config = raw, new
            listeners = list(self._listeners)
        self.count("ric/config/reloads")
        for listener in listeners:
            try:
                listener(new, self)  # type: ignore[arg-type]
            except Exception:
                self.count("ric/config/listener_errors")
                logger.exception("%s: config listener %r failed", self.name, listener)
        return True


def stop_on_signals(rt: Runtime, signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Call ``rt.stop()`` on SIGTERM / SIGINT (main thread only), as the deployables' ``main`` should."""
    for sig in signals:
        signal.signal(sig, lambda _signum, _frame: rt.stop())
