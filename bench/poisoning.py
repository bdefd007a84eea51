"""Poisoning benchmark: robust aggregation of federated twins under MPAF and TPI (the survey's Table II).

Question: when fake base stations join the federation, which aggregation rule keeps the twin's forecasts
usable, in the V-twin phase (synchronous FL over FedDA-style clusters, creating the twin) and in the
H-twin phase (asynchronous FedBuff maintenance of a cleanly created twin)? Rows: Mean (FedAvg), Median,
TrimmedMean, Krum, FLTrust, TID and "TID (paper)" (TID without its norm and Sybil checks); columns: no
attack, MPAF (Cao & Gong 2022: every fake sends ``lambda (w' - w_t)``, ``w'`` a random model, lambda 1e6)
and TPI/FTI (fake BSs upload ``eta (theta^ - theta_t)``, ``theta^`` trained from ``theta_0`` on fabricated
traffic: see :mod:`dnt.attacks.tpi`). Each rule is used with its library defaults (recorded in the JSON).

Fake clients: ``fake_fraction`` (20 %) of all clients are fake, ``M = round(f N / (1 - f))`` beside ``N``
benign ones (:mod:`dnt.attacks.base`). V-twin: each round samples ``fraction`` of every cluster's
benign clients; the fakes make up ``f`` of the participants (the expected share when fakes are sampled
like everyone), spread over the clusters in proportion, and are never trained: they send crafted
deltas claiming the benign median sample count and the current version. H-twin: ``M`` fake workers
(spread over the clusters) push on the same daily schedule and clock model as the benign ones, into
FedBuff buffers of K = 10 per cluster (FedBuff's experiments). Fakes arrive at random, so a buffer's
fake share is binomial around ``f``; a sensitivity run repeats Median and TID with K = 5, where a buffer
with a fake majority is no longer rare (the rules judge each buffer on its own).
FLTrust's server update ``g_0`` is the same local training on a small root dataset the server holds
(``root_windows`` windows of ``root_cells`` cells per cluster from the last ``root_days`` creation days).

Protocol per data set (as bench/twin.py, shorter): test = the last ``test_days``; maintenance = the
``maintenance_days`` before; creation = everything earlier. The twin is TwinSpec's default (the live
system's: 10-min steps, closeness 6, one daily lag, horizon 6, LSTM 32) trained by SyncRounds for
``rounds`` rounds (the final round is kept: no validation early stopping, which would itself filter
poisoned rounds). MAE and MSE in z-units on the test period (every ``test_stride``-th window);
diverged twins (non-finite weights or forecasts, or a client's training blew up) and values >= 100 are
shown as ">=100" (as the survey) and count as 100 in ratios.

Data: the synthetic default (40 cells around the Duomo, 21 days: fewer than bench/twin.py's 400 x 35
to fit ~7 rules x 3 attacks x 2 phases + a sweep in ~10 min on 2 cores) and the real 3-cell series
(../shared/data/milan; skipped with a note when absent). The real set has only 3 cells, too few for a
federation with 20 % fakes, so each cell's windows are dealt at random to ``sub_clients`` = 5 clients
(disjoint shares; 15 benign clients of 3 areas' real traffic).

Run ``python bench/poisoning.py`` (about 6 minutes on 2 idle cores) or ``--quick`` (tiny sizes, for tests).
Writes ``<out>/poisoning.json``, ``poisoning.md`` and ``poisoning_sweep.png``; prints tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from poisoning_runs import (
    Prepared,
    RunResult,
    initial_model,
    local_config,
    make_rule,
    prepare,
    run_htwin,
    run_vtwin,
    score,
)
from threadpoolctl import threadpool_limits

from dnt.attacks import MPAF, TPI, Attack
from dnt.data.converted import read_converted
from dnt.data.frame import Traffic
from dnt.data.synth import SynthConfig, generate
from dnt.errors import DntError
from dnt.fl import RULES, LocalTrainer, flatten
from dnt.progress import progress_callback
from dnt.report import Target, print_table, write_result
from dnt.twin import TwinSpec

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ATTACK_COLS = ("none", "mpaf", "tpi")
COL_TITLES = {"none": "no attack", "mpaf": "MPAF", "tpi": "TPI"}
PHASES = ("vtwin", "htwin")


@dataclass(frozen=True)
class ScenarioConfig:
    """Per-data-set sizes and budgets."""

    n_clusters: int
    """FedDA-style clusters (one cluster twin each)."""
    test_days: int
    """Test period at the end."""
    maintenance_days: int
    """H-twin maintenance period before the test period."""
    sub_clients: int
    """Clients per cell (disjoint random shares of its windows); 1 = one client per cell."""
    rounds: int
    """V-twin synchronous rounds (the last is kept)."""
    fraction: float
    """Share of each cluster's benign clients per round."""
    local_steps: int
    """Local optimiser steps per update (create_vtwin's default 20)."""
    local_batch_size: int
    local_lr: float
    """Local Adam learning rate (create_vtwin's 3e-3)."""
    buffer_size: int
    """FedBuff K per cluster (FedBuff's experiments use 10; capped at the cluster's benign clients)."""
    root_cells: int
    """FLTrust root dataset: cells per cluster the server holds data of."""
    root_days: float
    """... their last days of the creation period."""
    root_windows: int
    """... at most this many windows (FLTrust's root set is ~100 samples)."""
    test_stride: int
    """Score every ``test_stride``-th test window."""


