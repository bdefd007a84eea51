"""DNT-assisted reliable edge caching (the survey's second case study, after D-REC, Zhang et al., JSAC 2024).

``env`` (CacheEnv: 5 BSs × 150 slots, overlapping coverage, drifting Zipf demand), ``demand`` (the physical
request process), ``topology`` (coverage), ``baselines`` (LRU, LFU, Belady oracle), ``twin`` (request-count
forecasters and the synthetic demand generator), ``shield`` (reliability modules), ``ppo`` (the learner),
``agents`` (the four systems: RL, RL w/ DNT, Reliable RL, Reliable RL w/ DNT).
"""

from dnt.caching.agents import SYSTEMS, SystemSpec, evaluate_baseline, evaluate_policy, train_system
from dnt.caching.baselines import BASELINES, LFU, LRU, Belady, run_policy
from dnt.caching.demand import DemandConfig, ZipfDemand
from dnt.caching.env import CacheConfig, CacheEnv
from dnt.caching.ppo import PPOConfig, train
from dnt.caching.shield import LoadShield, step_cost
from dnt.caching.topology import Topology, ring_topology
from dnt.caching.twin import ARTwin, LSTMTwin, RequestLog, TwinDemand, TwinGenConfig, collect_log

__all__ = [
    "SYSTEMS",
    "SystemSpec",
    "evaluate_baseline",
    "evaluate_policy",
    "train_system",
    "BASELINES",
    "LFU",
    "LRU",
    "Belady",
    "run_policy",
    "DemandConfig",
    "ZipfDemand",
    "CacheConfig",
    "CacheEnv",
    "PPOConfig",
    "train",
    "LoadShield",
    "step_cost",
    "Topology",
    "ring_topology",
    "ARTwin",
    "LSTMTwin",
    "RequestLog",
    "TwinDemand",
    "TwinGenConfig",
    "collect_log",
]
