"""Supervised windows for the twin forecaster, following FedDA's preprocessing.

FedDA (Zhang et al., INFOCOM 2021, ``chuanting/FedDA`` ``utils/misc.py``) predicts a cell's traffic
from two short sequences: *closeness* (the last ``c`` values) and *period* (the same time one, two,
three days earlier), on per-cell z-scored data with the mean and std of the training part only, and
tests on the last ``test_days``. This module builds those windows from a :class:`~dnt.data.Traffic`.

For a target block starting at step ``t`` with horizon ``h``:

* closeness ``xc[i] = x[t-1-i]`` for ``i = 0..c-1`` (FedDA's order: most recent lag first);
* period ``xp[k-1] = x[t-kP : t-kP+h]`` for ``k = 1..p`` (the horizon-long block ``k`` periods
  earlier, so every horizon step has its seasonal reference; with ``h = 1`` this is FedDA's
  ``x[t-kP]``);
* target ``y = x[t : t+h]``.

Splits are time-ordered and leak-free: a window belongs to the split where its target starts; the
test split holds the windows whose targets start in the last ``test_days``; the validation split (for
early stopping; FedDA uses none) the ``val_days`` before it; the training split everything earlier.
A window's target never reaches into a later split. The z-score uses only the steps before the
validation period (the data every training window sees). Windows with a NaN anywhere are skipped.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from dnt.data.frame import DAY_MS, Traffic
from dnt.errors import ConfigError, DataError

__all__ = ["SPLITS", "WindowConfig", "Normaliser", "Split", "Windows", "build_windows", "window_inputs"]

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class WindowConfig:
    """How series are cut into (closeness, period) → horizon windows."""

    closeness: int = 3
    """Number of most recent lags ``x[t-1] .. x[t-c]`` fed to the closeness LSTM (FedDA: 3)."""
    period: int = 3
    """Number of seasonal lags ``k = 1..p`` fed to the period LSTM (FedDA: 3)."""
    period_steps: int | None = None
    """Season length ``P`` in steps; ``None`` = one day at the data's resolution (144 at 10 min, 24 hourly)."""
    horizon: int = 6
    """Number of future steps predicted at once, ``x[t] .. x[t+h-1]``; must not exceed ``P``."""
    test_days: float = 7.0
    """Length of the test period (the end of the series), in days (FedDA: 7)."""
    val_days: float = 7.0
    """Length of the validation period just before the test period, in days; 0 disables it."""

    def __post_init__(self) -> None:
        if not isinstance(self.closeness, int) or self.closeness < 1:
            raise ConfigError(f"closeness must be an integer >= 1, got {self.closeness!r}")
        if not isinstance(self.period, int) or self.period < 1:
            raise ConfigError(f"period must be an integer >= 1, got {self.period!r}")
        if not isinstance(self.horizon, int) or self.horizon < 1:
            raise ConfigError(f"horizon must be an integer >= 1, got {self.horizon!r}")
        if self.period_steps is not None:
            if not isinstance(self.period_steps, int) or self.period_steps < 1:
                raise ConfigError(f"period_steps must be an integer >= 1 or None, got {self.period_steps!r}")
            if self.horizon > self.period_steps:
                raise ConfigError(f"horizon {self.horizon} exceeds period_steps {self.period_steps}: the period "
                                  "block would contain future values; use a shorter horizon or a longer period")
        if not (math.isfinite(self.test_days) and self.test_days > 0):
            raise ConfigError(f"test_days must be > 0, got {self.test_days!r}")
        if not (math.isfinite(self.val_days) and self.val_days >= 0):
            raise ConfigError(f"val_days must be >= 0, got {self.val_days!r}")

    def resolve_period_steps(self, step_ms: int) -> int:
        """``period_steps``, or one day in steps of ``step_ms``; :class:`ConfigError` if not whole."""
        if self.period_steps is not None:
            return self.period_steps
        if DAY_MS % step_ms:
            raise ConfigError(f"one day is not a whole number of {step_ms} ms steps; set period_steps")
        p = DAY_MS // step_ms
        if self.horizon > p:
            raise ConfigError(f"horizon {self.horizon} exceeds one day ({p} steps of {step_ms} ms)")
        return p

    def days_to_steps(self, days: float, step_ms: int) -> int:
        """A duration in days as a whole number of steps (rounded)."""
        return int(round(days * DAY_MS / step_ms))

    def lookback(self, step_ms: int) -> int:
        """Steps of history one window needs before its target: ``max(c, p * P)``."""
        return max(self.closeness, self.period * self.resolve_period_steps(step_ms))