@dataclass(frozen=True)
class PoisonBenchConfig:
    """The poisoning benchmark's settings (recorded in the result JSON)."""

    channel: str = "internet"
    synth_cells: int = 40
    """Synthetic cells (the centred block around cell 5161)."""
    synth_days: int = 21
    synth_seed: int = 0
    real_file: str = "data/milan/internet_3cells_10min_62days.csv.gz"
    """Real series, relative to ../shared."""
    spec: TwinSpec = TwinSpec()
    """The twin (TwinSpec defaults: the live system's model)."""
    global_mix: float = 0.5
    """V-twin: pull of each cluster twin towards the global twin after a round (create_vtwin's)."""
    max_staleness: int = 5
    staleness_exponent: float = 0.5
    update_period_h: float = 24.0
    """H-twin: each worker (benign or fake) pushes once per this many hours."""
    replay_days: float = 7.0
    """H-twin: a benign update trains on the worker's last 7 days (bench/twin.py's choice)."""
    s_per_sample: float = 0.05
    slowness_sigma: float = 1.0
    delay_median_s: float = 1800.0
    delay_sigma: float = 1.5
    fake_fraction: float = 0.2
    """Share of fake clients among all clients in the main table."""
    mpaf_scale: float = 1e6
    """MPAF's lambda (the paper's default)."""
    tpi_eta: float = 10.0
    """TPI's eta: with 20 % fakes, Mean moves ``0.2 * 10 = 2x`` the way to theta^ each round (overshoot)."""
    tpi_fabrication: str = "antiphase"
    """Fabricated traffic of the TPI fake BSs (see dnt.attacks.tpi)."""
    tpi_bases: int = 4
    """TPI base models (fake j uses base j mod 4: fake BSs with different fabricated cells)."""
    tpi_cells: int = 3
    """Fabricated cells per base model."""
    tpi_days: int = 7
    tpi_steps: int = 300
    """Adam steps training each base model from theta_0."""
    sweep_fractions: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
    sweep_rules: tuple[str, ...] = ("Mean", "Median", "TID")
    buffer_sizes: tuple[int, ...] = (5,)
    """H-twin sensitivity (synthetic): FedBuff K besides the scenario's, for ``buffer_rules``. With a small K the
    fakes, arriving at random, are now and then the majority of one buffer."""
    buffer_rules: tuple[str, ...] = ("Median", "TID", "TID (paper)")
    rows: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = (
        ("Mean", "mean", ()), ("Median", "median", ()), ("TrimmedMean", "trimmed_mean", ()), ("Krum", "krum", ()),
        ("FLTrust", "fltrust", ()), ("TID", "tid", ()),
        ("TID (paper)", "tid", (("norm_clip", None), ("collinear_cos", None))))
    """Table rows: (label, RULES key, constructor kwargs)."""
    cap: float = 100.0
    """Errors at or above this (or diverged) are shown as >=100 and count as 100."""
    tid_ratio_goal: float = 1.2
    break_ratio_goal: float = 2.0
    """Mean 'breaks' when its MAE at least doubles *and* is worse than persistence (a useless twin)."""
    seed: int = 0
    threads: int = 1
    synthetic: ScenarioConfig = ScenarioConfig(
        n_clusters=2, test_days=3, maintenance_days=3, sub_clients=1, rounds=8, fraction=0.5, local_steps=20,
        local_batch_size=64, local_lr=3e-3, buffer_size=10, root_cells=2, root_days=2.0, root_windows=200,
        test_stride=3)
    real: ScenarioConfig = ScenarioConfig(
        n_clusters=2, test_days=7, maintenance_days=7, sub_clients=5, rounds=8, fraction=1.0, local_steps=20,
        local_batch_size=64, local_lr=3e-3, buffer_size=10, root_cells=1, root_days=2.0, root_windows=200,
        test_stride=1)
    quick: bool = False
    """Tiny sizes: a smoke test of the script, not a result."""

    def quick_version(self) -> PoisonBenchConfig:
        small = dict(rounds=3, local_steps=5, maintenance_days=2)
        return dataclasses.replace(
            self, synth_cells=12, synth_days=9, tpi_steps=30, tpi_bases=2, tpi_days=3, quick=True,
            sweep_fractions=(0.1, 0.2), synthetic=dataclasses.replace(self.synthetic, test_days=2, **small),
            real=dataclasses.replace(self.real, sub_clients=2, test_stride=12, **small))


