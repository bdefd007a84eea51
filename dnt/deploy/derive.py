"""What an xApp's code receives, sends and serves over RMR: :func:`derive_messages`.

The descriptor's ``messaging.ports[rmrdata]`` lists (rxMessages, txMessages, policies) drive rtmgr's routes
(oran-conventions.md §2.2); these functions read them from the xApp itself so a test can hold the
descriptor to the code. ``xapps/<name>/app.py`` files are loaded with :func:`load_app` (they are no
package) and their ``wire(rt, cfg)`` runs on a :class:`RecordingRuntime`.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from dnt.e2 import mtypes as mt
from dnt.e2.e2ap_ies import RicAction
from dnt.errors import ConfigError, DntError
from dnt.ric.runtime import BaseRuntime, Message
from dnt.ric.sdl import MemoryStore

__all__ = ["RecordingRuntime", "load_app", "config_class", "app_config", "derive_messages"]

_RUNTIME_NAMES = ("rt", "runtime")


class RecordingRuntime(BaseRuntime):
    """A runtime that records what an xApp registers and sends, and delivers nothing.

    Attributes
    ----------
    registered : list of int
        Message types passed to ``on()``, in order (the built-in health handler is not among them).
    sent : list of Message
        Everything sent or replied.
    subscriptions : list of tuple
        ``(node, ran_func)`` of each E2 subscription (submgr REST, not RMR).
    """

    def __init__(self, name: str = "recorder") -> None:
        super().__init__(MemoryStore(), name=name)
        self.registered: list[int] = []
        self.sent: list[Message] = []
        self.subscriptions: list[tuple[str, int]] = []

    def _registered(self, mtype: int) -> None:
        self.registered.append(mtype)

    def handler_of(self, mtype: int) -> Any:
        """The handler registered for ``mtype`` (None when there is none)."""
        return self._handlers.get(mtype)

    def _send(self, msg: Message) -> None:
        self.sent.append(msg)

    def _reply(self, request: Message, mtype: int, payload: bytes) -> None:
        self.sent.append(Message(mtype, payload, request.meid, request.sub_id, request.xid, None))

    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:  # noqa: D102
        self.subscriptions.append((node, ran_func))
        return len(self.subscriptions)

    def unsubscribe(self, sub_id: int) -> None:  # noqa: D102
        """Nothing to delete."""

    def run(self) -> None:  # noqa: D102
        """Nothing to dispatch."""

    def stop(self) -> None:  # noqa: D102
        """Nothing to release."""

    def _transport_healthy(self) -> bool:
        return True


def load_app(path: str | Path) -> ModuleType:
    """Import an xApp's ``app.py`` (``xapps/<name>/app.py`` is no package) as ``dnt_deploy_app_<name>``."""
    path = Path(path).resolve()
    name = f"dnt_deploy_app_{path.parent.name.replace('-', '_')}"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def config_class(module: ModuleType) -> type:
    """The config dataclass ``wire(rt, cfg)`` takes (its annotation).

    Raises
    ------
    ConfigError
        No ``wire(rt, cfg: <Config dataclass>)``.
    """
    wire = getattr(module, "wire", None)
    if not callable(wire):
        raise ConfigError(f"{module.__name__} has no wire(rt, cfg)")
    hints = typing.get_type_hints(wire, vars(module))
    params = list(inspect.signature(wire).parameters)
    if len(params) < 2 or params[1] not in hints:
        raise ConfigError(f"{module.__name__}.wire must be wire(rt, cfg: <Config dataclass>)")
    return typing.cast(type, hints[params[1]])


def app_config(module: ModuleType) -> Any:
    """The config ``wire`` takes, as the xApp's ``config.yaml`` beside ``app.py`` sets it (else defaults)."""
    from dnt import config as dnt_config

    cls = config_class(module)
    yaml_path = Path(module.__file__ or "").with_name("config.yaml")
    return dnt_config.load(yaml_path if yaml_path.is_file() else None, cls)


