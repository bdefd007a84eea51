"""A deterministic in-process runtime for unit tests: no threads, no sockets, no sleeps.

:class:`MemoryBus` connects several :class:`MemoryRuntime` s (one per xApp name), a :class:`FakeE2`
(which plays the subscription manager, e2term and the E2 nodes) and named external endpoints (e.g.
``"a1mediator"``), and routes like an RMR route table:

1. explicit routes added with :meth:`MemoryBus.add_route` (``mtype`` [+ ``sub_id``] -> endpoint), else
2. E2-bound types (RIC_CONTROL_REQ, RIC_SUB_REQ, RIC_SUB_DEL_REQ) with a MEID -> :attr:`MemoryBus.e2`
   (RMR's ``%meid`` routing), else
3. every *other* runtime that has a handler for the type (what rtmgr derives from descriptors), else
4. :class:`~dnt.errors.TransportError` (RMR's ``RMR_ERR_NOENDPT``).

Messages wait in per-runtime inboxes until :meth:`MemoryRuntime.step` / :meth:`MemoryRuntime.drain`
(or the bus-wide :meth:`MemoryBus.step` / :meth:`MemoryBus.drain`) dispatch them, in order. A runtime
created again under the same name replaces the old one: that is an xApp restart (same SDL store,
same subscriptions, fresh handlers).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from dnt.e2.e2ap_ies import RicAction
from dnt.e2.mtypes import RIC_CONTROL_REQ, RIC_INDICATION, RIC_SUB_DEL_REQ, RIC_SUB_REQ
from dnt.errors import TransportError
from dnt.ric.runtime import NO_SUB_ID, BaseRuntime, Message
from dnt.ric.sdl import MemoryStore, Store
from dnt.ric.subscription import SubscriptionBook, SubscriptionError, SubscriptionRecord, request_key

__all__ = ["MemoryBus", "MemoryRuntime", "FakeE2", "E2Subscription"]

E2_BOUND = frozenset({RIC_CONTROL_REQ, RIC_SUB_REQ, RIC_SUB_DEL_REQ})


@dataclass(frozen=True)
class E2Subscription:
    """A subscription as the fake E2 side holds it."""

    sub_id: int
    subscriber: str
    meid: str
    ran_function_id: int
    event_trigger: bytes
    actions: tuple[RicAction, ...]


@dataclass
class FakeE2:
    """submgr + e2term + E2 nodes, in memory.

    Attributes
    ----------
    nodes : set of str or None
        Connected E2 nodes; None (default) accepts any MEID. Subscribing to an unknown node fails like
        submgr's 503 "No E2 connection for ranName".
    subscriptions : dict
        Live subscriptions by sub_id (E2EventInstanceId), allocated 1, 2, ...
    received : list of Message
        E2-bound messages sent by xApps (RIC_CONTROL_REQ, ...), in order.
    """

    bus: MemoryBus
    nodes: set[str] | None = None
    subscriptions: dict[int, E2Subscription] = field(default_factory=dict)
    received: list[Message] = field(default_factory=list)
    name: str = "e2term"
    _next_id: int = 1

    def subscribe(self, subscriber: str, meid: str, ran_function_id: int, event_trigger: bytes,
                  actions: Sequence[RicAction]) -> int:
        """Admit a subscription and return its sub_id."""
        if self.nodes is not None and meid not in self.nodes:
            raise SubscriptionError(f"No E2 connection for ranName {meid}")
        sub_id, self._next_id = self._next_id, self._next_id + 1
        self.subscriptions[sub_id] = E2Subscription(sub_id, subscriber, meid, ran_function_id, bytes(event_trigger),
                                                    tuple(actions))
        return sub_id

    def unsubscribe(self, sub_id: int) -> None:
        """Delete subscription ``sub_id`` (no error when unknown)."""
        self.subscriptions.pop(sub_id, None)

    def indicate(self, sub_id: int, payload: bytes) -> Message:
        """Send a RIC_INDICATION (E2AP bytes) for subscription ``sub_id`` to its subscriber."""
        sub = self.subscriptions[sub_id]
        msg = Message(RIC_INDICATION, bytes(payload), sub.meid, sub_id, b"", self.name)
        self.bus.deliver(sub.subscriber, msg)
        return msg

    def answer(self, request: Message, mtype: int, payload: bytes) -> Message:
        """Answer an E2-bound request (e.g. RIC_CONTROL_ACK for a RIC_CONTROL_REQ) to its sender."""
        msg = Message(mtype, bytes(payload), request.meid, request.sub_id, request.xid, self.name)
        self.bus.deliver(request.source or "", msg)
        return msg


class MemoryBus:
    """Routes messages between memory runtimes, the fake E2 side and external endpoints.

    Parameters
    ----------
    store : Store, optional
        The SDL store shared by all runtimes (one Redis per RIC); default a fresh :class:`MemoryStore`.

    Attributes
    ----------
    outbox : dict of str to list of Message
        Messages delivered to endpoints that are not runtimes (``"a1mediator"``, ``"test"``).
    trace : list of (str, Message)
        Every delivery in order: (destination, message).
    """

    def __init__(self, store: Store | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.runtimes: dict[str, MemoryRuntime] = {}
        self.routes: dict[tuple[int, int], list[str]] = {}
        self.e2 = FakeE2(self)
        self.outbox: dict[str, list[Message]] = {}
        self.trace: list[tuple[str, Message]] = []

    def runtime(self, name: str = "xapp", *, store: Store | None = None) -> MemoryRuntime:
        """Create (or re-create: an xApp restart) the runtime of xApp ``name``."""
        old = self.runtimes.get(name)
        if old is not None:
            old.stop()
        rt = MemoryRuntime(self, name, store if store is not None else self.store)
        self.runtimes[name] = rt
        return rt

    def add_route(self, mtype: int, target: str, *, sub_id: int = NO_SUB_ID) -> None:
        """Route ``mtype`` (with ``sub_id``; -1 = any) to endpoint ``target`` (a runtime name or external)."""
        self.routes.setdefault((mtype, sub_id), []).append(target)

    def deliver(self, to: str, msg: Message) -> None:
        """Put ``msg`` in the inbox of runtime ``to``, the fake E2 side, or the outbox of an external endpoint."""
        self.trace.append((to, msg))
        rt = self.runtimes.get(to)
        if rt is not None and not rt.stopped:
            rt.inbox.append(msg)
        elif to == self.e2.name:
            self.e2.received.append(msg)
        else:
            self.outbox.setdefault(to, []).append(msg)

    def inject(self, to: str, mtype: int, payload: bytes, *, meid: str | None = None, sub_id: int = NO_SUB_ID,
               xid: bytes = b"", source: str = "test") -> Message:
        """Deliver a message from an external endpoint ``source`` (the A1 mediator, a test) to ``to``."""
        msg = Message(mtype, bytes(payload), meid, sub_id, xid, source)
        self.deliver(to, msg)
        return msg

    def route(self, sender: MemoryRuntime, msg: Message) -> None:
        """Deliver a message sent by ``sender`` (see the module docstring for the rules)."""
        msg = Message(msg.mtype, msg.payload, msg.meid, msg.sub_id, msg.xid, sender.name)
        targets = self.routes.get((msg.mtype, msg.sub_id)) or self.routes.get((msg.mtype, NO_SUB_ID))
        if not targets and msg.mtype in E2_BOUND and msg.meid:
            targets = [self.e2.name]
        if not targets:
            targets = [n for n, rt in self.runtimes.items()
                       if rt is not sender and not rt.stopped and msg.mtype in rt.mtypes]
        if not targets:
            raise TransportError(f"no route for {msg.describe()} (RMR_ERR_NOENDPT)")
        for target in targets:
            self.deliver(target, msg)

    def step(self) -> bool:
        """Dispatch one pending message (runtimes in creation order); False when all inboxes are empty."""
        return any(rt.step() for rt in list(self.runtimes.values()))

    def drain(self, max_messages: int = 100_000) -> int:
        """Dispatch until every inbox is empty; returns the number dispatched.

        Raises
        ------
        RuntimeError
            More than ``max_messages`` were dispatched (handlers that answer each other forever).
        """
        n = 0
        while self.step():
            n += 1
            if n > max_messages:
                raise RuntimeError(f"MemoryBus.drain: more than {max_messages} messages; a message loop?")
        return n


class MemoryRuntime(BaseRuntime):
    """The in-memory :class:`~dnt.ric.runtime.Runtime`; create it with :meth:`MemoryBus.runtime`."""

    def __init__(self, bus: MemoryBus, name: str, store: Store) -> None:
        super().__init__(store, name=name)
        self.bus = bus
        self.inbox: deque[Message] = deque()
        self.stopped = False
        self.subscriptions = SubscriptionBook(store, f"dnt.ric.{name}")

    def _send(self, msg: Message) -> None:
        if self.stopped:
            raise TransportError(f"{self.name} is stopped")
        self.bus.route(self, msg)

    def _reply(self, request: Message, mtype: int, payload: bytes) -> None:
        if not request.source:
            raise TransportError(f"cannot reply to {request.describe()}: no source")
        self.bus.deliver(request.source, Message(mtype, payload, request.meid, request.sub_id, request.xid,
                                                 self.name))

    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe through the fake E2 side; a persisted identical subscription is reused."""
        key = request_key(node, ran_func, trigger, actions)
        existing = self.subscriptions.get(key)
        if existing is not None and existing.sub_id in self.bus.e2.subscriptions:
            return existing.sub_id
        sub_id = self.bus.e2.subscribe(self.name, node, ran_func, trigger, actions)
        self.subscriptions.save(SubscriptionRecord(key, sub_id, f"mem-{sub_id}", node, ran_func,
                                                   self.subscriptions.next_instance_id()))
        return sub_id

    def unsubscribe(self, sub_id: int) -> None:  # noqa: D102
        record = self.subscriptions.by_sub_id(sub_id)
        self.bus.e2.unsubscribe(sub_id)
        if record is not None:
            self.subscriptions.remove(record)

    def step(self) -> bool:
        """Dispatch the oldest message of this runtime's inbox; False when it is empty."""
        if self.stopped or not self.inbox:
            return False
        self.dispatch(self.inbox.popleft())
        return True

    def drain(self, max_messages: int = 100_000) -> int:
        """Dispatch this runtime's inbox until empty (messages handlers add to it included)."""
        n = 0
        while self.step():
            n += 1
            if n > max_messages:
                raise RuntimeError(f"{self.name}: more than {max_messages} messages; a message loop?")
        return n

    def run(self) -> None:
        """Dispatch everything pending on the whole bus, then return (there is nothing to wait for)."""
        self.bus.drain()

    def stop(self) -> None:  # noqa: D102
        self.stopped = True

    def _transport_healthy(self) -> bool:
        return not self.stopped
