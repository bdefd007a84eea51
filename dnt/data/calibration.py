"""Derive the synthetic generator's calibration constants from the real Milan subsets.

``python -m dnt.data.calibration --shared ../shared --out dnt/data/calibration.json`` reads the files of
``<shared>/data/milan/`` (see its README) and writes **only aggregate constants**: no per-square map and no
real time series leaves this module. :mod:`dnt.data.synth` reads the JSON (packaged with ``dnt``), so the
generator runs without ``../shared``. Local time is Europe/Rome (UTC+1 for the whole 2013-11/12 period).

Constants and their derivation (``dnt/data/README.md`` lists them with their values):

``profiles[channel][day_type]`` (144 values, mean 1, local 00:00 first)
    Normalised mean daily shape; ``day_type`` is ``weekday`` (Mon–Fri), ``saturday`` or ``sunday``
    (Sundays and public holidays). *internet* (the "centre" shape): each local day of each of the three
    62-day cells (``internet_3cells_10min_62days``, all in the busiest 5 % of squares) divided by its own
    mean, averaged over the cells and the days of the type before the Christmas period (20 Dec), then
    low-passed (daily harmonics ≤ ``INTERNET_HARMONICS``). *sms/call*: ``multichannel_cells_1_10_100``,
    cells 1 and 10 (complete days) — Monday 4 Nov for ``weekday``, the holiday Friday 1 Nov for
    ``sunday`` — low-passed harder (harmonics ≤ ``CHANNEL_HARMONICS``); Saturday, never observed for
    these channels, is the normalised geometric mean of the two.
``internet_residential[day_type]``
    The internet shape of the same two multichannel cells and days (peaks in the evening, shallow night):
    the second basis shape of the generator's per-square internet profile.
``weekly_factors`` (7, Mon first)
    Daily volume of each weekday relative to the mean day: geometric mean over the three 62-day cells of
    their volume relative to their own mean, ordinary weeks 4 Nov – 15 Dec (the holiday 8 Dec left out).
``holidays``
    ``holiday_factor``: the holiday Friday 1 Nov relative to an ordinary Sunday (a holiday takes the
    Sunday shape and level times this). ``christmas``: daily volume relative to the ordinary day of the
    same weekday (per-cell geometric mean) for the run-up 16–23 Dec, 24, 25 and 26 Dec, the days between
    (27–30 Dec), 31 Dec and 1 Jan. The data end on 1 Jan: the generator assumes 2–5 Jan are like 27–30
    Dec and 6 Jan (Epiphany) like 1 Jan.
``channel_ratio[channel][day_type]``, ``channel_ratio_log_sd``
    Daily volume of the channel over the internet volume of the same cells and intervals (cells 1, 10
    and 100, observed intervals only): weekday = 4 Nov, sunday = 1 Nov, saturday = their geometric mean.
    The log sd is the sample sd (ddof 1) of the per-cell log ratios, mean of the two days: the spread of
    the per-square channel mix.
``cell``: per-square heterogeneity, from the full-grid windows (``internet_fullgrid_10min_3windows``)
    ``night_*``/``evening_*``: for each square, the mean of the Monday-night window W2 (00:20–05:00,
    18 Nov) and of the Monday part of the evening window W3 (19:40–24:00, 16 Dec), over the square's
    expected mean step that day (62-day mean × ordinary/62-day ratio × Monday factor, × the run-up
    factor for 16 Dec): the profile values the generator must reproduce. Log median and log sd of each
    per busyness class (``level_bins``: quantiles of the 62-day total) and the correlation of the two
    residuals. ``weekend_log_slope``/``weekend_log_sd``: regression of log(Sunday-night W1 / Monday-night
    W2, same hours) on log total over the busier half of the grid, residual sd minus the part the
    calibrated noise explains. ``smooth_cells``: correlation range (squares) of the per-square traits,
    -1/ln ρ₁ of the mean lag-1 correlation of the night and evening residual maps.
``spatial``
    ``mean_per_step``: mean internet activity per square and 10 minutes in the ordinary weeks (grid mean
    of ``square_totals_2mo`` / (62 × 144) × the 3-cell ordinary/62-day volume ratio).
    ``radial_km``/``radial_median``/``radial_sd``: median and sd of log(total/mean) in 1-km rings around
    ``centre_cell`` (5161, by the Duomo: the busiest square). ``corr_*``: nugget + two exponentials fitted
    (grid search, least squares) to the correlogram of the ring-standardised residual map at lags 1–24
    squares: the long-range part makes the off-centre hotspots, the short-range part local clustering.
    ``log_quantile_p``/``log_quantiles``: 49 quantiles of log(total/mean), the heavy tail the generator
    maps its latent map onto. ``lognormal_sigma`` and ``top_shares`` (share of the busiest 1/5/10/20/50 %
    of squares) are documentation and test targets.
``noise``
    Log-normal AR(1) noise per 10-minute step with ``var = var_floor + var_count / level`` (``level`` =
    expected activity of that square, step and channel): least-squares fit, over squares with level
    > 0.5, of the variance of 10-minute log differences in the night windows W1 and W2 against 1/level,
    divided by 2(1-φ); ``ar1`` φ: lag-1 autocorrelation of the 3-cell log residuals (each cell's own
    day-type profile and daily level removed). ``min_positive``: the smallest positive sms/call value of
    the multichannel subset (the index's quantum, 0.0018): the generator sets values below half of it to
    0, so near-empty channels (calls at night) have exact zeros as the real data do.
``bursts``
    Flash crowds: runs of ≥ 2 steps where the 3-cell residual minus its 70-minute running mean exceeds
    ``BURST_Z`` robust sds: rate per square-day (``detected`` events in 186 cell-days), median log
    amplitude and mean duration in steps. The generator spreads each event over a small disc of squares.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from dnt.data.converted import read_converted
from dnt.data.frame import CHANNELS, STEP_10MIN_MS, Traffic, local_calendar
from dnt.data.grid import N_CELLS, cell_to_rc
from dnt.errors import DataError

__all__ = [
    "STEPS_PER_DAY",
    "DAY_TYPES",
    "CENTRE_CELL",
    "day_type",
    "lowpass",
    "internet_profiles",
    "calendar_factors",
    "channel_constants",
    "spatial_constants",
    "cell_constants",
    "noise_constants",
    "burst_constants",
    "derive",
    "main",
]

STEPS_PER_DAY = 144
DAY_TYPES: tuple[str, ...] = ("weekday", "saturday", "sunday")
CENTRE_CELL = 5161
INTERNET_HARMONICS = 36
CHANNEL_HARMONICS = 8
BURST_Z = 4.0
ORDINARY_WEEKS = (dt.date(2013, 11, 4), dt.date(2013, 12, 15))
CHRISTMAS_START = dt.date(2013, 12, 20)
SUNDAY_NIGHT_MS = 1383433200000 + 2 * STEP_10MIN_MS  # Sun 3 Nov 2013 00:20 local, in window W1
NIGHT_WINDOW_MS = 1384730400000  # Mon 18 Nov 2013 00:20 local, full-grid window W2
NIGHT_STEPS = (2, 30)  # its local steps of the day: 00:20 .. 05:00 (exclusive)
EVENING_WINDOW_MS = 1387219200000  # Mon 16 Dec 2013 19:40 local, full-grid window W3 (its Monday part)
EVENING_STEPS = (118, 144)  # 19:40 .. 24:00
TRAIT_LEVEL_BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)  # quantiles of the 62-day total
CALIBRATION_HOLIDAYS = (dt.date(2013, 11, 1), dt.date(2013, 12, 8))
FILES = {
    "internet3": "internet_3cells_10min_62days.csv.gz",
    "multi": "multichannel_cells_1_10_100_10min.csv",
    "totals": "square_totals_2mo.csv",
    "fullgrid": "internet_fullgrid_10min_3windows.csv.gz",
}
QUANTILE_P = np.concatenate([[0.0005, 0.001, 0.0025, 0.005], np.linspace(0.01, 0.99, 41),
                             [0.995, 0.9975, 0.999, 0.9995]])


def day_type(date: dt.date, holidays: tuple[dt.date, ...] = CALIBRATION_HOLIDAYS) -> int:
    """Index into :data:`DAY_TYPES`: 0 weekday, 1 Saturday, 2 Sunday or public holiday."""
    if date in holidays or date.weekday() == 6:
        return 2
    return 1 if date.weekday() == 5 else 0


def lowpass(profile: np.ndarray, harmonics: int) -> np.ndarray:
    """Keep the first ``harmonics`` daily Fourier harmonics of a periodic (…, 144) profile."""
    spec = np.fft.rfft(profile, axis=-1)
    spec[..., harmonics + 1:] = 0
    return np.fft.irfft(spec, n=profile.shape[-1], axis=-1)


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.maximum(p, 1e-3 * p.mean())
    return p / p.mean()


def _local_days(tr: Traffic) -> tuple[np.ndarray, list[dt.date]]:
    """Per step the local-day index and the list of local dates (each day must be complete)."""
    _, _, day = local_calendar(tr.times_ms)
    days = np.unique(day)
    if tr.step_ms != STEP_10MIN_MS:
        raise DataError(f"expected 10-minute data, got step {tr.step_ms} ms")
    return day - days[0], [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in days]


def _daily_matrix(tr: Traffic, series: np.ndarray) -> tuple[np.ndarray, list[dt.date]]:
    """(D, 144) reshape of a series starting at local midnight."""
    di, dates = _local_days(tr)
    if series.shape[-1] != len(dates) * STEPS_PER_DAY or di[0] != 0:
        raise DataError("series must cover whole local days starting at midnight")
    return series.reshape(*series.shape[:-1], len(dates), STEPS_PER_DAY), dates


def internet_profiles(tr: Traffic) -> dict[str, list[float]]:
    """Internet profile per day type from the 3-cell 62-day series (see module docstring)."""
    daily, dates = _daily_matrix(tr, tr.channel("internet").astype(np.float64))  # (3, D, 144)
    out = {}
    for k, name in enumerate(DAY_TYPES):
        sel = [i for i, d in enumerate(dates) if d < CHRISTMAS_START and day_type(d) == k]
        shapes = daily[:, sel] / daily[:, sel].mean(axis=2, keepdims=True)
        out[name] = _normalise(lowpass(shapes.mean(axis=(0, 1)), INTERNET_HARMONICS))
    return {k: [round(float(x), 5) for x in v] for k, v in out.items()}


def calendar_factors(tr: Traffic) -> dict[str, Any]:
    """Weekly factors, holiday factor and Christmas-period factors (per-cell geometric means)."""
    daily, dates = _daily_matrix(tr, tr.channel("internet").astype(np.float64))
    vol = daily.sum(axis=2)  # (3, D)
    ordinary = [i for i, d in enumerate(dates)
                if ORDINARY_WEEKS[0] <= d <= ORDINARY_WEEKS[1] and d not in CALIBRATION_HOLIDAYS]
    lvol = np.log(vol / vol[:, ordinary].mean(axis=1, keepdims=True))
    by_wd = np.array([lvol[:, [i for i in ordinary if dates[i].weekday() == w]].mean() for w in range(7)])
    weekly = np.exp(by_wd - np.log(np.exp(by_wd).mean()))

    def rel(*days: dt.date) -> float:
        vals = [lvol[:, dates.index(d)].mean() - by_wd[d.weekday()] for d in days]
        return round(float(np.exp(np.mean(vals))), 4)

    d = dt.date
    christmas = {
        "run_up": rel(*(d(2013, 12, k) for k in range(16, 24))),
        "dec24": rel(d(2013, 12, 24)),
        "dec25": rel(d(2013, 12, 25)),
        "dec26": rel(d(2013, 12, 26)),
        "between": rel(*(d(2013, 12, k) for k in range(27, 31))),
        "dec31": rel(d(2013, 12, 31)),
        "jan1": rel(d(2014, 1, 1)),
    }
    holiday = float(np.exp(lvol[:, dates.index(d(2013, 11, 1))].mean() - by_wd[6]))
    total = daily.sum(axis=(0, 2))
    return {"weekly_factors": [round(float(x), 4) for x in weekly],
            "holidays": {"holiday_factor": round(holiday, 4), "christmas": christmas},
            "ordinary_over_all": float(total[ordinary].mean() / total.mean())}


def channel_constants(mc: Traffic) -> dict[str, Any]:
    """Channel profiles (sms/call), channel ratios and their per-cell spread (multichannel subset)."""
    _, _, day = local_calendar(mc.times_ms)
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(x)) for x in day]
    picks = {"weekday": dt.date(2013, 11, 4), "sunday": dt.date(2013, 11, 1)}
    profiles: dict[str, dict[str, np.ndarray]] = {c: {} for c in CHANNELS}
    ratio: dict[str, dict[str, float]] = {c: {} for c in CHANNELS[:-1]}
    log_sd: dict[str, list[float]] = {c: [] for c in CHANNELS[:-1]}
    complete = [mc.row(1), mc.row(10)]
    for dtype, date in picks.items():
        steps = np.array([x == date for x in dates])
        vals = mc.values[:, steps].astype(np.float64)  # (C, 144, K)
        if vals.shape[1] != STEPS_PER_DAY:
            raise DataError(f"multichannel day {date} is not a whole local day")
        obs = ~np.isnan(vals[..., 0])
        inet = np.where(obs, vals[..., -1], 0.0)
        for k, ch in enumerate(CHANNELS):
            if ch != "internet":
                v = np.where(obs, vals[..., k], 0.0)
                ratio[ch][dtype] = float(v.sum() / inet.sum())
                log_sd[ch].append(float(np.std(np.log(v.sum(1) / inet.sum(1)), ddof=1)))
            shape = vals[complete, :, k].sum(axis=0)
            profiles[ch][dtype] = _normalise(lowpass(shape / shape.mean(), CHANNEL_HARMONICS))
    out_p: dict[str, dict[str, list[float]]] = {}
    out_r: dict[str, dict[str, float]] = {}
    for ch in profiles:
        sat = np.sqrt(profiles[ch]["weekday"] * profiles[ch]["sunday"])
        profiles[ch]["saturday"] = _normalise(sat)
        out_p[ch] = {t: [round(float(x), 5) for x in profiles[ch][t]] for t in DAY_TYPES}
        if ch != "internet":
            ratio[ch]["saturday"] = float(np.sqrt(ratio[ch]["weekday"] * ratio[ch]["sunday"]))
            out_r[ch] = {t: round(ratio[ch][t], 5) for t in DAY_TYPES}
    return {"profiles": out_p, "channel_ratio": out_r,
            "channel_ratio_log_sd": {c: round(float(np.mean(s)), 4) for c, s in log_sd.items()}}


def _read_totals(path: Path) -> np.ndarray:
    """(10000,) 62-day internet totals ordered by square id."""
    try:
        raw = np.loadtxt(path, delimiter=",", skiprows=1)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read square totals ({err})", path=str(path)) from err
    if raw.shape != (N_CELLS, 2):
        raise DataError(f"expected {N_CELLS} rows of square_id,internet, got {raw.shape}", path=str(path))
    return raw[np.argsort(raw[:, 0]), 1]


def _dist_km(centre: int = CENTRE_CELL) -> np.ndarray:
    r, c = cell_to_rc(np.arange(1, N_CELLS + 1))
    r0, c0 = cell_to_rc(centre)
    return np.hypot(r - r0[0], c - c0[0]) * 0.235


def _correlogram(field: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Mean of the E-W and N-S correlations of a (100, 100) map at each lag."""
    out = []
    for h in lags:
        a = np.corrcoef(field[:, :-h].ravel(), field[:, h:].ravel())[0, 1]
        b = np.corrcoef(field[:-h].ravel(), field[h:].ravel())[0, 1]
        out.append((a + b) / 2)
    return np.array(out)


