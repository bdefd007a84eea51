"""Aggregation rules behind one interface: ``rule.aggregate(updates, ctx) -> Aggregated``.

One file per rule; the shared math is in :mod:`dnt.fl.rules.ops`. :data:`RULES` maps each rule's name
to its class: the baselines (mean, median) and the robust rules of the security issue (trimmed mean,
Krum, Multi-Krum, FLTrust, TID).
"""

from dnt.fl.rules.base import AggregationRule
from dnt.fl.rules.fltrust import FLTrust
from dnt.fl.rules.krum import Krum, MultiKrum
from dnt.fl.rules.mean import FedAvg, Mean
from dnt.fl.rules.median import FedMedian, Median
from dnt.fl.rules.tid import GLID, TID
from dnt.fl.rules.trimmed_mean import FedTrimmedAvg, TrimmedMean

RULES: dict[str, type[AggregationRule]] = {
    "mean": Mean,
    "median": Median,
    "trimmed_mean": TrimmedMean,
    "krum": Krum,
    "multikrum": MultiKrum,
    "fltrust": FLTrust,
    "tid": TID,
}

__all__ = ["RULES", "AggregationRule", "FLTrust", "FedAvg", "FedMedian", "FedTrimmedAvg", "GLID", "Krum", "Mean",
           "Median", "MultiKrum", "TID", "TrimmedMean"]
