"""Aggregation rules behind one interface: ``rule.aggregate(updates, ctx) -> Aggregated``.

One file per rule; the shared math is in :mod:`dnt.fl.rules.ops`. :data:`RULES` maps each rule's name
to its class (the robust rules of the security issue join here).
"""

from dnt.fl.rules.base import AggregationRule
from dnt.fl.rules.mean import FedAvg, Mean
from dnt.fl.rules.median import FedMedian, Median

RULES: dict[str, type[AggregationRule]] = {"mean": Mean, "median": Median}

__all__ = ["RULES", "AggregationRule", "FedAvg", "FedMedian", "Mean", "Median"]
