"""Onboarding xApps the way the OSC onboarder does (``dms_cli``, ``ric-plt-appmgr: xapp_onboarder``).

``dms_cli onboard`` (oran-conventions.md §1.5) validates the descriptor against the enforced schema (with
the controls schema replacing ``properties.controls``), builds the ``xapp-std`` chart from it, runs
``helm lint`` and ``helm package`` and uploads the archive with ``POST <CHART_REPO_URL>/api/charts``
(chartmuseum: 201 created, 409 when that version exists). appmgr then installs it from chartmuseum on
``POST /ric/v1/xapps {"xappName": ...}``.

Three ways from here:

* :func:`dms_cli_command`: the exact command line (``--shcema_file_path`` is dms_cli's spelling);
* :func:`upload_chart`: our own chart (``helm/<xapp>``), packaged with the Helm SDK, uploaded as dms_cli
  uploads its chart;
* :func:`post_to_onboarder`: the descriptor and controls schema to a running xapp-onboarder
  (``POST /api/v1/onboard``), which builds the ``xapp-std`` chart itself.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from dnt.deploy.a1rest import http_call
from dnt.errors import ConfigError, TransportError

__all__ = ["DEFAULT_CHART_REPO", "descriptor_files", "dms_cli_command", "upload_chart", "post_to_onboarder"]

DEFAULT_CHART_REPO = "http://0.0.0.0:8080"
"""dms_cli's default ``CHART_REPO_URL`` (the OSC docs run chartmuseum on 8090)."""


def _short(body: bytes) -> str:
    text = body.decode(errors="replace").strip().replace("\n", " ")
    return text[:200] + ("..." if len(text) > 200 else "")


def descriptor_files(root: str | Path, name: str) -> tuple[Path, Path]:
    """``(config-file.json, schema.json)`` of ``xapps/<name>/descriptor`` (or ``rapps/<name>/descriptor``).

    Raises
    ------
    ConfigError
        there is no descriptor for ``name``; the message lists the known ones.
    """
    root = Path(root)
    for base in (root / "xapps" / name, root / "rapps" / name):
        desc = base / "descriptor" / "config-file.json"
        if desc.is_file():
            return desc, desc.with_name("schema.json")
    known = sorted(p.parent.parent.name for p in (root / "xapps").glob("*/descriptor/config-file.json"))
    raise ConfigError(f"no descriptor for {name!r} (xapps/{name}/descriptor/config-file.json); "
                      f"known: {', '.join(known) or 'none'}")


def dms_cli_command(descriptor: str | Path, schema: str | Path, chart_repo: str | None = None) -> str:
    """The ``dms_cli onboard`` command line for a descriptor (note dms_cli's spelling ``--shcema_file_path``).

    The schema is always passed: dms_cli's default is a path relative to its own docs tree.
    """
    env = f"CHART_REPO_URL={shlex.quote(chart_repo)} " if chart_repo else ""
    return (f"{env}dms_cli onboard --config_file_path={shlex.quote(str(Path(descriptor).resolve()))} "
            f"--shcema_file_path={shlex.quote(str(Path(schema).resolve()))}")


def upload_chart(chart_dir: str | Path, chart_repo: str, *, dry_run: bool = False) -> tuple[str, int, str]:
    """Package ``chart_dir`` and ``POST`` it to ``<chart_repo>/api/charts``: ``(file name, status, url)``.

    Status 0 with ``dry_run`` (nothing sent).

    Raises
    ------
    ConfigError
        no chart at ``chart_dir``.
    TransportError
        chartmuseum is unreachable, already holds this version (409) or refuses the archive.
    """
    from dnt.deploy.csar import package_chart

    chart_dir = Path(chart_dir)
    if not (chart_dir / "Chart.yaml").is_file():
        raise ConfigError(f"no chart at {chart_dir}")
    fname, tgz = package_chart(chart_dir)
    url = chart_repo.rstrip("/") + "/api/charts"
    if dry_run:
        return fname, 0, url
    code, text = http_call("POST", url, tgz, ctype="application/octet-stream")
    if code == 409:
        name = fname.rsplit("-", 1)[0]
        raise TransportError(f"chartmuseum already holds {fname} ({url}): bump the chart version, or delete "
                             f"it (DELETE /api/charts/{name}/<version>) and onboard again")
    if code not in (200, 201):
        raise TransportError(f"chartmuseum {url} refused {fname} ({code}): {_short(text)}")
    return fname, code, url


def post_to_onboarder(onboarder_url: str, descriptor: str | Path, schema: str | Path | None,
                      *, dry_run: bool = False) -> tuple[int, str]:
    """``POST <onboarder>/api/v1/onboard`` ``{"config-file.json": ..., "controls-schema.json": ...}``.

    Raises
    ------
    TransportError
        the onboarder is unreachable or refuses the descriptor (400: its validation message).
    """
    body: dict[str, Any] = {"config-file.json": json.loads(Path(descriptor).read_text())}
    if schema is not None and Path(schema).is_file():
        body["controls-schema.json"] = json.loads(Path(schema).read_text())
    url = onboarder_url.rstrip("/") + "/api/v1/onboard"
    if dry_run:
        return 0, url
    code, text = http_call("POST", url, json.dumps(body).encode())
    if code not in (200, 201):
        raise TransportError(f"onboarder {url} refused {Path(descriptor).name} ({code}): {_short(text)}")
    return code, url