# -- attacks ---------------------------------------------------------------------------------------

def build_attacks(p: Prepared, cfg: PoisonBenchConfig, init: np.ndarray) -> dict[str, Any]:
    """The attacks' ingredients: MPAF's random base model, TPI's base models trained from theta_0."""
    sp = cfg.spec
    trainer = LocalTrainer(sp.model(cfg.seed), dataclasses.replace(
        local_config(cfg, p.sc), epochs=1000, max_steps=cfg.tpi_steps))
    tpi = TPI.from_fabricated(init, trainer, closeness=sp.closeness, period=sp.period, period_steps=p.steps_per_day,
                              horizon=sp.horizon, n_bases=cfg.tpi_bases, cells_per_base=cfg.tpi_cells,
                              days=cfg.tpi_days, mode=cfg.tpi_fabrication, eta=cfg.tpi_eta, seed=cfg.seed)
    return {"mpaf_base": flatten(sp.model(cfg.seed + 1)), "tpi_bases": tpi.bases}


def make_attack(name: str, fraction: float, ing: dict[str, Any], cfg: PoisonBenchConfig, p: Prepared) -> Attack:
    exclude = [c.client_id for c in p.clients] + [str(int(c)) for c in p.cell_ids]
    if name == "mpaf":
        return MPAF(fraction, cfg.mpaf_scale, ing["mpaf_base"], seed=cfg.seed, exclude_ids=exclude)
    return TPI(ing["tpi_bases"], fraction, cfg.tpi_eta, seed=cfg.seed, exclude_ids=exclude)


# -- one data set ----------------------------------------------------------------------------------

def usable_rows(cfg: PoisonBenchConfig) -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, str]]:
    rows, skipped = [], {}
    for label, key, kw in cfg.rows:
        if key not in RULES:
            skipped[label] = f"rule {key!r} not in dnt.fl.rules.RULES yet"
            continue
        try:
            make_rule(key, dict(kw))
        except (TypeError, DntError) as err:
            skipped[label] = f"{key}({dict(kw)}) cannot be built: {err}"
            continue
        rows.append((label, key, dict(kw)))
    return rows, skipped


def _cell(r: RunResult) -> dict[str, Any]:
    return {**r.scores, **r.extra}


