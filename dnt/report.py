"""Benchmark and run reports: the JSON contract every ``bench/<name>.py`` follows, and printed tables.

A result file ``bench/results/<name>.json`` holds a top-level ``targets`` list of
``{"name", "value", "goal", "met"}`` plus the config, the environment and the raw numbers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["Target", "environment", "write_result", "print_table", "to_jsonable"]


@dataclasses.dataclass(frozen=True)
class Target:
    """One checked claim. ``goal`` is human-readable (e.g. ``">= 1000000"``); ``met`` is the verdict."""

    name: str
    value: float | int | bool | None
    goal: str
    met: bool


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Python, torch, CPU and git facts recorded beside every result."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "git_sha": _git_sha(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    env["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        env["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return env


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, numpy scalars/arrays, paths and tuples → plain JSON types."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    return obj


def write_result(name: str, *, config: Any, metrics: dict[str, Any], targets: Sequence[Target],
                 out_dir: str | Path = "bench/results", wall_s: float | None = None) -> Path:
    """Write ``<out_dir>/<name>.json`` and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "name": name,
        "targets": [to_jsonable(t) for t in targets],
        "config": to_jsonable(config),
        "environment": environment(),
        "wall_s": wall_s,
        "metrics": to_jsonable(metrics),
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table with rich (plain text when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(str(col))
    for row in rows:
        table.add_row(*(_fmt(v) for v in row))
    Console(width=max(100, sum(len(str(c)) + 6 for c in columns))).print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
