"""Client-side local training: start from the served weights, train on the client's own windows, send the delta.

One :class:`LocalTrainer` per worker holds a model as a workspace; :meth:`LocalTrainer.train` loads the
served vector, runs ``epochs`` passes (or ``max_steps`` steps) of mini-batch training on the MSE in
z-units, and returns the :class:`~dnt.fl.types.Update` ``local - served`` with the measured compute.
A fresh optimiser per call (optimiser state is not shared across rounds, as in FedAvg). The optimiser is
Adam by default; FedDA's SGD with momentum 0.9 (lr 1e-2, batch 20) is ``optimizer="sgd"``. Measured on the
real 3-cell creation validation (12 V-twin rounds): Adam 0.050 MSE, FedDA's SGD 0.064, and Adam 35 % faster.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dnt.data.windows import Split
from dnt.errors import ConfigError, DataError
from dnt.fl.types import Update, flatten, unflatten

__all__ = ["LocalConfig", "LocalResult", "LocalTrainer"]


@dataclass(frozen=True)
class LocalConfig:
    """How a client trains locally."""

    epochs: int = 1
    """Passes over the client's windows per update (FedDA: 1)."""
    batch_size: int = 64
    """Windows per optimiser step (FedDA: 20; 64 is ~2x cheaper per window on CPU)."""
    lr: float = 1e-3
    """Learning rate (Adam 1e-3; FedDA's SGD uses 1e-2)."""
    optimizer: str = "adam"
    """``"adam"`` or ``"sgd"`` (SGD with ``momentum``, as FedDA)."""
    momentum: float = 0.9
    """SGD momentum (FedDA: 0.9)."""
    max_steps: int | None = None
    """Stop after this many optimiser steps (``None`` = the full epochs)."""
    grad_clip: float | None = 1.0
    """Clip the gradient norm (``None`` = off)."""
    threads: int = 1
    """``torch.set_num_threads`` for training (0 = leave torch's setting); see docs/conventions.md."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"local {name} must be an integer >= 1, got {v!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"local lr must be > 0, got {self.lr!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ConfigError(f"local optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ConfigError(f"max_steps must be an integer >= 1 or None, got {self.max_steps!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ConfigError(f"grad_clip must be > 0 or None, got {self.grad_clip!r}")


@dataclass(frozen=True, eq=False)
class LocalResult:
    """One local training run.

    Parameters
    ----------
    update : the delta to send.
    train_loss : mean training MSE over the steps (dropout on), z-units.
    steps : optimiser steps taken.
    samples : windows processed (sample-passes, the machine-independent compute count).
    compute_s : CPU seconds of the process spent in the run (``time.process_time``).
    """

    update: Update
    train_loss: float
    steps: int
    samples: int
    compute_s: float


class LocalTrainer:
    """A twin worker's trainer.

    Parameters
    ----------
    model : a workspace model of the twin's architecture (its weights are overwritten on every call).
    cfg : local training settings.
    """

    def __init__(self, model: nn.Module, cfg: LocalConfig | None = None) -> None:
        self.model = model
        self.cfg = cfg or LocalConfig()

    def train(self, start: np.ndarray, split: Split, *, client_id: str, base_version: int,
              cluster: int | None = None, seed: int = 0) -> LocalResult:
        """Train from ``start`` on ``split`` and return the update.

        Parameters
        ----------
        start : (D,) served weights (global or cluster twin of version ``base_version``).
        split : the client's windows (z-units).
        seed : seeds dropout and the batch order, so one seed gives one update.

        Raises
        ------
        DataError
            if ``split`` is empty or the loss became non-finite (the update would poison the twin).
        """
        cfg = self.cfg
        n = len(split)
        if n == 0:
            raise DataError(f"client {client_id} has no training windows")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        t0 = time.process_time()
        start = np.asarray(start, dtype=np.float32)
        model = unflatten(start, self.model)
        model.train()
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        params = [p for p in model.parameters() if p.requires_grad]
        opt: torch.optim.Optimizer = (torch.optim.Adam(params, lr=cfg.lr) if cfg.optimizer == "adam"
                                      else torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum))
        xc = torch.from_numpy(np.ascontiguousarray(split.xc, dtype=np.float32))
        xp = torch.from_numpy(np.ascontiguousarray(split.xp, dtype=np.float32))
        y = torch.from_numpy(np.ascontiguousarray(split.y, dtype=np.float32))
        loss_fn = nn.MSELoss()
        steps = samples = 0
        total = 0.0
        done = False
        for _ in range(cfg.epochs):
            order = torch.from_numpy(rng.permutation(n))
            for i in range(0, n, cfg.batch_size):
                idx = order[i:i + cfg.batch_size]
                opt.zero_grad()
                loss = loss_fn(model(xc[idx], xp[idx]), y[idx])
                loss.backward()
                if cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                opt.step()
                total += loss.item() * len(idx)
                steps += 1
                samples += len(idx)
                if cfg.max_steps is not None and steps >= cfg.max_steps:
                    done = True
                    break
            if done:
                break
        model.eval()
        train_loss = total / max(samples, 1)
        if not math.isfinite(train_loss):
            raise DataError(f"client {client_id}: local training diverged (loss {train_loss}); lower lr "
                            f"(now {cfg.lr}) — the update is not sent")
        delta = flatten(model) - start
        update = Update(client_id, delta, n, base_version, cluster)
        return LocalResult(update, train_loss, steps, samples, time.process_time() - t0)
