"""V-twin creation for the vtwin rApp: cluster the cells, run synchronous FL, evaluate, publish models.

:func:`create_vtwin` is the rApp's whole algorithm: :func:`~dnt.fl.clustering.cluster_cells` (location +
weekly profile), :func:`~dnt.data.windows.build_windows`, :class:`~dnt.fl.sync.SyncRounds` with the named
rule (validation MSE picks the kept round), and a test-period comparison of the global twin with
persistence. :class:`TwinSpec` is the architecture and windowing every party (rApp, aggregator, htwin)
must share: a model of another architecture has another :class:`~dnt.fl.types.Layout` and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from dnt.data.frame import Traffic
from dnt.data.windows import Split, WindowConfig, build_windows
from dnt.errors import ConfigError
from dnt.fl.clustering import ClusterConfig, Clustering, cluster_cells
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.messages import GlobalTwin
from dnt.fl.rules import RULES
from dnt.fl.sync import SyncConfig, SyncResult, SyncRounds, clients_from_split
from dnt.fl.types import flatten, layout, unflatten
from dnt.twin.model import TwinLSTM

__all__ = ["TwinSpec", "VTwinConfig", "VTwinResult", "create_vtwin", "split_mse", "persistence_mse"]


@dataclass(frozen=True)
class TwinSpec:
    """The twin's architecture and windowing (shared by the rApp and the xApps)."""

    horizon: int = 6
    """Steps forecast at once (10-minute steps: one hour)."""
    hidden: int = 32
    """LSTM hidden units."""
    layers: int = 1
    """Stacked LSTM layers."""
    closeness: int = 6
    """Most recent lags fed to the model."""
    period: int = 1
    """Seasonal lags (days back)."""
    period_steps: int = 144
    """Steps per season (one day of 10-minute steps)."""
    residual: bool = True
    """Learn the change from persistence (see :class:`~dnt.twin.model.ModelConfig`)."""

    def __post_init__(self) -> None:
        if min(self.horizon, self.hidden, self.layers, self.closeness, self.period, self.period_steps) < 1:
            raise ConfigError("twin spec: every size must be >= 1")

    def model(self, seed: int = 0) -> TwinLSTM:
        """A fresh model of this architecture (deterministic in ``seed``)."""
        torch.manual_seed(seed)
        return TwinLSTM(self.horizon, self.hidden, self.layers, 0.0, True, self.residual)

    def windows(self, test_days: float, val_days: float) -> WindowConfig:
        """The window configuration of this spec."""
        return WindowConfig(self.closeness, self.period, self.period_steps, self.horizon, test_days, val_days)


@dataclass(frozen=True)
class VTwinConfig:
    """Settings of V-twin creation."""

    spec: TwinSpec = field(default_factory=TwinSpec)
    n_clusters: int = 2
    """Clusters of cells (one cluster twin each)."""
    rounds: int = 5
    """Synchronous rounds."""
    fraction: float = 1.0
    """Fraction of each cluster's cells trained per round."""
    rule: str = "mean"
    """Aggregation rule inside a cluster (a key of :data:`dnt.fl.rules.RULES`)."""
    global_mix: float = 0.5
    """Pull of each cluster twin towards the global twin after a round."""
    local_epochs: int = 1
    local_max_steps: int | None = 20
    lr: float = 3e-3
    test_days: float = 1.0
    val_days: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ConfigError(f"rule {self.rule!r} is not one of {sorted(RULES)}")


@dataclass
class VTwinResult:
    """The created twins and how good they are (test-period MSE in z-units)."""

    global_twin: GlobalTwin
    cluster_twins: dict[int, GlobalTwin]
    clustering: Clustering
    sync: SyncResult
    test_mse: float
    persistence_mse: float


def split_mse(model: torch.nn.Module, vec: np.ndarray, split: Split) -> float:
    """MSE (z-units) of the model with weights ``vec`` on ``split``."""
    if len(split) == 0:
        return float("nan")
    m = unflatten(np.asarray(vec, dtype=np.float32), model).eval()
    with torch.no_grad():
        out = m(torch.from_numpy(np.ascontiguousarray(split.xc, dtype=np.float32)),
                torch.from_numpy(np.ascontiguousarray(split.xp, dtype=np.float32))).numpy()
    return float(np.mean((out - split.y) ** 2))


def persistence_mse(split: Split) -> float:
    """MSE (z-units) of repeating the last observed value over the horizon."""
    return float(np.mean((split.y - split.xc[:, :1]) ** 2)) if len(split) else float("nan")


def create_vtwin(traffic: Traffic, cfg: VTwinConfig | None = None, channel: str = "internet") -> VTwinResult:
    """Create the cluster twins and the global twin from historical ``traffic`` (see the module docstring).

    Raises
    ------
    ConfigError, DataError
        too few cells for the clusters, too little history for the windows.
    """
    cfg = cfg or VTwinConfig()
    clustering = cluster_cells(traffic, ClusterConfig(n_clusters=cfg.n_clusters, channel=channel, seed=cfg.seed))
    win = build_windows(traffic, channel, cfg.spec.windows(cfg.test_days, cfg.val_days))
    model = cfg.spec.model(cfg.seed)
    labels = dict(zip(clustering.cell_ids.tolist(), clustering.labels.tolist(), strict=True))
    clients = clients_from_split(win.train, win.cell_ids, np.array([labels[int(c)] for c in win.cell_ids]))
    trainer = LocalTrainer(cfg.spec.model(cfg.seed),
                           LocalConfig(epochs=cfg.local_epochs, max_steps=cfg.local_max_steps, lr=cfg.lr))
    eval_model = cfg.spec.model(cfg.seed)

    def evaluate(_round: int, _clusters: Mapping[int, np.ndarray], global_vec: np.ndarray) -> float:
        return split_mse(eval_model, global_vec, win.val)

    rounds = SyncRounds(clients, flatten(model), trainer, RULES[cfg.rule](),
                        SyncConfig(rounds=cfg.rounds, fraction=cfg.fraction, global_mix=cfg.global_mix,
                                   seed=cfg.seed), evaluate=evaluate if len(win.val) else None)
    res = rounds.run()
    lay = layout(model)
    return VTwinResult(
        global_twin=GlobalTwin(res.global_twin, lay),
        cluster_twins={k: GlobalTwin(m, lay) for k, m in res.cluster_twins.items()},
        clustering=clustering, sync=res,
        test_mse=split_mse(eval_model, res.global_twin.vector, win.test),
        persistence_mse=persistence_mse(win.test))
