"""FedDA's twin forecaster: two LSTMs (closeness, period) whose last outputs are summed.

Zhang et al., "FedDA: Federated learning with dual attention for wireless traffic prediction",
INFOCOM 2021 (``chuanting/FedDA`` ``utils/models.py``): a 2-layer LSTM over the closeness sequence and
another over the period sequence (hidden 64, dropout 0.2, ``batch_first``); the last time step's
outputs are added and a linear layer maps them to the forecast. Here the period sequence carries the
horizon-long seasonal block at each step (``h`` features), so one model predicts ``h`` steps; with
``h = 1`` it is FedDA's model exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dnt.errors import ConfigError

__all__ = ["ModelConfig", "TwinLSTM"]


@dataclass(frozen=True)
class ModelConfig:
    """Size of :class:`TwinLSTM` (FedDA defaults)."""

    hidden: int = 64
    """LSTM hidden units in both branches."""
    layers: int = 2
    """Stacked LSTM layers in each branch."""
    dropout: float = 0.2
    """Dropout between stacked LSTM layers (ignored by torch when ``layers == 1``)."""
    chronological: bool = True
    """Feed each sequence oldest lag first, so the LSTM's last step reads ``x[t-1]`` (resp. the block one
    period back). FedDA feeds the most recent lag first (``False``); on the Milan 10-min benchmark the
    chronological order gave a lower 1-step error, see ``bench/forecast.py``."""
    residual: bool = False
    """Add the last observed value ``x[t-1]`` to every output, so the network learns the change from
    persistence (not in FedDA; off by default)."""

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, int) or self.hidden < 1:
            raise ConfigError(f"hidden must be an integer >= 1, got {self.hidden!r}")
        if not isinstance(self.layers, int) or self.layers < 1:
            raise ConfigError(f"layers must be an integer >= 1, got {self.layers!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")


class TwinLSTM(nn.Module):
    """Closeness LSTM + period LSTM → sum of last outputs → ``Linear(hidden, horizon)``.

    Parameters
    ----------
    horizon : number of future steps predicted (also the period branch's feature size).
    hidden, layers, dropout : LSTM size, as :class:`ModelConfig`.

    Shapes: ``forward(xc, xp)`` takes ``xc`` (B, c) or (B, c, 1) and ``xp`` (B, p, h) and returns (B, h).
    :mod:`dnt.data.windows` stores lags most recent first (FedDA's order); with ``chronological`` (the
    default) they are reversed before the LSTMs.
    """

    def __init__(self, horizon: int = 6, hidden: int = 64, layers: int = 2, dropout: float = 0.2,
                 chronological: bool = True, residual: bool = False) -> None:
        super().__init__()
        if not isinstance(horizon, int) or horizon < 1:
            raise ConfigError(f"horizon must be an integer >= 1, got {horizon!r}")
        self.horizon = horizon
        self.config = ModelConfig(hidden, layers, dropout, chronological, residual)  # validates
        drop = dropout if layers > 1 else 0.0
        self.close = nn.LSTM(1, hidden, num_layers=layers, dropout=drop, batch_first=True)
        self.period = nn.LSTM(horizon, hidden, num_layers=layers, dropout=drop, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    @classmethod
    def from_config(cls, horizon: int, cfg: ModelConfig) -> TwinLSTM:
        return cls(horizon, cfg.hidden, cfg.layers, cfg.dropout, cfg.chronological, cfg.residual)

    def forward(self, xc: torch.Tensor, xp: torch.Tensor) -> torch.Tensor:
        if xc.dim() == 2:
            xc = xc.unsqueeze(-1)
        last = xc[:, 0]  # x[t-1]: windows store the most recent lag first
        if self.config.chronological:
            xc, xp = torch.flip(xc, [1]), torch.flip(xp, [1])
        out_c, _ = self.close(xc)
        out_p, _ = self.period(xp)
        out = self.head(out_c[:, -1] + out_p[:, -1])
        return out + last if self.config.residual else out