def run_scenario(p: Prepared, cfg: PoisonBenchConfig, rows: list[tuple[str, str, dict[str, Any]]], sweep: bool,
                 log: Any) -> dict[str, Any]:
    init = initial_model(cfg)
    t0 = time.perf_counter()
    ing = build_attacks(p, cfg, init)
    bases = {"mpaf_base": score({k: ing["mpaf_base"] for k in p.sizes}, p, cfg.spec.model(), cfg.cap),
             "tpi_bases": [score({k: b for k in p.sizes}, p, cfg.spec.model(), cfg.cap) for b in ing["tpi_bases"]],
             "theta_0": score({k: init for k in p.sizes}, p, cfg.spec.model(), cfg.cap)}
    log(f"{p.name}: {len(p.clients)} benign clients in clusters {p.sizes}, test windows {len(p.test)}, "
        f"persistence MAE {p.persistence_mae:.3f}; attack bases ready in {time.perf_counter() - t0:.1f}s")
    by_label = {r[0]: r for r in rows}
    sweep_rows = [by_label[x] for x in cfg.sweep_rules if x in by_label] if sweep else []
    sweep_fr = [f for f in cfg.sweep_fractions if f != cfg.fake_fraction]
    buf_rows = [by_label[x] for x in cfg.buffer_rules if x in by_label] if sweep else []
    buf_k = [k for k in cfg.buffer_sizes if k != p.sc.buffer_size]
    total = len(rows) * 6 + len(sweep_rows) * 2 * len(sweep_fr) + len(buf_rows) * 3 * len(buf_k)
    out: dict[str, Any] = {"vtwin": {}, "htwin": {}, "sweep": {}, "htwin_buffer": {}}
    cleans: dict[str, RunResult] = {}
    done = 0
    with progress_callback(f"{p.name}: runs") as bar:
        bar(0, total)
        for label, key, kw in rows:
            vt: dict[str, Any] = {}
            ht: dict[str, Any] = {}
            clean = cleans[label] = run_vtwin(p, cfg, key, kw, None, init)
            vt["none"] = _cell(clean)
            ht["none"] = _cell(run_htwin(p, cfg, key, kw, None, clean))
            done += 2
            bar(done, total)
            for atk in ("mpaf", "tpi"):
                vt[atk] = _cell(run_vtwin(p, cfg, key, kw, make_attack(atk, cfg.fake_fraction, ing, cfg, p), init))
                ht[atk] = _cell(run_htwin(p, cfg, key, kw, make_attack(atk, cfg.fake_fraction, ing, cfg, p), clean))
                done += 2
                bar(done, total)
            out["vtwin"][label], out["htwin"][label] = vt, ht
            log(f"  {label:12s} V-twin MAE " + " / ".join(_fmt(vt[a]["mae_capped"]) for a in ATTACK_COLS)
                + "   H-twin MAE " + " / ".join(_fmt(ht[a]["mae_capped"]) for a in ATTACK_COLS))
        for label, key, kw in sweep_rows:
            out["sweep"][label] = {}
            for atk in ("mpaf", "tpi"):
                pts = {str(cfg.fake_fraction): out["vtwin"][label][atk]}
                for f in sweep_fr:
                    pts[str(f)] = _cell(run_vtwin(p, cfg, key, kw, make_attack(atk, f, ing, cfg, p), init))
                    done += 1
                    bar(done, total)
                out["sweep"][label][atk] = dict(sorted(pts.items(), key=lambda kv: float(kv[0])))
        for label, key, kw in buf_rows:
            out["htwin_buffer"][label] = {str(p.sc.buffer_size): out["htwin"][label]}
            for k in buf_k:
                pk = dataclasses.replace(p, sc=dataclasses.replace(p.sc, buffer_size=k))
                cells = {}
                for atk in ATTACK_COLS:
                    a = None if atk == "none" else make_attack(atk, cfg.fake_fraction, ing, cfg, p)
                    cells[atk] = _cell(run_htwin(pk, cfg, key, kw, a, cleans[label]))
                    done += 1
                    bar(done, total)
                out["htwin_buffer"][label][str(k)] = cells
    out.update({"persistence_mae": p.persistence_mae, "persistence_mse": p.persistence_mse, "clusters": p.sizes,
                "benign_clients": len(p.clients),
                "test_windows": len(p.test), "attack_base_models": bases,
                "rules": {label: make_rule(key, kw).summary() for label, key, kw in rows}})
    return out


# -- output ----------------------------------------------------------------------------------------

def _fmt(v: float | None, cap: float = 100.0, digits: int = 3) -> str:
    if v is None or not np.isfinite(v) or v >= cap:
        return "≥100"
    return f"{v:.{digits}f}"


def table_rows(res: dict[str, Any], phase: str) -> list[list[Any]]:
    out = []
    for label, cells in res[phase].items():
        row: list[Any] = [label]
        for a in ATTACK_COLS:
            row += [_fmt(cells[a]["mae_capped"]), _fmt(cells[a]["mse_capped"], digits=4)]
        row += [f"{cells[a]['fake_weight_share_mean']:.2f}" for a in ("mpaf", "tpi")]
        out.append(row)
    return out


TABLE_COLS = ["rule"] + [f"{COL_TITLES[a]} {m}" for a in ATTACK_COLS for m in ("MAE", "MSE")] + \
    ["fake weight MPAF", "fake weight TPI"]