@dataclass(frozen=True, eq=False)
class Normaliser:
    """Per-cell z-score ``z = (x - mean) / std`` with training-period statistics.

    Parameters
    ----------
    cell_ids : (C,) cell ids, strictly increasing.
    mean, std : (C,) float64 statistics of each cell.
    """

    cell_ids: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        ids = np.asarray(self.cell_ids, dtype=np.int64)
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if not (ids.ndim == 1 and mean.shape == ids.shape and std.shape == ids.shape):
            raise DataError(f"normaliser shapes disagree: cells {ids.shape}, mean {mean.shape}, std {std.shape}")
        if not np.all(np.isfinite(mean)) or not np.all(std > 0):
            raise DataError("normaliser needs finite means and positive stds")
        object.__setattr__(self, "cell_ids", ids)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def row(self, cell_id: int | None) -> int:
        """Row of ``cell_id``; ``None`` is allowed when there is exactly one cell."""
        if cell_id is None:
            if len(self.cell_ids) != 1:
                raise DataError(f"this model covers {len(self.cell_ids)} cells; say which (cell_id=...)")
            return 0
        i = int(np.searchsorted(self.cell_ids, cell_id))
        if i >= len(self.cell_ids) or self.cell_ids[i] != cell_id:
            raise DataError(f"cell {cell_id} is not one this model was trained on ({self.cell_ids.tolist()})")
        return i

    def transform(self, x: np.ndarray, cell_id: int | None = None) -> np.ndarray:
        """Raw values of one cell → z-units."""
        i = self.row(cell_id)
        return (np.asarray(x, dtype=np.float64) - self.mean[i]) / self.std[i]

    def inverse(self, z: np.ndarray, cell_id: int | None = None) -> np.ndarray:
        """z-units of one cell → raw values."""
        i = self.row(cell_id)
        return np.asarray(z, dtype=np.float64) * self.std[i] + self.mean[i]


@dataclass(frozen=True, eq=False)
class Split:
    """The windows of one split, in z-units, with where each came from.

    Parameters
    ----------
    xc : (N, c) float32 closeness lags, column ``i`` = ``x[t-1-i]``.
    xp : (N, p, h) float32 period blocks, row ``k-1`` = ``x[t-kP : t-kP+h]``.
    y : (N, h) float32 targets ``x[t : t+h]``.
    cell : (N,) int64 row of the window's cell in :attr:`Windows.cell_ids`.
    start : (N,) int64 step index ``t`` of the first target.
    """

    xc: np.ndarray
    xp: np.ndarray
    y: np.ndarray
    cell: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, mask: np.ndarray) -> Split:
        """The windows where ``mask`` (boolean (N,) or index array) selects."""
        return Split(self.xc[mask], self.xp[mask], self.y[mask], self.cell[mask], self.start[mask])


