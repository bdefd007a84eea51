"""Render every xApp's descriptor from its code: ``python -m dnt.deploy.render [--check | --write]``.

``xapps/<name>/descriptor/config-file.json`` is derived, not hand-kept: the message lists and policy types
come from :func:`dnt.deploy.derive.derive_messages`, ``controls`` is the xApp's ``config.yaml`` with
``runtime: rmr``, and ``schema.json`` (the controls schema) is :func:`dnt.deploy.controls.controls_schema`
of the config dataclass ``wire`` takes. Ports, probes and the image follow the OSC conventions
(oran-conventions.md §1.4, §5.1): http 8080, rmrdata 4560, rmrroute 4561, httpGet probes on
``/ric/v1/health/alive`` / ``/ric/v1/health/ready``, image ``<registry>/dnt-ric/<name>:<version>`` run as
``python /opt/dnt/xapps/<name>/app.py`` (what the xApp's Dockerfile installs).

``--check`` (the default) exits 1 and names the files that differ from what the code gives; ``--write``
rewrites them. A CLI: prints are its output.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from dnt.deploy.controls import controls_schema
from dnt.deploy.derive import config_class, derive_messages, load_app
from dnt.deploy.descriptor import (
    ALIVE_PATH,
    DESCRIPTOR_DIR,
    HTTP_PORT,
    READY_PATH,
    REPO_ROOT,
    RMR_DATA_PORT,
    RMR_ROUTE_PORT,
)

__all__ = ["REGISTRY", "IMAGE_PREFIX", "render_descriptor", "render_all", "main"]

REGISTRY = "registry.example.org"
"""Placeholder registry of our images: a dotted host, as the onboarder's pattern requires (no
``localhost:5000``); the Helm charts' ``image.registry`` default is the same. Override per site."""
IMAGE_PREFIX = "dnt-ric"

_SUMMARY = {
    "kpimon": "KPI monitor: KPM subscriptions per cell, latest per-cell/per-slice KPIs in SDL",
    "htwin": "H-twin worker replica: live KPM -> local twin updates (DNT_TWIN_UPDATE) -> forecasts in SDL",
    "aggregator": "H-twin asynchronous server: DNT_TWIN_UPDATE -> robust FedBuff -> DNT_GLOBAL_TWIN",
    "rrm": "resource decisions: KPM + twin forecasts -> per-cell slice PRB quotas -> E2SM-RC RIC controls",
}


def _version(repo_root: Path) -> str:
    return str(tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["version"])


def render_descriptor(app_path: str | Path, *, version: str | None = None,
                      registry: str = REGISTRY) -> tuple[dict[str, Any], dict[str, Any]]:
    """The descriptor and the controls schema of the xApp at ``xapps/<name>/app.py``.

    Parameters
    ----------
    app_path : str or Path
        The xApp's ``app.py`` (its folder name is the xApp name).
    version : str, optional
        Descriptor and image version (default: the package version in ``pyproject.toml``).
    registry : str
        Image registry host.

    Returns
    -------
    (descriptor, controls_schema) : (dict, dict)
    """
    app_path = Path(app_path).resolve()
    name = app_path.parent.name
    version = version or _version(REPO_ROOT)
    module = load_app(app_path)
    rx, tx, policies = derive_messages(module)
    controls = yaml.safe_load(app_path.with_name("config.yaml").read_text()) or {}
    controls["runtime"] = "rmr"
    summary = _SUMMARY.get(name, (module.__doc__ or name).strip().splitlines()[0])
    desc = {
        "name": name,
        "version": version,
        "containers": [{"name": name, "image": {"registry": registry, "name": f"{IMAGE_PREFIX}/{name}", "tag": version},
                        "command": ["python", f"/opt/dnt/xapps/{name}/app.py"]}],
        "livenessProbe": {"httpGet": {"path": ALIVE_PATH, "port": HTTP_PORT},
                          "initialDelaySeconds": 5, "periodSeconds": 15},
        "readinessProbe": {"httpGet": {"path": READY_PATH, "port": HTTP_PORT},
                           "initialDelaySeconds": 5, "periodSeconds": 15},
        "messaging": {"ports": [
            {"name": "http", "container": name, "port": HTTP_PORT,
             "description": f"health probes ({ALIVE_PATH}, {READY_PATH}), submgr subscription results, metrics"},
            {"name": "rmrdata", "container": name, "port": RMR_DATA_PORT, "description": f"RMR data: {summary}",
             "rxMessages": sorted(rx), "txMessages": sorted(tx), "policies": sorted(policies)},
            {"name": "rmrroute", "container": name, "port": RMR_ROUTE_PORT,
             "description": "RMR route table updates from rtmgr"},
        ]},
        "controls": controls,
    }
    return desc, controls_schema(config_class(module), title=f"{name} controls")


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


def render_all(repo_root: str | Path = REPO_ROOT, *, write: bool = False) -> list[Path]:
    """Render every ``xapps/*/app.py``; return the descriptor files that differ (rewritten when ``write``)."""
    root = Path(repo_root)
    stale: list[Path] = []
    for app in sorted((root / "xapps").glob("*/app.py")):
        desc, schema = render_descriptor(app, version=_version(root))
        folder = app.parent / DESCRIPTOR_DIR
        for path, text in ((folder / "config-file.json", _dump(desc)), (folder / "schema.json", _dump(schema))):
            if not path.is_file() or path.read_text() != text:
                stale.append(path)
                if write:
                    folder.mkdir(exist_ok=True)
                    path.write_text(text)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dnt.deploy.render [--check | --write]``: 0 when every descriptor is current."""
    p = argparse.ArgumentParser(prog="python -m dnt.deploy.render", description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report stale descriptors (default)")
    mode.add_argument("--write", action="store_true", help="rewrite stale descriptors")
    args = p.parse_args(argv)
    stale = render_all(write=args.write)
    for path in stale:
        print(f"{'rewrote' if args.write else 'stale'}: {path.relative_to(REPO_ROOT)}")
    return 0 if args.write or not stale else 1


if __name__ == "__main__":
    sys.exit(main())
