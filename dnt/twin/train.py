"""Training and inference for :class:`~dnt.twin.model.TwinLSTM`, and the :class:`Forecaster` wrapper.

Adam on the MSE in z-units (FedDA's centralised baseline uses the MSE loss; we use Adam rather than
its SGD-with-momentum for faster convergence on CPU), early stopping on the validation MSE with the
best weights restored, and a fixed seed for initialisation, dropout and the batch order.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from dnt.data.windows import Normaliser, Split, WindowConfig, Windows, window_inputs
from dnt.errors import ConfigError, DataError
from dnt.twin.model import ModelConfig, TwinLSTM

__all__ = ["TrainConfig", "EpochStats", "TrainHistory", "fit", "predict", "Forecaster"]

STATE_FORMAT = 1


@dataclass(frozen=True)
class TrainConfig:
    """How a twin is trained."""

    epochs: int = 40
    """Maximum passes over the training windows."""
    batch_size: int = 64
    """Windows per Adam step (FedDA centralised: 64)."""
    lr: float = 1e-3
    """Adam learning rate."""
    patience: int = 6
    """Stop after this many epochs without a lower validation MSE; the best epoch's weights are kept."""
    seed: int = 0
    """Seed for weight init, dropout and the batch order."""
    threads: int = 1
    """``torch.set_num_threads`` during training (0 = leave torch's setting). The twin's matrices are tiny
    (batch 64 x hidden 64), so extra threads barely help, and on a loaded 2-core machine two OpenMP
    threads were measured 50-170x slower per epoch than one (threads spin waiting for each other)."""
    max_minutes: float | None = 10.0
    """Stop after the epoch that passes this wall time (``None`` = no limit)."""
    grad_clip: float | None = 1.0
    """Clip the gradient norm to this value (``None`` = no clipping)."""
    ema_decay: float | None = None
    """Keep an exponential moving average of the weights (per step, this decay) and validate / keep the
    averaged weights instead of the raw ones; ``None`` = off. Smooths Adam's step noise, so the model
    early stopping picks depends less on the seed."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {v!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be > 0, got {self.lr!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ConfigError(f"threads must be an integer >= 0, got {self.threads!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(f"max_minutes must be > 0 or None, got {self.max_minutes!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ConfigError(f"grad_clip must be > 0 or None, got {self.grad_clip!r}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in (0, 1) or None, got {self.ema_decay!r}")


@dataclass(frozen=True)
class EpochStats:
    """One epoch: mean training MSE (dropout on), validation MSE, whether it is the best so far."""

    epoch: int
    train_loss: float
    val_loss: float
    best: bool
    elapsed_s: float


@dataclass
class TrainHistory:
    """What :func:`fit` did. ``stop_reason`` is ``"epochs"``, ``"patience"`` or ``"max_minutes"``."""

    epochs: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    stop_reason: str = "epochs"
    monitor: str = "val"
    wall_s: float = 0.0


def _tensors(split: Split) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(np.ascontiguousarray(split.xc, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(split.xp, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(split.y, dtype=np.float32)))


@torch.no_grad()
def _eval_loss(model: nn.Module, split: Split, batch_size: int = 4096) -> float:
    if len(split) == 0:
        return float("nan")
    pred = predict(model, split, batch_size)
    return float(np.mean((pred - split.y.astype(np.float64)) ** 2))


@torch.no_grad()
def predict(model: nn.Module, split: Split, batch_size: int = 4096) -> np.ndarray:
    """(N, h) forecasts in z-units for every window of ``split`` (eval mode, no dropout)."""
    was_training = model.training
    model.eval()
    xc, xp, _ = _tensors(split)
    out = [model(xc[i:i + batch_size], xp[i:i + batch_size]) for i in range(0, len(split), batch_size)]
    model.train(was_training)
    if not out:
        return np.zeros((0, split.y.shape[1]), dtype=np.float64)
    return torch.cat(out).double().numpy()


def fit(model: nn.Module, windows: Windows, cfg: TrainConfig | None = None,
        progress: Callable[[EpochStats], None] | None = None) -> TrainHistory:
    """Train ``model`` on ``windows.train`` with Adam/MSE, early-stopping on ``windows.val``.

    The weights of the epoch with the lowest validation MSE are restored at the end. Without
    validation windows the training loss is monitored instead (with a warning). Re-seeds torch with
    ``cfg.seed`` (dropout) and draws the batch order from ``numpy.random.default_rng(cfg.seed)``.

    Parameters
    ----------
    progress : called after every epoch with its :class:`EpochStats`.
    """
    cfg = cfg or TrainConfig()
    if len(windows.train) == 0:
        raise DataError("no training windows")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    history = TrainHistory()
    has_val = len(windows.val) > 0
    if not has_val:
        warnings.warn("no validation windows: early stopping monitors the training loss", stacklevel=2)
        history.monitor = "train"
    xc, xp, y = _tensors(windows.train)
    n = len(windows.train)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.MSELoss()
    best_state = copy.deepcopy(model.state_dict())
    params = [p for p in model.parameters() if p.requires_grad]
    ema = [p.detach().clone() for p in params] if cfg.ema_decay is not None else None
    ema_step = 1.0 - (cfg.ema_decay or 0.0)
    since_best = 0
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xc[idx], xp[idx]), y[idx])
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for e, p in zip(ema, params, strict=True):
                        e.lerp_(p, ema_step)
            total += loss.item() * len(idx)
        train_loss = total / n
        raw_weights = _swap_in(params, ema)
        val_loss = _eval_loss(model, windows.val) if has_val else train_loss
        improved = val_loss < history.best_val_loss
        if improved:
            history.best_val_loss, history.best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
            since_best = 0
        else:
            since_best += 1
        _swap_in(params, raw_weights)
        stats = EpochStats(epoch, train_loss, val_loss, improved, time.perf_counter() - t0)
        history.epochs.append(stats)
        if progress is not None:
            progress(stats)
        if since_best >= cfg.patience:
            history.stop_reason = "patience"
            break
        if cfg.max_minutes is not None and stats.elapsed_s > 60 * cfg.max_minutes:
            history.stop_reason = "max_minutes"
            break
    model.load_state_dict(best_state)
    model.eval()
    history.wall_s = time.perf_counter() - t0
    if history.best_epoch == 0:
        raise DataError(f"training diverged: the {history.monitor} loss was never finite "
                        f"(last {history.epochs[-1].val_loss}); lower lr (now {cfg.lr}) or check the data")
    return history


@torch.no_grad()
def _swap_in(params: list[torch.Tensor], values: list[torch.Tensor] | None) -> list[torch.Tensor] | None:
    """Copy ``values`` into ``params`` and return the previous contents (no-op for ``None``)."""
    if values is None:
        return None
    old = [p.detach().clone() for p in params]
    for p, v in zip(params, values, strict=True):
        p.copy_(v)
    return old


class Forecaster:
    """A trained twin: :class:`TwinLSTM` + window config + per-cell normaliser.

    Parameters
    ----------
    window_cfg : the windows it is trained on; ``None`` adopts those given to :meth:`fit`.
    model_cfg, train_cfg : model size and training settings (defaults: FedDA's model, :class:`TrainConfig`).

    Examples
    --------
    >>> f = Forecaster()
    >>> metrics = f.fit(build_windows(traffic))          # doctest: +SKIP
    >>> f.predict(recent_raw_values, cell_id=5161)       # (h,) raw units   # doctest: +SKIP
    """

    def __init__(self, window_cfg: WindowConfig | None = None, model_cfg: ModelConfig | None = None,
                 train_cfg: TrainConfig | None = None) -> None:
        self.window_cfg = window_cfg
        self.model_cfg = model_cfg or ModelConfig()
        self.train_cfg = train_cfg or TrainConfig()
        self.model: TwinLSTM | None = None
        self.normaliser: Normaliser | None = None
        self.channel: str | None = None
        self.step_ms: int | None = None
        self.period_steps: int | None = None
        self.history: TrainHistory | None = None

    # -- training -------------------------------------------------------------------------------
    def fit(self, windows: Windows, progress: Callable[[EpochStats], None] | None = None) -> dict[str, Any]:
        """Train a fresh model on ``windows``; returns ``twin/*`` metrics (z-units)."""
        if self.window_cfg is not None and self.window_cfg != windows.cfg:
            raise ConfigError(f"windows were built with {windows.cfg}, this forecaster expects {self.window_cfg}")
        self.window_cfg = windows.cfg
        torch.manual_seed(self.train_cfg.seed)
        self.model = TwinLSTM.from_config(windows.cfg.horizon, self.model_cfg)
        self.history = fit(self.model, windows, self.train_cfg, progress)
        self.normaliser = windows.normaliser
        self.channel, self.step_ms, self.period_steps = windows.channel, windows.step_ms, windows.period_steps
        best = self.history.epochs[self.history.best_epoch - 1]
        return {"twin/train_mse": best.train_loss, "twin/val_mse": self.history.best_val_loss,
                "twin/best_epoch": self.history.best_epoch, "twin/epochs": len(self.history.epochs),
                "twin/stop": self.history.stop_reason, "twin/wall_s": self.history.wall_s}

    # -- inference ------------------------------------------------------------------------------
    def _ready(self) -> tuple[TwinLSTM, Normaliser, WindowConfig, int]:
        if self.model is None or self.normaliser is None or self.window_cfg is None or self.period_steps is None:
            raise DataError("this forecaster is not trained; call fit() or load a bundle first")
        return self.model, self.normaliser, self.window_cfg, self.period_steps

    @property
    def lookback(self) -> int:
        """Raw history steps :meth:`predict` needs."""
        _, _, cfg, P = self._ready()
        return max(cfg.closeness, cfg.period * P)

    def predict_split(self, split: Split) -> np.ndarray:
        """(N, h) z-unit forecasts for prepared windows."""
        model, _, _, _ = self._ready()
        return predict(model, split)

    def predict(self, history: np.ndarray, cell_id: int | None = None) -> np.ndarray:
        """Forecast the next ``h`` steps of one cell from its raw recent series.

        Parameters
        ----------
        history : (L,) raw values at the model's resolution, oldest first, ending with ``x[t-1]``;
            ``L >= lookback`` (``max(c, p * P)``, e.g. 432 at 10 min with 3 daily lags).
        cell_id : the cell (for its normaliser); optional when the model covers one cell.

        Returns
        -------
        (h,) float64 forecast of ``x[t] .. x[t+h-1]`` in raw units.
        """
        model, norm, cfg, P = self._ready()
        hist = np.asarray(history, dtype=np.float64)
        if hist.ndim != 1:
            raise DataError(f"history must be 1-D (one cell), got shape {hist.shape}")
        need = max(cfg.closeness, cfg.period * P)
        if hist.size < need:
            raise DataError(f"history has {hist.size} steps; the model needs at least {need} "
                            f"(closeness {cfg.closeness}, {cfg.period} periods of {P} steps)")
        z = norm.transform(hist, cell_id)
        xc, xp = window_inputs(z, np.array([hist.size]), cfg.closeness, cfg.period, P, cfg.horizon)
        if np.isnan(xc).any() or np.isnan(xp).any():
            raise DataError("history has unobserved (NaN) values at the lags the model reads")
        split = Split(xc.astype(np.float32), xp.astype(np.float32),
                      np.zeros((1, cfg.horizon), dtype=np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64))
        return norm.inverse(predict(model, split)[0], cell_id)

    # -- persistence ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this forecaster (tensors and plain types only)."""
        model, norm, cfg, P = self._ready()
        return {
            "format": STATE_FORMAT,
            "window_cfg": dataclasses.asdict(cfg),
            "model_cfg": dataclasses.asdict(self.model_cfg),
            "train_cfg": dataclasses.asdict(self.train_cfg),
            "channel": self.channel,
            "step_ms": self.step_ms,
            "period_steps": P,
            "cell_ids": norm.cell_ids.tolist(),
            "mean": norm.mean.tolist(),
            "std": norm.std.tolist(),
            "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Forecaster:
        """Inverse of :meth:`state_dict`; :class:`DataError` if a field is missing or malformed."""
        try:
            if state["format"] != STATE_FORMAT:
                raise DataError(f"forecaster state format {state['format']} is not {STATE_FORMAT}")
            wcfg = WindowConfig(**state["window_cfg"])
            f = cls(wcfg, ModelConfig(**state["model_cfg"]), TrainConfig(**state["train_cfg"]))
            f.channel, f.step_ms, f.period_steps = state["channel"], int(state["step_ms"]), int(state["period_steps"])
            f.normaliser = Normaliser(np.array(state["cell_ids"]), np.array(state["mean"]), np.array(state["std"]))
            f.model = TwinLSTM.from_config(wcfg.horizon, f.model_cfg)
            f.model.load_state_dict(state["weights"])
            f.model.eval()
        except (KeyError, TypeError, RuntimeError) as err:
            raise DataError(f"malformed forecaster state ({err!r})") from err
        return f