def spatial_constants(totals: np.ndarray) -> dict[str, Any]:
    """Heavy tail, radial decay and correlation of the 62-day totals (see module docstring)."""
    lt = np.log(totals / totals.mean())
    d = _dist_km()
    knots = np.arange(0.0, 19.0)
    med, sd = [], []
    for b in knots:
        m = (d >= b) & (d < b + 1)
        med.append(float(np.median(lt[m])))
        sd.append(float(lt[m].std()))
    centres = knots + 0.5
    resid = ((lt - np.interp(d, centres, med)) / np.interp(d, centres, sd)).reshape(100, 100)
    lags = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24])
    rho = _correlogram(resid, lags)
    best = (np.inf, 0.0, 1.0, 0.0, 1.0)
    for w1 in np.linspace(0.05, 0.95, 19):
        for l1 in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
            for w2 in np.linspace(0.0, 0.95 - w1, 20):
                for l2 in (6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 25.0):
                    fit = w1 * np.exp(-lags / l1) + w2 * np.exp(-lags / l2)
                    err = float(((fit - rho) ** 2).sum())
                    if err < best[0]:
                        best = (err, float(w1), l1, float(w2), l2)
    s = np.sort(totals)[::-1]
    shares = {f"{q:g}": round(float(s[: int(round(q * s.size))].sum() / s.sum()), 4)
              for q in (0.01, 0.05, 0.1, 0.2, 0.5)}
    return {
        "centre_cell": CENTRE_CELL,
        "radial_km": [float(x) for x in centres],
        "radial_median": [round(x, 4) for x in med],
        "radial_sd": [round(x, 4) for x in sd],
        "corr_lags": [int(x) for x in lags],
        "corr_measured": [round(float(x), 4) for x in rho],
        "corr_short_weight": round(best[1], 4), "corr_short_cells": best[2],
        "corr_long_weight": round(best[3], 4), "corr_long_cells": best[4],
        "log_quantile_p": [round(float(p), 5) for p in QUANTILE_P],
        "log_quantiles": [round(float(x), 4) for x in np.quantile(lt, QUANTILE_P)],
        "lognormal_sigma": round(float(np.log(totals).std()), 4),
        "top_shares": shares,
    }