@dataclass(frozen=True, eq=False)
class Windows:
    """Train / val / test windows of one channel plus everything needed to undo the z-score.

    Parameters
    ----------
    cfg : the window configuration.
    channel : the channel the windows come from.
    cell_ids : (C,) cell ids; ``Split.cell`` indexes this.
    start_ms, step_ms : time axis of :attr:`series` (step ``t`` starts at ``start_ms + t * step_ms``).
    period_steps : the resolved season length ``P``.
    mean, std : (C,) float64 per-cell z-score parameters (training period only).
    series : (C, T) float32 z-scored series (NaN = unobserved), for baselines and plots.
    bounds : step indices ``(train_end, val_end)``: training targets end by ``train_end``, validation
        targets start there and end by ``val_end``, test targets start at ``val_end``.
    splits : ``{"train", "val", "test"} -> Split``.
    """

    cfg: WindowConfig
    channel: str
    cell_ids: np.ndarray
    start_ms: int
    step_ms: int
    period_steps: int
    mean: np.ndarray
    std: np.ndarray
    series: np.ndarray
    bounds: tuple[int, int]
    splits: dict[str, Split] = field(default_factory=dict)

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def val(self) -> Split:
        return self.splits["val"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def normaliser(self) -> Normaliser:
        return Normaliser(self.cell_ids, self.mean, self.std)

    def times_ms(self, split: Split) -> np.ndarray:
        """(N,) int64 start time of each window's first target."""
        return self.start_ms + self.step_ms * split.start

    def to_raw(self, z: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Undo the z-score: ``z`` is (N, ...) and ``cell`` (N,) rows into :attr:`cell_ids`."""
        shape = (-1,) + (1,) * (np.ndim(z) - 1)
        return np.asarray(z) * self.std[cell].reshape(shape) + self.mean[cell].reshape(shape)


def window_inputs(series: np.ndarray, starts: np.ndarray, closeness: int, period: int, period_steps: int,
                  horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Closeness and period inputs for target starts ``starts`` of a 1-D or (C, T) ``series``.

    Parameters
    ----------
    series : (T,) or (C, T) values.
    starts : (N,) target start steps (for a 2-D series, paired with rows via ``series[rows]`` first).

    Returns
    -------
    xc : (N, c) with column ``i`` = ``series[..., t-1-i]``.
    xp : (N, p, h) with ``xp[:, k-1, j] = series[..., t-kP+j]``.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lag_c = np.arange(1, closeness + 1)
    xc = series[..., starts[:, None] - lag_c[None, :]]
    offs = -np.arange(1, period + 1)[:, None] * period_steps + np.arange(horizon)[None, :]
    xp = series[..., starts[:, None, None] + offs[None]]
    return xc, xp


def build_windows(traffic: Traffic, channel: str = "internet", cfg: WindowConfig | None = None) -> Windows:
    """Cut ``traffic``'s ``channel`` into z-scored train / val / test windows.

    Parameters
    ----------
    traffic : any resolution whose step divides a day (or set ``cfg.period_steps``); for FedDA's hourly
        setup pass ``traffic.resample(3_600_000)``.
    channel : which channel to forecast.
    cfg : window configuration (defaults: closeness 3, period 3 days, horizon 6, test 7 d, val 7 d).

    Raises
    ------
    ConfigError
        if the horizon exceeds the period or the day is not a whole number of steps.
    DataError
        if the series is too short for the lags plus the splits, a cell has no observed training value,
        or a split ends up with no complete (NaN-free) window.
    """
    cfg = cfg or WindowConfig()
    step = traffic.step_ms
    P = cfg.resolve_period_steps(step)
    if cfg.horizon > P:
        raise ConfigError(f"horizon {cfg.horizon} exceeds period_steps {P}")
    raw = traffic.channel(channel).astype(np.float64)
    n_cells, T = raw.shape
    lookback = cfg.lookback(step)
    test_len = cfg.days_to_steps(cfg.test_days, step)
    val_len = cfg.days_to_steps(cfg.val_days, step)
    val_end = T - test_len
    train_end = val_end - val_len
    # training targets need t >= lookback and t + h <= train_end
    need = lookback + cfg.horizon + val_len + test_len
    if test_len < cfg.horizon or train_end - cfg.horizon < lookback:
        raise DataError(
            f"series of {T} steps ({T * step / DAY_MS:.2f} days) is too short: it needs more than "
            f"{need} steps (lookback {lookback} + horizon {cfg.horizon} + val {val_len} + test {test_len}, "
            f"test >= horizon); use a longer series or fewer period lags / val_days / test_days")
    if val_len and val_len < cfg.horizon:
        raise DataError(f"the validation period ({val_len} steps) is shorter than the horizon {cfg.horizon}; "
                        "raise val_days or set it to 0")

    train_part = raw[:, :train_end]
    counts = np.sum(~np.isnan(train_part), axis=1)
    if np.any(counts < 2):
        bad = traffic.cell_ids[counts < 2].tolist()
        raise DataError(f"cells {bad} have fewer than 2 observed {channel} values in the training period; "
                        "drop them or use a longer series")
    mean = np.nanmean(train_part, axis=1)
    std = np.nanstd(train_part, axis=1, ddof=1)  # FedDA: pandas std (ddof=1)
    flat = ~(std > 0)
    if np.any(flat):
        warnings.warn(f"cells {traffic.cell_ids[flat].tolist()} are constant in the training period; "
                      "using std 1", stacklevel=2)
        std = np.where(flat, 1.0, std)
    z = ((raw - mean[:, None]) / std[:, None]).astype(np.float32)

    ranges = {"train": (lookback, train_end), "val": (train_end, val_end), "test": (val_end, T)}
    splits: dict[str, Split] = {}
    for name in SPLITS:
        lo, hi = ranges[name]
        starts = np.arange(lo, hi - cfg.horizon + 1, dtype=np.int64)
        splits[name] = _cut(z, starts, cfg, P)
        if name != "val" and len(splits[name]) == 0:
            raise DataError(f"no complete {name} window (every candidate has a NaN in its inputs or target); "
                            f"{channel} has {int(np.isnan(raw).sum())} unobserved of {raw.size} values")
    if val_len and len(splits["val"]) == 0:
        raise DataError("no complete validation window (all contain NaN); set val_days=0 or fill gaps")
    return Windows(cfg=cfg, channel=channel, cell_ids=traffic.cell_ids.copy(), start_ms=traffic.start_ms,
                   step_ms=step, period_steps=P, mean=mean, std=std, series=z,
                   bounds=(train_end, val_end), splits=splits)


def _cut(z: np.ndarray, starts: np.ndarray, cfg: WindowConfig, P: int) -> Split:
    n_cells = z.shape[0]
    xcs, xps, ys, cells, sts = [], [], [], [], []
    tgt = np.arange(cfg.horizon)
    for c in range(n_cells):
        xc, xp = window_inputs(z[c], starts, cfg.closeness, cfg.period, P, cfg.horizon)
        y = z[c][starts[:, None] + tgt[None, :]]
        ok = ~(np.isnan(xc).any(1) | np.isnan(xp).any((1, 2)) | np.isnan(y).any(1))
        xcs.append(xc[ok])
        xps.append(xp[ok])
        ys.append(y[ok])
        cells.append(np.full(int(ok.sum()), c, dtype=np.int64))
        sts.append(starts[ok])
    return Split(
        xc=np.concatenate(xcs).astype(np.float32).reshape(-1, cfg.closeness),
        xp=np.concatenate(xps).astype(np.float32).reshape(-1, cfg.period, cfg.horizon),
        y=np.concatenate(ys).astype(np.float32).reshape(-1, cfg.horizon),
        cell=np.concatenate(cells),
        start=np.concatenate(sts).astype(np.int64),
    )
