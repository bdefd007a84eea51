"""Federated learning for twins: BS clustering, sync V-twin rounds, async H-twin servers, costs, messages.

The rApp (V-twin creation) and the htwin / aggregator xApps (H-twin) are thin wiring over these names:
:class:`SyncRounds` creates cluster twins and a global twin; :class:`FedBuff` (default) or
:class:`FedAsync` servers keep them in sync; :class:`LocalTrainer` is a twin worker's training; the
rules in :mod:`dnt.fl.rules` aggregate; :mod:`dnt.fl.messages` puts updates and models on the wire.
"""

from dnt.fl.asyn import (
    AsyncConfig,
    AsyncServer,
    AsyncStats,
    ClusteredAsync,
    FedAsync,
    FedBuff,
    SubmitResult,
    make_server,
)
from dnt.fl.clustering import ClusterConfig, Clustering, cluster_cells, weekly_profiles
from dnt.fl.cost import CostLedger, CostTotals, CostWeights
from dnt.fl.local import LocalConfig, LocalResult, LocalTrainer
from dnt.fl.messages import Forecast, GlobalTwin, TwinUpdate, WireSizes, decode, encode, global_twin_from_model
from dnt.fl.rules import RULES, AggregationRule, FedAvg, FedMedian, Mean, Median
from dnt.fl.simulate import AsyncSimulation, SimClient, SimConfig, SimEvent, SimResult, WorkResult
from dnt.fl.sync import RoundStats, SyncClient, SyncConfig, SyncResult, SyncRounds, clients_from_split
from dnt.fl.types import (
    AggContext,
    Aggregated,
    GlobalModel,
    Layout,
    Update,
    flatten,
    layout,
    split,
    unflatten,
    vector_digest,
)

__all__ = [
    "RULES",
    "AggContext",
    "Aggregated",
    "AggregationRule",
    "AsyncConfig",
    "AsyncServer",
    "AsyncSimulation",
    "AsyncStats",
    "ClusterConfig",
    "ClusteredAsync",
    "Clustering",
    "CostLedger",
    "CostTotals",
    "CostWeights",
    "FedAsync",
    "FedAvg",
    "FedBuff",
    "FedMedian",
    "Forecast",
    "GlobalModel",
    "GlobalTwin",
    "Layout",
    "LocalConfig",
    "LocalResult",
    "LocalTrainer",
    "Mean",
    "Median",
    "RoundStats",
    "SimClient",
    "SimConfig",
    "SimEvent",
    "SimResult",
    "SubmitResult",
    "SyncClient",
    "SyncConfig",
    "SyncResult",
    "SyncRounds",
    "TwinUpdate",
    "Update",
    "WireSizes",
    "WorkResult",
    "cluster_cells",
    "clients_from_split",
    "decode",
    "encode",
    "flatten",
    "global_twin_from_model",
    "layout",
    "make_server",
    "split",
    "unflatten",
    "vector_digest",
    "weekly_profiles",
]
