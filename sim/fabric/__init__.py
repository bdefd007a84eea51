"""The local near-RT RIC fabric: E2 termination, subscription manager and A1 mediator (OSC REST paths and
JSON), routing by RMR message type / E2 node / subscription id, SDL on a real Redis.

It exists for development, demos and tests (``DESIGN.md``, "Two runtimes"); it is not a RIC product.
xApps attach with :class:`dnt.ric.local_runtime.LocalRuntime`. Start it with ``python -m sim.fabric``.
"""

from sim.fabric.config import FabricConfig
from sim.fabric.server import Fabric, main

__all__ = ["Fabric", "FabricConfig", "main"]