def markdown(results: dict[str, dict[str, Any]], cfg: PoisonBenchConfig, notes: list[str]) -> str:
    lines = ["# Poisoning benchmark (survey Table II)", "",
             f"MAE / MSE in z-units on the test period; {int(cfg.fake_fraction * 100)} % of the clients are fake; "
             "values >= 100 or diverged shown as ≥100. 'fake weight' = mean share of the aggregation weight the "
             "rule reported for the fake updates (0 = all filtered; Median and TrimmedMean report equal weights "
             "for every input, so theirs is just the fakes' head count).", ""]
    if cfg.quick:
        lines += ["**QUICK run: tiny sizes, not a result.**", ""]
    for name, res in results.items():
        for phase, title in (("vtwin", "V-twin phase (synchronous FL over clusters)"),
                             ("htwin", "H-twin phase (asynchronous FedBuff maintenance)")):
            lines += [f"## {name}: {title}", "", "| " + " | ".join(TABLE_COLS) + " |",
                      "|" + "---|" * len(TABLE_COLS)]
            lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table_rows(res, phase)]
            lines += ["", f"Persistence (last value repeated): MAE {res['persistence_mae']:.3f}, "
                      f"MSE {res['persistence_mse']:.4f}.", ""]
        if res["sweep"]:
            fr = list(next(iter(next(iter(res["sweep"].values())).values())))
            lines += [f"## {name}: V-twin MAE vs fraction of fake clients", "",
                      "| rule | attack | " + " | ".join(f"{float(f) * 100:g} %" for f in fr) + " |",
                      "|" + "---|" * (2 + len(fr))]
            for label, by_atk in res["sweep"].items():
                for atk, pts in by_atk.items():
                    lines.append(f"| {label} | {COL_TITLES[atk]} | "
                                 + " | ".join(_fmt(pts[f]["mae_capped"]) for f in fr) + " |")
            lines.append("")
        if res.get("htwin_buffer"):
            lines += [f"## {name}: H-twin MAE vs FedBuff buffer size K", "",
                      "| rule | K | no attack | MPAF | TPI |", "|---|---|---|---|---|"]
            lines += ["| " + " | ".join(r) + " |" for r in buffer_rows(res)]
            lines.append("")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def buffer_rows(res: dict[str, Any]) -> list[list[str]]:
    return [[label, k] + [_fmt(cells[a]["mae_capped"]) for a in ATTACK_COLS]
            for label, by_k in res.get("htwin_buffer", {}).items()
            for k, cells in sorted(by_k.items(), key=lambda x: int(x[0]))]


def plot_sweep(res: dict[str, Any], path: Path, cap: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), squeeze=False)
    for ax, atk in zip(axes[0], ("mpaf", "tpi"), strict=True):
        for i, (label, by_atk) in enumerate(res["sweep"].items()):
            pts = by_atk[atk]
            x = [100 * float(f) for f in pts]
            ax.plot(x, [pts[f]["mae_capped"] for f in pts], "o-", color=f"C{i}", label=label)
            ax.axhline(res["vtwin"][label]["none"]["mae_capped"], color=f"C{i}", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylim(top=cap * 1.5)
        ax.set_xlabel("fake clients (% of all clients)")
        ax.set_ylabel("test MAE, z-units (capped at 100)")
        ax.set_title(f"V-twin under {COL_TITLES[atk]} (dotted: no attack)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _ratio(res: dict[str, Any], phase: str, label: str, atk: str) -> float:
    c = res[phase][label]
    return float(c[atk]["mae_capped"] / c["none"]["mae_capped"])


def make_targets(results: dict[str, dict[str, Any]], cfg: PoisonBenchConfig) -> tuple[list[Target], dict[str, Any]]:
    targets: list[Target] = []
    ratios: dict[str, Any] = {}
    for name, sfx in (("synthetic", ""), ("real", "_real")):
        if name not in results:
            continue
        res = results[name]
        r: dict[str, Any] = {}
        for phase in PHASES:
            for atk in ("mpaf", "tpi"):
                if "TID" in res[phase]:
                    v = _ratio(res, phase, "TID", atk)
                    r[f"tid_{atk}_ratio_{phase}"] = v
                    targets.append(Target(f"tid_{atk}_ratio_{phase}{sfx}", round(v, 4), f"<= {cfg.tid_ratio_goal}",
                                          bool(v <= cfg.tid_ratio_goal)))
                if "Mean" in res[phase]:
                    v = _ratio(res, phase, "Mean", atk)
                    worse = res[phase]["Mean"][atk]["mae_capped"] > res["persistence_mae"]
                    r[f"mean_{atk}_ratio_{phase}"] = v
                    if phase == "vtwin":
                        targets.append(Target(f"mean_breaks_{atk}{sfx}", round(v, 4),
                                              f">= {cfg.break_ratio_goal} and MAE > persistence MAE "
                                              f"({res['persistence_mae']:.3f})",
                                              bool(v >= cfg.break_ratio_goal and worse)))
        ratios[name] = r
    return targets, ratios


def load_real(cfg: PoisonBenchConfig) -> Traffic | None:
    path = SHARED / cfg.real_file
    if not path.exists():
        return None
    return read_converted(path).select_channels([cfg.channel])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, not a result)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="results directory")
    args = ap.parse_args(argv)
    cfg = PoisonBenchConfig()
    if args.quick:
        cfg = cfg.quick_version()
    torch.set_num_threads(cfg.threads)
    with threadpool_limits(limits=cfg.threads):
        return _main(cfg, args.out)