def cell_constants(fullgrid: Traffic, totals: np.ndarray, cal: dict[str, Any], noise: dict[str, float],
                   ordinary_over_all: float) -> dict[str, Any]:
    """Per-square heterogeneity of weekend level and of the night and evening levels (module docstring)."""
    t = fullgrid.times_ms
    x = fullgrid.channel("internet").astype(np.float64)
    # weekend affinity: Sunday night (W1, 00:20-05:00) over Monday night (W2, the same hours) per square
    steps = NIGHT_STEPS[1] - NIGHT_STEPS[0]
    w1 = (t >= SUNDAY_NIGHT_MS) & (t < SUNDAY_NIGHT_MS + steps * STEP_10MIN_MS)
    w2 = (t >= NIGHT_WINDOW_MS) & (t < NIGHT_WINDOW_MS + steps * STEP_10MIN_MS)
    m1, m2 = x[:, w1].mean(axis=1), x[:, w2].mean(axis=1)
    lt = np.log(totals / totals.mean())
    busy = (lt >= np.median(lt)) & (m1 > 0) & (m2 > 0)
    r = np.log(m1[busy] / m2[busy])
    design = np.stack([np.ones(busy.sum()), lt[busy]], axis=1)
    coef = np.linalg.lstsq(design, r, rcond=None)[0]
    resid_var = float((r - design @ coef).var())
    # the two window means carry AR(1) noise of the calibrated size: take it out of the spread
    level = totals[busy] / (62 * STEPS_PER_DAY)
    var_step = noise["var_floor"] + noise["var_count"] / level
    noise_var = float(np.mean(2 * var_step * (1 + noise["ar1"]) / (1 - noise["ar1"]) / steps))
    # a window's mean over the mean step of its day as the generator would level it: a profile value
    monday = totals / (62 * STEPS_PER_DAY) * ordinary_over_all * cal["weekly_factors"][0]
    traits = {}
    for name, (start, steps, factor) in {
        "night": (NIGHT_WINDOW_MS, NIGHT_STEPS, 1.0),
        "evening": (EVENING_WINDOW_MS, EVENING_STEPS, cal["holidays"]["christmas"]["run_up"]),
    }.items():
        w = (t >= start) & (t < start + (steps[1] - steps[0]) * STEP_10MIN_MS)
        traits[name] = np.log(np.maximum(np.nanmean(x[:, w], axis=1) / (monday * factor), 1e-3))
    u = (np.argsort(np.argsort(totals, kind="stable"), kind="stable") + 0.5) / N_CELLS
    edges = np.array(TRAIT_LEVEL_BINS)
    out: dict[str, Any] = {"weekend_log_sd": round(float(np.sqrt(max(resid_var - noise_var, 0.0))), 4),
                           "weekend_log_slope": round(float(coef[1]), 4),
                           "level_bins": list(TRAIT_LEVEL_BINS)}
    resid = {}
    for name, lr in traits.items():
        med = np.array([np.median(lr[(u >= a) & (u < b)])
                        for a, b in zip(edges[:-1], edges[1:], strict=True)])
        bin_of = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(med) - 1)
        resid[name] = lr - med[bin_of]
        busy = u >= 0.5
        out[f"{name}_steps"] = list(NIGHT_STEPS if name == "night" else EVENING_STEPS)
        out[f"{name}_log_median"] = [round(float(m), 4) for m in med]
        out[f"{name}_log_sd"] = [round(float(resid[name][bin_of == b].std()), 4) for b in range(len(med))]
    busy = u >= 0.5
    corr = np.corrcoef(resid["night"][busy], resid["evening"][busy])[0, 1]
    out["night_evening_corr"] = round(float(corr), 4)
    rho1 = float(np.mean([_correlogram(r.reshape(100, 100), np.array([1]))[0] for r in resid.values()]))
    out["smooth_cells"] = round(-1.0 / np.log(rho1), 3)
    return out