def _sends_in_source(module: ModuleType) -> tuple[set[int], bool]:
    """Message types the module's source passes to ``rt.send(T, ...)`` / ``rt.reply(msg, T, ...)``, and
    whether it calls ``<handler>.query(rt)`` (an A1 handler asking for its policies).

    The runtime is ``rt`` (or ``runtime``) by convention (handlers are ``handler(msg, rt)``, STYLE.md);
    ``send`` on other objects (sockets, clients) is not RMR and is ignored.
    """
    tree = ast.parse(inspect.getsource(module))
    found: set[int] = set()
    queries = False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        attr, index = node.func.attr, {"send": 0, "reply": 1}.get(node.func.attr)
        on_rt = isinstance(node.func.value, ast.Name) and node.func.value.id in _RUNTIME_NAMES
        if attr == "query" and [ast.unparse(a) for a in node.args] in ([n] for n in _RUNTIME_NAMES):
            queries = True
        if index is None or not on_rt or len(node.args) <= index:
            continue
        arg = node.args[index]
        value: Any = None
        if isinstance(arg, ast.Name):
            value = vars(module).get(arg.id)
        elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
            value = getattr(vars(module).get(arg.value.id), arg.attr, None)
        elif isinstance(arg, ast.Constant):
            value = arg.value
        if isinstance(value, int) and not isinstance(value, bool):
            found.add(value)
        elif attr == "send":
            raise ConfigError(f"{module.__name__}:{node.lineno}: send() with a message type that is not a module-level "
                              f"name of dnt.e2.mtypes ({ast.unparse(arg)}); cannot derive txMessages")
    return found, queries


def derive_messages(app_module: ModuleType | str | Path) -> tuple[set[str], set[str], set[int]]:
    """What an xApp receives, sends and which A1 policy types it serves, read from its code.

    ``wire(rt, cfg)`` runs on a :class:`RecordingRuntime` (``cfg`` from the ``config.yaml`` beside
    ``app.py``): every ``rt.on(T, ...)`` is an rx type, and an :class:`~dnt.ric.a1.A1PolicyHandler`
    registered for A1_POLICY_REQ gives the policy types. The A1 handler is then driven with a request it
    must refuse (before the application sees it) and, when the source calls ``.query(...)``, asked for its
    policies: what it sends on the recorder (A1_POLICY_RESP, A1_POLICY_QUERY) are tx types. Sends in the
    app's own source (``rt.send(DNT_TWIN_UPDATE, ...)`` in a work loop, not reached by ``wire``) are read
    from its syntax tree. The runtime's built-in RIC_HEALTH_CHECK_REQ/RESP are not included.

    Parameters
    ----------
    app_module : module, or path of ``app.py``
        The xApp module (it must define ``wire(rt, cfg)``).

    Returns
    -------
    (rx, tx, policies) : (set of str, set of str, set of int)
        Message type names (:mod:`dnt.e2.mtypes`) and A1 policy type ids.

    Raises
    ------
    ConfigError
        No ``wire``, a config that does not load, or a send whose type cannot be resolved.
    """
    module = app_module if isinstance(app_module, ModuleType) else load_app(app_module)
    if not callable(getattr(module, "wire", None)):
        raise ConfigError(f"{module.__name__} has no wire(rt, cfg)")
    rec = RecordingRuntime(getattr(module, "__name__", "xapp"))
    module.wire(rec, app_config(module))
    rx = {mt.name_of(t) for t in rec.registered}
    policies: set[int] = set()
    tx_types = {m.mtype for m in rec.sent}
    from_source, queries = _sends_in_source(module)
    tx_types |= from_source
    a1 = rec.handler_of(mt.A1_POLICY_REQ)
    if a1 is not None:
        policies = {int(t) for t in getattr(a1, "policy_type_ids", ())}
        probe = json.dumps({"operation": "PROBE", "policy_type_id": min(policies, default=0),
                            "policy_instance_id": "derive-messages"}).encode()
        try:
            a1(Message(mt.A1_POLICY_REQ, probe, None, -1, b"", "a1mediator"), rec)
        except DntError:  # an A1 handler of another kind: its answer is unknown here
            pass
        if queries and hasattr(a1, "query"):
            a1.query(rec)
        tx_types |= {m.mtype for m in rec.sent}
    tx = {mt.name_of(t) for t in tx_types}
    return rx, tx, policies
