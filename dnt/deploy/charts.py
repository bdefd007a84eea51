"""The Helm charts of ``helm/``: render, lint and check them offline with the real Helm engine.

Rendering and linting go through Helm v4's own Go code (``helm-python-sdk``, imported as
``helm_python``: ``libhelm_c`` over ctypes, no ``helm`` binary, no cluster); rendered manifests are
checked against the Kubernetes OpenAPI schemas that ``kubernetes-validate`` bundles (strict: unknown
fields are errors).

* :func:`render_chart` → the manifests of a release as dicts (values checked against the chart's
  ``values.schema.json`` first, with a message naming the bad key);
* :func:`check_values` → those schema messages without rendering;
* :func:`lint_chart` → ``helm lint`` messages, errors first;
* :func:`validate_manifests` → Kubernetes schema errors, each naming ``Kind/name`` and the field;
* :func:`check_all` → all of the above for every chart under ``helm/`` (what ``dntctl validate`` runs).

The charts link their dependencies (``charts/dnt-common -> ../../dnt-common``, the umbrella's
``charts/<app> -> ../../<app>``) so that a plain ``helm template helm/dnt-ric`` works without
``helm dependency build``. Helm logs a line for every link it follows; to keep output clean (and the
checks independent of the working tree changing under them) a chart is loaded from a copy with the links
resolved, cached until a file of the chart changes. A render then costs milliseconds.

    python -m dnt.deploy.charts [helm_dir]     # check every chart; exit status 1 on problems
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from dnt.errors import ConfigError

__all__ = ["DEFAULT_K8S_VERSION", "HELM_DIR", "chart_dirs", "render_chart", "check_values", "lint_chart",
           "validate_manifests", "check_all", "main"]

HELM_DIR = Path(__file__).resolve().parents[2] / "helm"
"""The repository's ``helm/`` directory."""
DEFAULT_K8S_VERSION = "1.30.0"
"""Kubernetes version the manifests are linted and validated for (the O-RAN SC K release runs on 1.2x–1.3x)."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: parsing dominates a render
_SEVERITY = {3: "ERROR", 2: "WARNING", 1: "INFO", 0: "UNKNOWN"}
_SCHEMA_LINE = re.compile(r"^- at '(?P<ptr>[^']*)': (?P<msg>.*)$")
_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[Any, ...], Path, Any]] = {}  # chart dir -> (fingerprint, resolved copy, Chart)
_workdir: list[Path] = []


def _helm() -> Any:
    try:
        import helm_python
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise ConfigError("the Helm SDK is not installed: pip install helm-python-sdk (imported as helm_python)") \
            from err
    return helm_python


def _fingerprint(chart_dir: Path) -> tuple[Any, ...]:
    """(path, mtime, size) of every file of the chart, links followed: changes when any file changes."""
    items: list[tuple[str, int, int]] = []
    for root, _dirs, files in os.walk(chart_dir, followlinks=True):
        for name in files:
            p = Path(root) / name
            try:
                st = p.stat()
            except OSError:
                continue
            items.append((str(p.relative_to(chart_dir)), st.st_mtime_ns, st.st_size))
    return tuple(sorted(items))


def _resolved(chart_dir: str | os.PathLike[str]) -> tuple[Path, Any]:
    """``(copy of the chart with links resolved, loaded helm_python.Chart)``, cached per chart and content."""
    src = Path(chart_dir).resolve()
    if not (src / "Chart.yaml").is_file():
        raise ConfigError(f"{src} is not a Helm chart (no Chart.yaml)")
    helm = _helm()
    with _lock:
        fp = _fingerprint(src)
        hit = _cache.get(src)
        if hit is not None and hit[0] == fp:
            return hit[1], hit[2]
        if not _workdir:
            _workdir.append(Path(tempfile.mkdtemp(prefix="dnt-charts-")))
            atexit.register(shutil.rmtree, _workdir[0], True)
        dest = Path(tempfile.mkdtemp(dir=_workdir[0])) / src.name
        shutil.copytree(src, dest, symlinks=False)
        try:
            chart = helm.Chart.load(dest)
        except helm.HelmError as err:
            raise ConfigError(f"{src.name}: Helm cannot load the chart: {err}") from err
        if hit is not None:
            hit[2].close()
            shutil.rmtree(hit[1].parent, ignore_errors=True)
        _cache[src] = (fp, dest, chart)
        return dest, chart


def chart_dirs(helm_dir: str | os.PathLike[str] = HELM_DIR) -> dict[str, Path]:
    """``{chart name: directory}`` of every chart directly under ``helm_dir`` (library charts included)."""
    out: dict[str, Path] = {}
    for chart_yaml in sorted(Path(helm_dir).glob("*/Chart.yaml")):
        meta = yaml.safe_load(chart_yaml.read_text()) or {}
        out[str(meta.get("name") or chart_yaml.parent.name)] = chart_yaml.parent
    return out


def _is_library(chart_dir: Path) -> bool:
    meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text()) or {}
    return meta.get("type") == "library"


def _key_of(pointer: str) -> str:
    """JSON pointer ``/rmr/routes/0/mtype`` → ``rmr.routes[0].mtype`` (``""`` → ``(top level)``)."""
    key = ""
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]:
        key += f"[{part}]" if part.isdigit() else (f".{part}" if key else part)
    return key or "(top level)"


def _schema_messages(root_chart: str, text: str) -> list[str]:
    """Helm's schema report → ``"<chart>: values key '<dotted key>': <why>"``, one per violation.

    A violation in a subchart's section names the key as the umbrella's values spell it
    (``kpimon.replicaCount``).
    """
    out: list[str] = []
    section = root_chart
    for raw in text.splitlines():
        line = raw.strip()
        m = _SCHEMA_LINE.match(line)
        if m:
            key = _key_of(m["ptr"])
            if section != root_chart:
                key = section if key == "(top level)" else f"{section}.{key}"
            out.append(f"{root_chart}: values key '{key}': {m['msg']}")
        elif line.endswith(":") and not line.startswith("values don't meet"):
            section = line[:-1]
    return out or [f"{root_chart}: {text.strip()}"]


def check_values(chart_dir: str | os.PathLike[str], values: Mapping[str, Any] | None = None) -> list[str]:
    """Check ``values`` (over the chart's defaults) against the chart's and its subcharts' ``values.schema.json``.

    Returns
    -------
    list of str
        One message per violation, e.g. ``"kpimon: values key 'replicaCount': got string, want integer"``;
        empty when the values are valid.
    """
    helm = _helm()
    _dest, chart = _resolved(chart_dir)
    try:
        chart.validate_schema(dict(values) if values is not None else None)
    except helm.HelmValuesError as err:
        return _schema_messages(chart.name, str(err))
    return []


def render_chart(chart_dir: str | os.PathLike[str], values: Mapping[str, Any] | None = None, release: str = "dnt",
                 namespace: str | None = None) -> list[dict[str, Any]]:
    """Render a chart offline (``helm template``) and parse the manifests.

    Parameters
    ----------
    chart_dir : path
        The chart directory (``helm/<name>``).
    values : mapping, optional
        Overrides of the chart's ``values.yaml`` (as ``-f``/``--set`` would give).
    release : str
        Release name.
    namespace : str, optional
        Release namespace (default ``default``); the DNT-RIC charts put their resources in the namespace
        their values name (``ricxapp``, ``nonrtric``, ``ricsim``) unless that value is ``""``.

    Returns
    -------
    list of dict
        Every non-empty manifest, in template-path order (``NOTES.txt`` excluded).

    Raises
    ------
    ConfigError
        The values break the chart's schema (the message names each bad key), a template fails (e.g. a
        ``required`` value is missing), or a rendered manifest is not a YAML mapping.
    """
    helm = _helm()
    dest, _cached = _resolved(chart_dir)
    problems = check_values(chart_dir, values)
    if problems:
        raise ConfigError("; ".join(problems))
    # a fresh Chart per render: Helm's render coalesces the values into the loaded chart in place, so a
    # cached Chart would carry one render's overrides (e.g. a disabled subchart) into the next
    chart = helm.Chart.load(dest)
    try:
        rendered: dict[str, str] = chart.render(dict(values) if values is not None else None, name=release,
                                                namespace=namespace)
    except helm.HelmError as err:
        raise ConfigError(f"{chart.name}: Helm cannot render the chart: {str(err).strip()}") from err
    finally:
        chart.close()
    docs: list[dict[str, Any]] = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        try:
            parsed = [d for d in yaml.load_all(rendered[path], Loader=_Loader) if d is not None]
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: rendered manifest is not YAML: {err}") from err
        for doc in parsed:
            if not isinstance(doc, dict):
                raise ConfigError(f"{path}: a rendered manifest is not a mapping: {doc!r:.80}")
            docs.append(doc)
    return docs


def lint_chart(chart_dir: str | os.PathLike[str], values: Mapping[str, Any] | None = None, *,
               k8s_version: str = DEFAULT_K8S_VERSION, strict: bool = False) -> list[str]:
    """``helm lint`` (subcharts included) → ``"[ERROR] templates/x.yaml: why"`` lines, errors first.

    INFO lines (e.g. "icon is recommended") are included; a chart is clean when no line starts with
    ``[ERROR]`` or ``[WARNING]``.
    """
    helm = _helm()
    dest, _chart = _resolved(chart_dir)
    report = helm.lint(dest, dict(values) if values is not None else None, strict=strict, with_subcharts=True,
                       kube_version=f"v{k8s_version.lstrip('v')}")
    msgs = sorted(report.get("messages") or [], key=lambda m: -int(m.get("severity", 0)))
    return [f"[{_SEVERITY.get(int(m.get('severity', 0)), 'UNKNOWN')}] {m.get('path', '')}: "
            f"{str(m.get('error', '')).strip()}" for m in msgs]


def _field(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


@functools.cache
def _k8s_schema_dir(k8s_version: str) -> str:
    """The bundled schema folder for ``k8s_version``: the newest bundled version not newer than it."""
    from kubernetes_validate.utils import all_versions

    want = tuple(int(x) for x in re.findall(r"\d+", k8s_version)[:2])
    usable = [v for v in all_versions() if tuple(int(x) for x in v.split(".")[:2]) <= want]
    if len(want) < 2 or not usable:
        raise ConfigError(f"kubernetes-validate bundles no schemas for Kubernetes {k8s_version!r} "
                          f"(it has {all_versions()[0]} .. {all_versions()[-1]})")
    return f"v{usable[-1]}-local-strict"


@functools.lru_cache(maxsize=256)
def _k8s_validator(schema_dir: str, kind: str, api_version: str) -> Any:
    """A cached validator of one kind (kubernetes-validate's schema files and resolution, loaded once)."""
    import jsonschema
    from kubernetes_validate.utils import schema_contents
    from referencing import Registry, Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", schema_dir)
    except FileNotFoundError:
        return None
    defs = schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate_manifests(docs: Sequence[Mapping[str, Any]], k8s_version: str = DEFAULT_K8S_VERSION) -> list[str]:
    """Validate manifests against the Kubernetes schemas of ``k8s_version`` (strict: unknown fields fail).

    The schemas are kubernetes-validate's bundled ones, resolved as ``kubernetes_validate.validate(doc,
    version, strict=True)`` does; each kind's validator is built once and every violation is reported.

    Returns
    -------
    list of str
        ``"Deployment/ricxapp-kpimon: spec.template.spec.containers[0].ports[0].containerPort: '8080' is not
        of type 'integer'"``-style messages; empty when every manifest is valid.

    Raises
    ------
    ConfigError
        No schemas are bundled for ``k8s_version``.
    """
    schema_dir = _k8s_schema_dir(k8s_version)
    out: list[str] = []
    for doc in docs:
        kind, name = doc.get("kind", "?"), (doc.get("metadata") or {}).get("name", "?")
        if not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
            out.append(f"{kind}/{name}: apiVersion and kind are required")
            continue
        validator = _k8s_validator(schema_dir, doc["kind"], doc["apiVersion"])
        if validator is None:
            out.append(f"{kind}/{name}: no Kubernetes {k8s_version} schema for {doc['apiVersion']} {kind}")
            continue
        for err in sorted(validator.iter_errors(dict(doc)), key=lambda e: _field(e.absolute_path)):
            out.append(f"{kind}/{name}: {_field(err.absolute_path)}: {err.message}")
    return out


def check_all(helm_dir: str | os.PathLike[str] = HELM_DIR, *,
              k8s_version: str = DEFAULT_K8S_VERSION) -> dict[str, list[str]]:
    """Lint, render and validate every chart under ``helm_dir``.

    Returns
    -------
    dict
        ``{chart name: problems}``: lint errors and warnings, values-schema or render failures, Kubernetes
        schema errors. An empty list means the chart is clean. Library charts are linted only.
    """
    results: dict[str, list[str]] = {}
    for name, path in chart_dirs(helm_dir).items():
        problems: list[str] = []
        try:
            problems += [m for m in lint_chart(path, k8s_version=k8s_version)
                         if m.startswith(("[ERROR]", "[WARNING]"))]
            if not _is_library(path):
                problems += validate_manifests(render_chart(path), k8s_version)
        except ConfigError as err:
            problems.append(str(err))
        results[name] = problems
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dnt.deploy.charts [helm_dir]``: print each chart's problems; 1 when there are any."""
    args = list(sys.argv[1:] if argv is None else argv)
    results = check_all(args[0] if args else HELM_DIR)
    for name, problems in results.items():
        print(f"{name}: {'ok' if not problems else 'FAIL'}")
        for p in problems:
            print(f"  {p}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
