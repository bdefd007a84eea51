"""Federated learning for twins: BS clustering (this issue), sync V-twin and async H-twin rounds (later)."""

from dnt.fl.clustering import ClusterConfig, Clustering, cluster_cells, weekly_profiles

__all__ = ["ClusterConfig", "Clustering", "cluster_cells", "weekly_profiles"]
