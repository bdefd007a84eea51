"""An in-memory RIC: a bus, one xApp runtime on it, and real E2AP bytes to feed it."""

from __future__ import annotations

import pytest

from dnt.ric.memory import MemoryBus, MemoryRuntime


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def rt(bus: MemoryBus) -> MemoryRuntime:
    return bus.runtime("kpimon")