def _residuals(tr3: Traffic, profiles: dict[str, list[float]]) -> np.ndarray:
    """(3, T) log residuals of each cell vs its own day-type profile and daily level (ordinary days)."""
    daily, dates = _daily_matrix(tr3, tr3.channel("internet").astype(np.float64))
    res = np.full(daily.shape, np.nan)
    for c in range(daily.shape[0]):
        for k in range(len(DAY_TYPES)):
            sel = [i for i, d in enumerate(dates) if d < CHRISTMAS_START and day_type(d) == k]
            norm = daily[c, sel] / daily[c, sel].mean(axis=1, keepdims=True)
            own = _normalise(lowpass(norm.mean(axis=0), INTERNET_HARMONICS))
            for i in sel:
                res[c, i] = np.log(np.maximum(daily[c, i], 1e-3) / (own * daily[c, i].mean()))
    return res.reshape(daily.shape[0], -1)


def noise_constants(tr3: Traffic, fullgrid: Traffic, mc: Traffic,
                    profiles: dict[str, list[float]]) -> dict[str, float]:
    """AR(1) coefficient, level-dependent log-noise variance and smallest activity (module docstring)."""
    res = _residuals(tr3, profiles)
    phis = []
    for r in res:
        r = r[~np.isnan(r)] - np.nanmean(r)
        phis.append(float(np.corrcoef(r[:-1], r[1:])[0, 1]))
    phi = float(np.mean(phis))
    x = fullgrid.channel("internet").astype(np.float64)
    t = fullgrid.times_ms
    windows = [(1383433200000, 51), (1384730400000, 28), (1387219200000, 30)]
    coefs = []
    for start, n in windows[:2]:  # the night windows (W3 spans the evening decline)
        w = (t >= start) & (t < start + n * STEP_10MIN_MS)
        xs = x[:, w]
        lev = xs.mean(axis=1)
        ok = (lev > 0.5) & (xs.min(axis=1) > 0)
        vd = np.diff(np.log(xs[ok]), axis=1).var(axis=1)
        a = np.stack([np.ones(ok.sum()), 1.0 / lev[ok]], axis=1)
        coefs.append(np.linalg.lstsq(a, vd, rcond=None)[0])
    floor, count = np.mean(coefs, axis=0) / (2 * (1 - phi))
    sms_call = mc.values[..., :4]
    quantum = float(np.nanmin(np.where(sms_call > 0, sms_call, np.inf)))
    return {"ar1": round(phi, 4), "var_floor": round(float(floor), 5), "var_count": round(float(count), 5),
            "min_positive": round(quantum, 6)}


