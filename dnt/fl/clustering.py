"""Base-station clustering for V-twin creation: FedDA's dual-stage iterative k-means.

Zhang, Dang, Shihada, Alouini, "Dual Attention-Based Federated Learning for Wireless Traffic
Prediction", INFOCOM 2021 (repo ``chuanting/FedDA``, ``utils/misc.py``). Each cell is described twice:
by its location and by its normalised weekly traffic profile (the mean by (weekday, hour-of-day),
z-scored per cell). k-means alternates between the two views; the labels of one view initialise the
centroids of the other. It stops when two successive label sets agree (v-measure 1) or after
``max_iter`` rounds and returns the traffic-view labels.

Labels are canonical: cluster 0 holds the lowest cell id, cluster 1 the lowest id not in cluster 0,
and so on, so the same data and seed give the same labels whatever the cells' input order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import v_measure_score

from dnt.data.frame import HOUR_MS, Traffic, local_calendar
from dnt.data.grid import positions_km
from dnt.errors import ConfigError, DataError

__all__ = ["ClusterConfig", "Clustering", "weekly_profiles", "cluster_cells"]


@dataclass(frozen=True)
class ClusterConfig:
    """Settings of the dual-stage clustering."""

    n_clusters: int = 4
    """Number of clusters (FedDA's default 4; its Milan script uses 16)."""
    channel: str = "internet"
    """Channel whose weekly profile describes a cell."""
    max_iter: int = 20
    """Maximum alternations between the location and the traffic view."""
    seed: int = 0
    """Seed of the k-means initialisation."""

    def __post_init__(self) -> None:
        if self.n_clusters < 1:
            raise ConfigError(f"n_clusters must be >= 1, got {self.n_clusters}")
        if self.max_iter < 1:
            raise ConfigError(f"max_iter must be >= 1, got {self.max_iter}")


@dataclass(frozen=True)
class Clustering:
    """Result: ``labels[i]`` is the cluster of ``cell_ids[i]``."""

    cell_ids: np.ndarray
    labels: np.ndarray
    iterations: int
    converged: bool

    def members(self, cluster: int) -> np.ndarray:
        """Cell ids in ``cluster``."""
        return self.cell_ids[self.labels == cluster]

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=int(self.labels.max()) + 1)


def weekly_profiles(traffic: Traffic, channel: str = "internet") -> np.ndarray:
    """(C, 168) mean activity by (local weekday, hour), z-scored per cell (FedDA's augmentation view).

    Unobserved intervals are ignored; a (weekday, hour) slot never observed takes the cell's mean.
    """
    hourly = traffic.select_channels([channel]).resample(HOUR_MS) if traffic.step_ms < HOUR_MS \
        else traffic.select_channels([channel])
    x = hourly.values[:, :, 0].astype(np.float64)
    hour, weekday, _ = local_calendar(hourly.times_ms)
    slot = weekday * 24 + np.floor(hour).astype(np.int64)
    ok = ~np.isnan(x)
    sums = np.zeros((x.shape[0], 168))
    counts = np.zeros((x.shape[0], 168))
    for s in range(168):
        cols = slot == s
        if cols.any():
            sums[:, s] = np.where(ok[:, cols], x[:, cols], 0.0).sum(axis=1)
            counts[:, s] = ok[:, cols].sum(axis=1)
    if (counts.sum(axis=1) == 0).any():
        bad = traffic.cell_ids[counts.sum(axis=1) == 0][0]
        raise DataError(f"cell {bad} has no observed {channel} activity; drop it before clustering")
    cell_mean = sums.sum(axis=1, keepdims=True) / counts.sum(axis=1, keepdims=True)
    prof = np.where(counts > 0, sums / np.maximum(counts, 1), cell_mean)
    std = prof.std(axis=1, keepdims=True)
    return (prof - prof.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel so clusters are numbered by their first member (inputs are sorted by cell id)."""
    order: dict[int, int] = {}
    for lab in labels:
        order.setdefault(int(lab), len(order))
    return np.array([order[int(lab)] for lab in labels], dtype=np.int64)


def _centroids(features: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([features[labels == j].mean(axis=0) for j in range(k)])


def cluster_cells(traffic: Traffic, cfg: ClusterConfig = ClusterConfig()) -> Clustering:
    """Cluster the cells of ``traffic`` by location and weekly traffic profile.

    Raises
    ------
    ConfigError
        if there are fewer cells than clusters.
    """
    n = traffic.n_cells
    if n < cfg.n_clusters:
        raise ConfigError(f"cannot make {cfg.n_clusters} clusters of {n} cells; lower n_clusters")
    loc = positions_km(traffic.cell_ids)
    prof = weekly_profiles(traffic, cfg.channel)
    k = cfg.n_clusters
    loc_labels = _canonical(KMeans(k, n_init=10, random_state=cfg.seed).fit_predict(loc))
    traffic_labels = loc_labels
    previous: np.ndarray | None = None
    converged = False
    it = 0
    for it in range(1, cfg.max_iter + 1):  # noqa: B007 - the count is reported
        # The location labels initialise the traffic view; its labels initialise the next location view.
        km = KMeans(k, init=_centroids(prof, loc_labels, k), n_init=1, random_state=cfg.seed)
        traffic_labels = _canonical(km.fit_predict(prof))
        if previous is not None and v_measure_score(previous, traffic_labels) == 1.0:
            converged = True
            break
        previous = traffic_labels
        km = KMeans(k, init=_centroids(loc, traffic_labels, k), n_init=1, random_state=cfg.seed)
        loc_labels = _canonical(km.fit_predict(loc))
    return Clustering(traffic.cell_ids.copy(), traffic_labels, it, converged)
