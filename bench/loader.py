"""Loader benchmark: how fast does :func:`dnt.data.raw.read_raw` parse one full-grid raw day?

Draws one synthetic day of all 10,000 cells x 5 channels (:mod:`dnt.data.synth`), writes it in the
official raw format with :func:`dnt.data.raw.write_raw` (about 4.2 M country-code rows, 300 MB),
then parses it in a fresh Python process with the cache off, so that neither the generator's nor the
writer's memory counts: wall and CPU time, rows/s and peak RSS (``ru_maxrss`` of that process). The
same process then saves the ``.npz`` cache and reloads it through ``read_raw``. The parsed sums are
checked against the generated traffic.

Run ``python bench/loader.py`` (full grid) or ``python bench/loader.py --quick`` (500 cells, seconds);
``--out DIR`` writes ``DIR/loader.json`` instead of ``bench/results/loader.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dnt.data.frame import Traffic
from dnt.data.raw import write_raw
from dnt.report import Target, print_table, write_result

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter, started before the traffic is generated: Linux carries the parent's
# peak RSS over fork + exec into ru_maxrss, so the parent must still be small when it starts. It waits
# for the file on stdin, parses it (cache off), then saves the cache and reloads it.
CHILD = r"""
import json, resource, sys, time
import numpy as np
from dnt.data.raw import raw_cache_path, read_raw
def hwm_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
path, cache_dir = sys.stdin.readline().rstrip("\n").split("\t")
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
w, c = time.perf_counter(), time.process_time()
t = read_raw(path, use_cache=False)
wall, cpu = time.perf_counter() - w, time.process_time() - c
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
hwm = hwm_mb()
cache = raw_cache_path(path, cache_dir=cache_dir)
w = time.perf_counter(); t.save(cache); save_s = time.perf_counter() - w
w = time.perf_counter(); again = read_raw(path, cache_dir=cache_dir); reload_s = time.perf_counter() - w
print(json.dumps({
    "parse_wall_s": wall, "parse_cpu_s": cpu, "peak_rss_mb": peak_kb / 1024,
    "ru_maxrss_before_parse_mb": rss_before / 1024, "vm_hwm_mb": hwm,
    "cache_save_s": save_s, "cache_reload_s": reload_s, "cache_bytes": cache.stat().st_size,
    "reload_equal": bool(np.array_equal(again.values, t.values, equal_nan=True)),
    "cell_ids": t.cell_ids.tolist(), "start_ms": t.start_ms, "n_steps": t.n_steps,
    "channel_sums": np.nansum(t.values.astype(np.float64), axis=(0, 1)).tolist(),
    "n_unobserved": int(np.isnan(t.values).all(axis=2).sum()),
}))
"""


@dataclasses.dataclass(frozen=True)
class LoaderBenchConfig:
    """What the loader benchmark parses."""

    n_cells: int = 10_000
    """Cells of the synthetic day (10,000 = the full Milan grid)."""
    days: int = 1
    """Days in the one raw file (the real files hold one local day each)."""
    seed: int = 0
    """Seed of the generator and of the country-code split."""
    min_rows_per_s: float = 1_000_000
    """Target: parse rate of raw rows (country-code rows) per second, wall time."""
    max_peak_rss_mb: float = 1024
    """Target: peak resident memory of the parsing process, MiB."""

    def __post_init__(self) -> None:
        if not 1 <= self.n_cells <= 10_000 or self.days < 1:
            raise ValueError("n_cells must be in 1..10000 and days >= 1")


def make_traffic(cfg: LoaderBenchConfig) -> tuple[Traffic, str]:
    """The day to write: the synthetic generator, or a gamma placeholder where it is missing."""
    try:
        from dnt.data.synth import SynthConfig, generate
    except ImportError:  # the generator is optional for this bench
        rng = np.random.default_rng(cfg.seed)
        level = rng.lognormal(0.0, 1.2, (cfg.n_cells, 1, 1)) * np.array([1, 0.8, 1, 0.9, 40])
        values = (rng.gamma(0.8, 1.0, (cfg.n_cells, 144 * cfg.days, 5)) * level).astype(np.float32)
        return Traffic(np.arange(1, cfg.n_cells + 1), 1383260400000, 600_000, values), "gamma placeholder"
    return generate(SynthConfig(n_cells=cfg.n_cells, days=cfg.days, seed=cfg.seed)), "dnt.data.synth"


def run(cfg: LoaderBenchConfig, out_dir: Path) -> Path:
    """Write, parse, check and report; return the result file."""
    t_start = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        traffic, source = make_traffic(cfg)
        with tempfile.TemporaryDirectory(prefix="dnt-loader-bench-") as tmp:
            path = Path(tmp) / "sms-call-internet-mi-2013-11-01.txt"
            w = time.perf_counter()
            write_raw(traffic, path, seed=cfg.seed)
            write_s = time.perf_counter() - w
            n_bytes = path.stat().st_size
            with open(path, "rb") as fh:
                n_rows = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b""))
            out, err = child.communicate(f"{path}\t{Path(tmp) / 'cache'}\n")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode:
        raise RuntimeError(f"the parsing process failed:\n{err}")
    m = json.loads(out.strip().splitlines()[-1])
    expected_sums = np.nansum(traffic.values.astype(np.float64), axis=(0, 1))
    sums_ok = bool(np.allclose(m.pop("channel_sums"), expected_sums, rtol=1e-6))
    shape_ok = (m.pop("cell_ids") == traffic.cell_ids.tolist() and m.pop("start_ms") == traffic.start_ms
                and m.pop("n_steps") == traffic.n_steps
                and m.pop("n_unobserved") == int(np.isnan(traffic.values).all(axis=2).sum()))
    rows_per_s = n_rows / m["parse_wall_s"]
    metrics = {
        **m,
        "traffic_source": source,
        "rows": n_rows,
        "bytes": n_bytes,
        "rows_per_cell_interval": n_rows / (traffic.n_cells * traffic.n_steps),
        "write_s": write_s,
        "raw_rows_per_s": rows_per_s,
        "raw_rows_per_cpu_s": n_rows / m["parse_cpu_s"],
        "mb_per_s": n_bytes / 2**20 / m["parse_wall_s"],
        "parse_matches_input": sums_ok and shape_ok,
        "load_average": os.getloadavg(),
    }
    targets = [
        Target("raw_rows_per_s", round(rows_per_s), f">= {cfg.min_rows_per_s:.0f}",
               rows_per_s >= cfg.min_rows_per_s),
        Target("peak_rss_mb", round(m["peak_rss_mb"], 1), f"< {cfg.max_peak_rss_mb:.0f}",
               m["peak_rss_mb"] < cfg.max_peak_rss_mb),
        Target("parse_matches_input", sums_ok and shape_ok, "true", sums_ok and shape_ok),
        Target("cache_reload_equal", m["reload_equal"], "true", m["reload_equal"]),
    ]
    wall = time.perf_counter() - t_start
    print_table(f"raw loader: {traffic.n_cells} cells x {traffic.n_steps} steps, {n_rows:,} rows, "
                f"{n_bytes / 2**20:.0f} MiB",
                ["metric", "value", "goal", "met"],
                [[t.name, t.value, t.goal, t.met] for t in targets]
                + [[k, metrics[k], "", ""] for k in ("parse_wall_s", "parse_cpu_s", "raw_rows_per_cpu_s",
                                                     "mb_per_s", "write_s", "cache_save_s",
                                                     "cache_reload_s", "cache_bytes")])
    return write_result("loader", config=cfg, metrics=metrics, targets=targets, out_dir=out_dir, wall_s=wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 cells instead of the full grid")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="results folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cfg = LoaderBenchConfig(n_cells=500 if args.quick else 10_000, seed=args.seed)
    path = run(cfg, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