def burst_constants(tr3: Traffic, profiles: dict[str, list[float]]) -> dict[str, float]:
    """Flash-crowd rate, amplitude and duration from residual excursions (see module docstring)."""
    res = _residuals(tr3, profiles)
    events, amps, durs, cell_days = 0, [], [], 0
    for r in res:
        ok = ~np.isnan(r)
        cell_days += int(ok.sum()) // STEPS_PER_DAY
        # remove the slow part (hourly running median) so that only short excursions remain
        rr = np.where(ok, r, 0.0)
        kernel = np.ones(7) / 7
        smooth = np.convolve(rr, kernel, mode="same")
        z = rr - smooth
        scale = 1.4826 * np.median(np.abs(z[ok] - np.median(z[ok])))
        hit = ok & (z > BURST_Z * scale)
        i = 0
        while i < hit.size:
            if hit[i]:
                j = i
                while j + 1 < hit.size and hit[j + 1]:
                    j += 1
                if j > i:
                    events += 1
                    amps.append(float(rr[i:j + 1].max()))
                    durs.append(j - i + 1)
                i = j + 1
            else:
                i += 1
    return {"rate_per_cell_day": round(events / max(cell_days, 1), 5),
            "log_amplitude": round(float(np.median(amps)) if amps else 0.5, 4),
            "mean_steps": round(float(np.mean(durs)) if durs else 3.0, 3),
            "detected": events}