def _main(cfg: PoisonBenchConfig, out_dir: Path) -> int:
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.0f}s] {msg}", flush=True)

    rows, skipped = usable_rows(cfg)
    notes = [f"row {k} skipped: {v}" for k, v in skipped.items()]
    for n in notes:
        print(f"poisoning bench: {n}", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    wall: dict[str, float] = {}
    start = (np.datetime64("2014-01-02") - np.timedelta64(cfg.synth_days, "D")).astype(str)
    t0 = time.perf_counter()
    synth = generate(SynthConfig(n_cells=cfg.synth_cells, days=cfg.synth_days, start_date=start,
                                 seed=cfg.synth_seed)).select_channels([cfg.channel])
    results["synthetic"] = run_scenario(prepare("synthetic", synth, cfg, cfg.synthetic), cfg, rows, True, log)
    wall["synthetic"] = time.perf_counter() - t0
    real = load_real(cfg)
    real_note = None
    if real is None:
        real_note = f"real series {SHARED / cfg.real_file} absent (../shared beside the repository); real part skipped"
        print(f"poisoning bench: {real_note}", file=sys.stderr)
        notes.append(real_note)
    else:
        t0 = time.perf_counter()
        results["real"] = run_scenario(prepare("real", real, cfg, cfg.real), cfg, rows, False, log)
        wall["real"] = time.perf_counter() - t0
    total = time.perf_counter() - t_start

    for name, res in results.items():
        for phase in PHASES:
            print_table(f"{name}, {phase}: test MAE / MSE (z-units), {int(cfg.fake_fraction * 100)} % fake clients",
                        TABLE_COLS, table_rows(res, phase))
        if res["sweep"]:
            fr = list(next(iter(next(iter(res["sweep"].values())).values())))
            print_table(f"{name}, vtwin: MAE vs fake-client fraction",
                        ["rule", "attack"] + [f"{float(f):.0%}" for f in fr],
                        [[label, COL_TITLES[atk]] + [_fmt(pts[f]["mae_capped"]) for f in fr]
                         for label, by in res["sweep"].items() for atk, pts in by.items()])
        if res.get("htwin_buffer"):
            print_table(f"{name}, htwin: MAE vs FedBuff buffer size K", ["rule", "K", "no attack", "MPAF", "TPI"],
                        buffer_rows(res))
    targets, ratios = make_targets(results, cfg)
    print_table("targets", ["name", "value", "goal", "met"], [[t.name, t.value, t.goal, t.met] for t in targets])

    out_dir.mkdir(parents=True, exist_ok=True)
    plots = []
    if results["synthetic"]["sweep"]:
        plots.append(plot_sweep(results["synthetic"], out_dir / "poisoning_sweep.png", cfg.cap).name)
    notes += ["MAE/MSE in z-units on the test period, twins frozen; ratios use values capped at 100.",
              "TPI fabricated traffic: " + cfg.tpi_fabrication + " (dnt.attacks.tpi); MPAF base: a random init of "
              "the twin (seed + 1)."]
    (out_dir / "poisoning.md").write_text(markdown(results, cfg, notes))
    metrics = {**results, "ratios": ratios, "wall_s": wall, "plots": plots, "skipped_rows": skipped,
               "real_skipped": real_note, "columns": list(ATTACK_COLS), "rows": [r[0] for r in rows], "notes": notes}
    out = write_result("poisoning", config=cfg, metrics=metrics, targets=targets, out_dir=out_dir, wall_s=total)
    met = sum(t.met for t in targets)
    print(f"{met}/{len(targets)} targets met; wrote {out}, poisoning.md" + (f", {plots[0]}" if plots else "")
          + f" in {total:.0f}s" + (" (QUICK: tiny sizes, not a result)" if cfg.quick else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
