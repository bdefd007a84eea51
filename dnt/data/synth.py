"""Synthetic Milan-like traffic: the project's embedded default data.

:func:`generate` draws all five channels (``sms_in, sms_out, call_in, call_out, internet``) for any set
of the 10,000 Milan squares, in 10-minute steps, for any number of days, from the aggregate constants in
``calibration.json`` (derived from the real subsets by :mod:`dnt.data.calibration`; no real per-square
data is shipped). Values are in the dataset's activity-index units, float32, ≥ 0.

Model, for square ``c``, step ``t`` (local day ``d``, day type ``τ``, time of day ``h``), channel ``k``::

    x = W_c · ratio_k(τ) · m_ck · level_c(d) · S_ckτ(h) · exp(σ ε_ckt − σ²/2) · B_ct

* ``W_c``: spatial mean level. A latent map (median radial decay from the centre square + a
  Gaussian random field with the calibrated nugget/short/long-range correlogram, scaled by the ring sd)
  is rank-mapped onto the calibrated quantiles of log(62-day total / mean), so the ordinary-week
  totals have the real heavy tail (busiest 10 % of squares ≈ 48 % of traffic); busy squares cluster
  around the centre and a few off-centre hotspots, and neighbours are correlated. Always drawn for the
  whole grid, so a subset of squares is the same realisation as the full grid.
* ``ratio_k(τ)``: channel volume over internet volume per day type; ``m_ck`` a smooth log-normal
  per-square channel mix (traffic-weighted mean 1, so grid-wide ratios are the calibrated ones).
* ``level_c(d)``: weekly factor of the weekday, × the holiday factor on public holidays (which take
  the Sunday shape), × the Christmas-period factors (16 Dec – 6 Jan), × on Saturdays, Sundays and
  holidays a smooth per-square weekend affinity (log-normal, slightly lower for busier squares).
* ``S_ckτ``: the day shape, ``P ** α_c`` normalised to mean 1, where ``P`` is the channel's 144-step
  profile for the day type (``weekday``, ``saturday``, ``sunday``) and, for internet, the mix
  ``(1-β_c)·P_centre + β_c·P_residential`` of the day-peaked centre shape and the evening-peaked
  residential shape. ``(α_c, β_c)`` are fitted per square to a night level (00:20–05:00) and an evening
  level (19:40–24:00) drawn from the calibrated distribution for the square's busyness class: most
  squares peak in the evening, the very busiest (the Duomo area) around midday with a deep night.
* ``ε``: unit AR(1) noise per square and channel with ``σ² = var_floor + var_count / expected``
  (quieter squares and channels are relatively noisier), capped at ``MAX_LOG_VAR``; values below half
  the index's smallest real activity (``min_positive``) become exact zeros, as in the real data.
* ``B_ct``: flash crowds: events at random squares (more likely where busy) lasting a few steps,
  multiplying all channels of a small disc of squares.

When ``n_cells < 10000`` and no ``cell_ids`` are given, the squares are a contiguous, centred block: the
``n_cells`` squares nearest ``centre_cell`` (default 5161, by the Duomo) inside the smallest
``⌈√n⌉ × ⌈√n⌉`` square window around it (shifted to stay on the grid): 400 cells are exactly the
20 × 20 block around the Duomo, with the real city's spatial structure.

Deterministic for a seed: each square's noise comes from its own stream (``seed``, square id), the maps
and events from streams of ``seed`` alone, so ``generate`` on a subset equals the same rows of the full
grid, and the same config always gives identical arrays.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from dnt.data.frame import CHANNELS, MILAN_TZ, STEP_10MIN_MS, Traffic, local_calendar
from dnt.data.grid import N_CELLS, N_COLS, N_ROWS, cell_to_rc
from dnt.errors import ConfigError, DataError

__all__ = [
    "ITALIAN_HOLIDAYS",
    "MAX_LOG_VAR",
    "SynthConfig",
    "block_cells",
    "day_calendar",
    "generate",
    "load_calibration",
    "spatial_fields",
]

ITALIAN_HOLIDAYS: tuple[tuple[int, int], ...] = (
    (1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26))
"""Italian national public holidays as (month, day); Easter Monday is added by ``easter_monday``."""
MAX_LOG_VAR = 1.0
"""Cap on the per-step log-noise variance (near-empty channels would otherwise explode)."""
_STEPS = 144
_ELEMENTS_PER_CHUNK = 6_000_000  # float32 working set per chunk ≈ 24 MB per array
_FFT = 256


@dataclass(frozen=True)
class SynthConfig:
    """Settings of :func:`generate`."""

    n_cells: int = N_CELLS
    """Number of squares, 1..10000; fewer than 10000 gives the centred block around ``centre_cell``."""
    cell_ids: tuple[int, ...] | None = None
    """Explicit square ids (1..10000, no duplicates); overrides ``n_cells``. Output rows are sorted."""
    days: int = 7
    """Number of days (≥ 1), each 144 ten-minute steps."""
    start_date: str = "2013-11-01"
    """First local (Europe/Rome) date, ISO ``YYYY-MM-DD``; data start at its local midnight
    (2013-11-01 → 2013-10-31T23:00Z, as the real data)."""
    seed: int = 0
    """Random seed (≥ 0): same seed, identical arrays; different seeds, different arrays."""
    step_minutes: int = 10
    """Output step: 10, 20, 30 or 60 minutes (coarser steps sum the 10-minute values)."""
    centre_cell: int = 5161
    """Square the block is centred on and the radial decay is measured from (5161 is by the Duomo)."""
    holidays: tuple[tuple[int, int], ...] = ITALIAN_HOLIDAYS
    """Public holidays as (month, day), every year: Sunday profile, holiday level."""
    easter_monday: bool = True
    """Also treat Easter Monday (computed per year) as a public holiday."""
    christmas_effect: bool = True
    """Apply the calibrated Christmas-period levels (16 Dec – 6 Jan)."""
    noise_scale: float = 1.0
    """Multiplier (≥ 0) on the calibrated log-noise sd; 0 gives the noiseless expected traffic."""
    burst_rate_scale: float = 1.0
    """Multiplier (≥ 0) on the calibrated flash-crowd rate; 0 disables bursts."""
    heterogeneity: bool = True
    """Per-square variation of channel mix, weekend affinity and diurnal contrast (False: all squares share
    the mean shapes and differ only by level)."""
    calibration_path: str | None = None
    """Alternative ``calibration.json``; None uses the packaged one."""

    def __post_init__(self) -> None:
        if self.cell_ids is None:
            if isinstance(self.n_cells, bool) or not isinstance(self.n_cells, int) or \
                    not 1 <= self.n_cells <= N_CELLS:
                raise ConfigError(f"n_cells must be an integer in 1..{N_CELLS}, got {self.n_cells!r}")
        else:
            ids = np.asarray(self.cell_ids)
            if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
                raise ConfigError("cell_ids must be a non-empty sequence of integers")
            if ids.min() < 1 or ids.max() > N_CELLS:
                raise ConfigError(f"cell_ids must be in 1..{N_CELLS}, got {int(ids.min())}..{int(ids.max())}")
            if np.unique(ids).size != ids.size:
                raise ConfigError("cell_ids has duplicates")
            object.__setattr__(self, "cell_ids", tuple(int(i) for i in ids))
        if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 1:
            raise ConfigError(f"days must be an integer ≥ 1, got {self.days!r}")
        try:
            dt.date.fromisoformat(self.start_date)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"start_date must be an ISO date YYYY-MM-DD, got {self.start_date!r}") from err
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer ≥ 0, got {self.seed!r}")
        if self.step_minutes not in (10, 20, 30, 60):
            raise ConfigError(f"step_minutes must be 10, 20, 30 or 60, got {self.step_minutes!r}")
        if not 1 <= self.centre_cell <= N_CELLS:
            raise ConfigError(f"centre_cell must be in 1..{N_CELLS}, got {self.centre_cell}")
        for item in self.holidays:
            try:
                m, d = item
                dt.date(2000, m, d)  # a leap year accepts 29 Feb
            except (TypeError, ValueError) as err:
                raise ConfigError(f"holiday {item!r} is not a (month, day) date") from err
        for name in ("noise_scale", "burst_rate_scale"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be finite and ≥ 0, got {value!r}")

    @property
    def start_ms(self) -> int:
        """Local midnight of ``start_date`` in ms since the epoch (UTC)."""
        day = dt.date.fromisoformat(self.start_date)
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=MILAN_TZ).timestamp() * 1000)

    @property
    def n_steps(self) -> int:
        """Number of 10-minute steps generated (before any coarser ``step_minutes``)."""
        return self.days * _STEPS

    def resolved_cell_ids(self) -> np.ndarray:
        """Sorted square ids this config generates."""
        if self.cell_ids is not None:
            return np.sort(np.asarray(self.cell_ids, dtype=np.int64))
        return block_cells(self.n_cells, self.centre_cell)


def block_cells(n_cells: int, centre_cell: int = 5161) -> np.ndarray:
    """The ``n_cells`` squares nearest ``centre_cell`` within a ``⌈√n⌉``-sided window around it, sorted."""
    if not 1 <= n_cells <= N_CELLS:
        raise ConfigError(f"n_cells must be in 1..{N_CELLS}, got {n_cells}")
    side = int(np.ceil(np.sqrt(n_cells)))
    (r0,), (c0,) = cell_to_rc(centre_cell)
    top = int(np.clip(r0 - side // 2, 0, N_ROWS - side))
    left = int(np.clip(c0 - side // 2, 0, N_COLS - side))
    rr, cc = np.meshgrid(np.arange(top, top + side), np.arange(left, left + side), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    ids = rr * N_COLS + cc + 1
    order = np.lexsort((ids, np.hypot(rr - r0, cc - c0)))
    return np.sort(ids[order[:n_cells]]).astype(np.int64)


@functools.lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> dict[str, Any]:
    """The calibration constants (the packaged ``calibration.json`` when ``path`` is None).

    Cached and shared between callers: treat the returned dict as read-only.
    """
    try:
        if path is None:
            text = resources.files("dnt.data").joinpath("calibration.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        cal: dict[str, Any] = json.loads(text)
        for key in ("profiles", "weekly_factors", "holidays", "channel_ratio", "channel_ratio_log_sd",
                    "cell", "spatial", "noise", "bursts"):
            cal[key]  # noqa: B018 - presence check
        types = ("weekday", "saturday", "sunday")
        if any(len(cal["profiles"][c][t]) != _STEPS for c in CHANNELS for t in types):
            raise ValueError("profiles must have 144 values per channel and day type")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"not a usable calibration file ({err!r})", path=path) from err
    return cal


def _grf(rng: np.random.Generator, parts: list[tuple[float, float]]) -> np.ndarray:
    """(100, 100) unit-variance Gaussian field: Σ weight·exp(-h/range) correlation + white nugget."""
    k = np.minimum(np.arange(_FFT), _FFT - np.arange(_FFT))
    h = np.hypot(k[:, None], k[None, :])
    cov = sum(w * np.exp(-h / max(r, 1e-6)) for w, r in parts)
    spec = np.sqrt(np.maximum(np.fft.fft2(cov).real, 0.0))
    white = rng.standard_normal((_FFT, _FFT))
    field = np.fft.ifft2(spec * np.fft.fft2(white)).real[:N_ROWS, :N_COLS]
    nugget = max(0.0, 1.0 - sum(w for w, _ in parts))
    field = field + np.sqrt(nugget) * rng.standard_normal((N_ROWS, N_COLS))
    return (field - field.mean()) / field.std()


def _dist_km(centre_cell: int) -> np.ndarray:
    r, c = cell_to_rc(np.arange(1, N_CELLS + 1))
    (r0,), (c0,) = cell_to_rc(centre_cell)
    return np.hypot(r - r0, c - c0) * 0.235


def spatial_fields(seed: int, centre_cell: int = 5161,
                   calibration: str | None = None) -> dict[str, np.ndarray]:
    """Per-square maps for the whole grid (index = square id − 1), from the seed alone.

    Returns ``level`` (mean internet per 10-minute step, ordinary week), ``weekend`` (weekend
    affinity), ``mix`` (4, 10000) channel-mix multipliers of the non-internet channels, and the log
    targets of the weekday internet profile's night (00:20–05:00) and evening (19:40–24:00) levels:
    ``night``/``evening`` (median for the square's busyness) plus ``night_random``/``evening_random``.
    """
    cal = load_calibration(calibration)
    sp, cell = cal["spatial"], cal["cell"]
    rng = np.random.default_rng([seed, 1])
    d = _dist_km(centre_cell)
    z = _grf(rng, [(sp["corr_short_weight"], sp["corr_short_cells"]),
                   (sp["corr_long_weight"], sp["corr_long_cells"])]).ravel()
    latent = np.interp(d, sp["radial_km"], sp["radial_median"]) + \
        np.interp(d, sp["radial_km"], sp["radial_sd"]) * z
    inv = NormalDist().inv_cdf
    zp = np.array([inv(p) for p in sp["log_quantile_p"]])
    q = np.asarray(sp["log_quantiles"], dtype=np.float64)

    def quantile_map(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # ranks of ``score`` → the calibrated quantiles of log(total/mean), tails extended linearly
        u = (np.argsort(np.argsort(score, kind="stable"), kind="stable") + 0.5) / N_CELLS
        zu = np.array([inv(x) for x in u])
        out = np.interp(zu, zp, q)
        lo, hi = zu < zp[0], zu > zp[-1]
        out[lo] = q[0] + (zu[lo] - zp[0]) * (q[1] - q[0]) / (zp[1] - zp[0])
        out[hi] = q[-1] + (zu[hi] - zp[-1]) * (q[-1] - q[-2]) / (zp[-1] - zp[-2])
        return np.exp(out), u

    w0, _ = quantile_map(latent)
    smooth = [(1.0, cell["smooth_cells"])]

    def unit_mean(log_sd: float, weight: np.ndarray, slope: float = 0.0) -> np.ndarray:
        # smooth log-normal trait (log-linear in the square's log level) with traffic-weighted mean 1
        trait = np.exp(log_sd * _grf(rng, smooth).ravel() + slope * np.log(weight))
        return trait * (weight.sum() / (weight * trait).sum())

    weekend = unit_mean(cell["weekend_log_sd"], w0, cell["weekend_log_slope"])
    weekly = np.asarray(cal["weekly_factors"])
    share = weekly[5:].sum() / weekly.sum()
    week = (1 - share) + share * weekend  # a square's ordinary-week volume relative to its weekday level
    total, u = quantile_map(np.log(w0 * week))  # the week totals, not the weekday level, get the real tail
    level = total / week
    level *= sp["mean_per_step"] / level.mean()
    mix = np.array([unit_mean(cal["channel_ratio_log_sd"][ch], level) for ch in CHANNELS[:-1]])
    edges = np.asarray(cell["level_bins"])
    bin_of = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, edges.size - 2)
    z_night = _grf(rng, smooth).ravel()
    rho = cell["night_evening_corr"]
    z_evening = rho * z_night + np.sqrt(1 - rho * rho) * _grf(rng, smooth).ravel()
    traits = {}
    for name, z in (("night", z_night), ("evening", z_evening)):
        traits[name] = np.asarray(cell[f"{name}_log_median"])[bin_of]
        traits[name + "_random"] = np.asarray(cell[f"{name}_log_sd"])[bin_of] * z
    return {"level": level, "weekend": weekend, "mix": mix, **traits}


def _easter(year: int) -> dt.date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    return dt.date(year, month, (h + m - 7 * n + 114) % 31 + 1)


def _christmas_key(date: dt.date) -> str | None:
    m, d = date.month, date.day
    if m == 12 and 16 <= d <= 23:
        return "run_up"
    if m == 12 and d in (24, 25, 26, 31):
        return f"dec{d}"
    if (m == 12 and 27 <= d <= 30) or (m == 1 and 2 <= d <= 5):
        return "between"
    if m == 1 and d in (1, 6):
        return "jan1"
    return None


def day_calendar(cfg: SynthConfig, dates: list[dt.date]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per local date: day type (0 weekday, 1 Saturday, 2 Sunday/holiday), level factor, weekend flag."""
    cal = load_calibration(cfg.calibration_path)
    weekly, hol = cal["weekly_factors"], cal["holidays"]
    fixed = set(cfg.holidays)
    dtype, level, weekend = [], [], []
    for date in dates:
        is_hol = (date.month, date.day) in fixed or (
            cfg.easter_monday and date == _easter(date.year) + dt.timedelta(days=1))
        wd = date.weekday()
        kind = 2 if (is_hol or wd == 6) else (1 if wd == 5 else 0)
        key = _christmas_key(date) if cfg.christmas_effect else None
        if key is not None:
            f = weekly[wd] * hol["christmas"][key]
        elif is_hol and wd != 6:
            f = weekly[6] * hol["holiday_factor"]
        else:
            f = weekly[wd]
        dtype.append(kind)
        level.append(f)
        weekend.append(kind != 0 and key is None)
    return np.array(dtype), np.array(level), np.array(weekend)


def _shape_params(centre: np.ndarray, residential: np.ndarray, windows: tuple[slice, slice],
                  targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per square (α, β): ``((1-β)·centre + β·residential) ** α`` (normalised) best meets the log targets.

    ``targets`` is (C, 2): log mean level of the normalised weekday profile in the night and evening
    ``windows``. Returns α (C,) and β (C,), chosen on a 57 × 21 grid.
    """
    alphas = np.linspace(0.2, 3.0, 57)
    betas = np.linspace(0.0, 1.0, 21)
    mixed = np.log((1 - betas[:, None]) * centre[None] + betas[:, None] * residential[None])  # (B, 144)
    powered = np.exp(alphas[:, None, None] * mixed[None])  # (A, B, 144)
    powered /= powered.mean(axis=-1, keepdims=True)
    g = np.stack([np.log(powered[..., w].mean(axis=-1)).ravel() for w in windows], axis=1)  # (A·B, 2)
    best = np.empty(targets.shape[0], dtype=np.int64)
    for lo in range(0, targets.shape[0], 1024):
        diff = targets[lo:lo + 1024, None, :] - g[None]
        best[lo:lo + 1024] = np.argmin((diff * diff).sum(axis=-1), axis=1)
    return alphas[best // betas.size], betas[best % betas.size]


def _ar1(e: np.ndarray, phi: float, block: int = 64) -> np.ndarray:
    """Unit-variance AR(1) along the last axis of (N, T) standard-normal innovations ``e``."""
    n, t = e.shape
    nb = -(-t // block)
    ep = np.zeros((n, nb * block), dtype=np.float32)
    ep[:, :t] = e
    i = np.arange(block)
    lag = i[:, None] - i[None, :]
    lmat = np.where(lag >= 0, phi ** np.maximum(lag, 0), 0.0).astype(np.float32)
    y = (ep.reshape(n * nb, block) @ (lmat.T * np.float32(np.sqrt(1 - phi * phi)))).reshape(n, nb, block)
    carry = (phi ** (i + 1)).astype(np.float32)
    prev = e[:, 0].astype(np.float32)  # stationary start: a N(0, 1) value before step 0
    for b in range(nb):
        y[:, b] += prev[:, None] * carry
        prev = y[:, b, -1]
    return y.reshape(n, -1)[:, :t]


def _bursts(cfg: SynthConfig, cal: dict[str, Any], level: np.ndarray, n_steps: int) -> list[tuple[Any, ...]]:
    """Flash-crowd events: (cells (m,), multipliers (m,), start step, stop step)."""
    b = cal["bursts"]
    rng = np.random.default_rng([cfg.seed, 3])
    radius_p = np.array([0.5, 0.35, 0.15])
    footprint = float((radius_p * np.array([1, 9, 25])).sum())
    lam = b["rate_per_cell_day"] * cfg.burst_rate_scale * N_CELLS * cfg.days / footprint
    n = int(rng.poisson(lam)) if lam > 0 else 0
    p = np.sqrt(level)
    centres = rng.choice(N_CELLS, size=n, p=p / p.sum()) + 1
    radii = rng.choice(3, size=n, p=radius_p)
    starts = rng.integers(0, n_steps, size=n)
    lengths = 2 + rng.geometric(1.0 / max(b["mean_steps"] - 1.0, 1.0), size=n) - 1
    amps = rng.normal(b["log_amplitude"], 0.35, size=n)
    events = []
    for centre, radius, start, length, amp in zip(centres, radii, starts, lengths, amps, strict=True):
        (r0,), (c0,) = cell_to_rc(int(centre))
        rows = np.arange(max(r0 - radius, 0), min(r0 + radius, N_ROWS - 1) + 1)
        cols = np.arange(max(c0 - radius, 0), min(c0 + radius, N_COLS - 1) + 1)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        dist = np.maximum(np.abs(rr - r0), np.abs(cc - c0)).ravel()
        mult = np.exp(max(amp, 0.0) * np.exp(-dist / 1.0))
        events.append(((rr * N_COLS + cc + 1).ravel(), mult.astype(np.float32), int(start),
                       int(min(start + length, n_steps))))
    return events


def generate(cfg: SynthConfig | None = None, progress: Callable[[int, int], None] | None = None) -> Traffic:
    """Draw synthetic Milan traffic for ``cfg`` (see the module docstring for the model).

    Parameters
    ----------
    cfg : the settings (default :class:`SynthConfig()`: full grid, 7 days from 1 Nov 2013).
    progress : optional ``progress(done_cells, total_cells)`` called after each chunk of squares.

    Returns
    -------
    Traffic
        ``(C, days·144·10/step_minutes, 5)`` float32, all channels, values ≥ 0, rows = sorted square ids.
    """
    cfg = cfg or SynthConfig()
    cal = load_calibration(cfg.calibration_path)
    ids = cfg.resolved_cell_ids()
    n_steps = cfg.n_steps
    times = cfg.start_ms + STEP_10MIN_MS * np.arange(n_steps, dtype=np.int64)
    hour, _, day = local_calendar(times)
    uniq, day_idx = np.unique(day, return_inverse=True)
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(x)) for x in uniq]
    dtype, day_level, weekend = day_calendar(cfg, dates)
    tod = np.minimum((hour * 6 + 1e-6).astype(np.int64), _STEPS - 1)
    step_type = dtype[day_idx]

    fields = spatial_fields(cfg.seed, cfg.centre_cell, cfg.calibration_path)
    rows = ids - 1
    types = ("weekday", "saturday", "sunday")
    logp = np.log(np.array([[cal["profiles"][ch][t] for t in types] for ch in CHANNELS]))  # (K, 3, 144)
    ratio = np.array([[1.0 if ch == "internet" else cal["channel_ratio"][ch][t] for t in types]
                      for ch in CHANNELS])  # (K, 3)
    windows = (slice(*cal["cell"]["night_steps"]), slice(*cal["cell"]["evening_steps"]))
    targets = np.stack([fields["night"][rows], fields["evening"][rows]], axis=1)
    if cfg.heterogeneity:
        targets += np.stack([fields["night_random"][rows], fields["evening_random"][rows]], axis=1)
        mix = np.vstack([fields["mix"][:, rows], np.ones((1, rows.size))])  # (K, C)
        wk = fields["weekend"][rows]
    else:
        mix = np.ones((len(CHANNELS), rows.size))
        wk = np.ones(rows.size)
    resid = np.array([cal["internet_residential"][t] for t in types])  # (3, 144)
    alpha, beta = _shape_params(np.exp(logp[-1, 0]), resid[0], windows, targets)
    noise = cal["noise"]
    scale2 = cfg.noise_scale ** 2
    events = _bursts(cfg, cal, fields["level"], n_steps) if cfg.burst_rate_scale > 0 else []
    factor = cfg.step_minutes // 10
    n_out = n_steps // factor
    out = np.empty((ids.size, n_out, len(CHANNELS)), dtype=np.float32)
    per_cell = len(CHANNELS) * (n_steps + len(types) * _STEPS)  # values + day shapes
    chunk = max(1, min(ids.size, _ELEMENTS_PER_CHUNK // per_cell))
    for lo in range(0, ids.size, chunk):
        hi = min(lo + chunk, ids.size)
        lp = np.broadcast_to(logp.astype(np.float32), (hi - lo, *logp.shape)).copy()  # (c, K, 3, 144)
        b = beta[lo:hi, None, None]
        lp[:, -1] = np.log((1 - b) * np.exp(logp[-1])[None] + b * resid[None])
        prof = np.exp(alpha[lo:hi, None, None, None].astype(np.float32) * lp)
        prof /= prof.mean(axis=-1, keepdims=True)
        base = fields["level"][rows[lo:hi]]
        dl = day_level[None, :] * np.where(weekend[None, :], wk[lo:hi, None], 1.0)  # (c, D)
        vals = np.empty((hi - lo, len(CHANNELS), n_steps), dtype=np.float32)
        for k in range(len(CHANNELS)):
            expct = (base[:, None] * mix[k, lo:hi, None] * ratio[k][step_type][None, :] * dl[:, day_idx]
                     * prof[:, k][:, step_type, tod]).astype(np.float32)
            vals[:, k] = expct
        if cfg.noise_scale > 0:
            eps = np.stack([np.random.default_rng([cfg.seed, 2, int(c)]).standard_normal(
                (len(CHANNELS), n_steps), dtype=np.float32) for c in ids[lo:hi]])
            z = _ar1(eps.reshape(-1, n_steps), noise["ar1"]).reshape(vals.shape)
            var = np.minimum(scale2 * (noise["var_floor"] + noise["var_count"] / np.maximum(vals, 1e-6)),
                             MAX_LOG_VAR).astype(np.float32)
            vals *= np.exp(np.sqrt(var) * z - var / 2)
        vals[vals < np.float32(noise["min_positive"] / 2)] = 0.0  # below the index's quantum: no activity
        for cells, mult, s0, s1 in events:
            hit = np.searchsorted(ids, cells)
            ok = (hit < ids.size) & (ids[np.minimum(hit, ids.size - 1)] == cells)
            ok &= (hit >= lo) & (hit < hi)
            if ok.any():
                vals[hit[ok] - lo, :, s0:s1] *= mult[ok][:, None, None]
        block = np.moveaxis(vals, 1, 2)  # (c, T, K)
        if factor > 1:
            block = block.reshape(hi - lo, n_out, factor, len(CHANNELS)).sum(axis=2)
        out[lo:hi] = block
        if progress is not None:
            progress(hi, ids.size)
    return Traffic(ids, cfg.start_ms, cfg.step_minutes * 60_000, out, CHANNELS)
