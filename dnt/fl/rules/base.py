"""The aggregation-rule interface every rule implements (after Flower's ``Strategy.aggregate_train``).

A rule is a pure function of ``(updates, ctx)``: no messaging, no sampling of clients, no model state.
The synchronous rounds (:mod:`dnt.fl.sync`) and the asynchronous servers (:mod:`dnt.fl.asyn`) call the
same rules; staleness reaches a rule through :class:`~dnt.fl.types.AggContext` and each update's
``staleness``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["AggregationRule"]


class AggregationRule(ABC):
    """Turns client updates into one update.

    Subclasses implement :meth:`aggregate` and list their settings in :meth:`summary`. Contract (tested
    for every rule in ``tests/unit/fl/test_rules_contract.py``): the result does not depend on the order
    of the updates; its delta has the updates' shape; identical updates give that update back; the same
    ``ctx.seed`` gives the same result.
    """

    name: ClassVar[str] = "rule"

    @abstractmethod
    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        """Aggregate ``updates`` (at least one, all of one length).

        Raises
        ------
        AggregationError
            if there is no update, the lengths differ, or no update is usable.
        """

    def summary(self) -> dict[str, Any]:
        """The rule's name and settings (logged and recorded with results)."""
        return {"rule": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.summary().items() if k != "rule")
        return f"{type(self).__name__}({args})"