def derive(shared: str | Path) -> dict[str, Any]:
    """All constants from ``<shared>/data/milan`` (``shared`` may also be that folder itself)."""
    root = Path(shared)
    milan = root if (root / FILES["totals"]).exists() else root / "data" / "milan"
    missing = [f for f in FILES.values() if not (milan / f).exists()]
    if missing:
        raise DataError(f"missing calibration inputs {missing}", path=str(milan))
    tr3 = read_converted(milan / FILES["internet3"])
    mc = read_converted(milan / FILES["multi"])
    fullgrid = read_converted(milan / FILES["fullgrid"])
    totals = _read_totals(milan / FILES["totals"])
    inet = internet_profiles(tr3)
    cal = calendar_factors(tr3)
    chan = channel_constants(mc)
    spatial = spatial_constants(totals)
    ordinary_over_all = cal.pop("ordinary_over_all")
    spatial["mean_per_step"] = round(float(totals.mean() / (62 * STEPS_PER_DAY) * ordinary_over_all), 4)
    residential = chan["profiles"]["internet"]
    profiles = {**chan["profiles"], "internet": inet}
    noise = noise_constants(tr3, fullgrid, mc, inet)
    return {
        "schema": 1,
        "source": "Telecom Italia Big Data Challenge 2014, Milan (ODbL 1.0; Barlacchi et al. 2015): "
                  "aggregate constants derived by dnt.data.calibration from ../shared/data/milan",
        "channels": list(CHANNELS),
        "day_types": list(DAY_TYPES),
        "steps_per_day": STEPS_PER_DAY,
        "profiles": {c: profiles[c] for c in CHANNELS},
        "internet_residential": residential,
        "weekly_factors": cal["weekly_factors"],
        "holidays": cal["holidays"],
        "channel_ratio": chan["channel_ratio"],
        "channel_ratio_log_sd": chan["channel_ratio_log_sd"],
        "cell": cell_constants(fullgrid, totals, cal, noise, ordinary_over_all),
        "spatial": spatial,
        "noise": noise,
        "bursts": burst_constants(tr3, inet),
    }


def dumps(constants: dict[str, Any]) -> str:
    """Stable JSON text (compact number lists, sorted keys) so regeneration is byte-comparable."""
    return json.dumps(constants, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m dnt.data.calibration --shared ../shared --out dnt/data/calibration.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared", help="folder holding data/milan (default ../shared)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("calibration.json")))
    args = ap.parse_args(argv)
    text = dumps(derive(args.shared))
    Path(args.out).write_text(text)
    print(f"wrote {args.out} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
