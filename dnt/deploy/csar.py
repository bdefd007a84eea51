"""The vtwin rApp as a CSAR for the O-RAN SC Non-RT RIC rApp Manager.

Layout (``nonrtric-plt-rappmanager``: ``sample-rapp-generator/``, ``RappCsarPathProvider``, the CSAR
validators; oran-conventions.md §5.3)::

    TOSCA-Metadata/TOSCA.meta                 Entry-Definitions -> Definitions/asd.yaml
    asd.mf                                    metadata block + one "Source:" line per file
    Definitions/asd.yaml                      ASD: node template applicationServiceDescriptor (tosca.nodes.asd)
    Definitions/asd_types.yaml                the tosca.nodes.asd / tosca.artifacts.asd.deploymentItem types
    Artifacts/Deployment/HELM/<chart>-<ver>.tgz   the packaged Helm chart (a deploymentItem artifact)
    Files/Acm/definition/compositions.json    the ACM composition (a K8S participant element)
    Files/Acm/instances/k8s-instance.json     the ACM instance: which chart to install where

What the rApp Manager checks on ``POST /rapps/{id}``: the file name ends in ``.csar`` (``NamingValidator``);
``TOSCA-Metadata/TOSCA.meta`` and ``Files/Acm/definition/compositions.json`` exist
(``FileExistenceValidator``); ``Entry-Definitions`` names an ASD whose ``descriptor_id`` and
``descriptor_invariant_id`` no onboarded rApp already uses (``AsdDescriptorValidator``); every artifact
``file`` exists in the zip (``ArtifactDefinitionValidator``). On priming it POSTs each ``helm_chart``
artifact to its ``target_server_uri`` (chartmuseum), and on deploy the ACM K8S participant installs the
chart named in the instance. The placeholders ``UPDATE_THIS_CHART_MUSEUM_POST_CHARTS_URI``,
``UPDATE_THIS_CHART_MUSEUM_GET_CHARTS_URI``, ``DO_NOT_CHANGE_THIS_COMPOSITION_ID`` are filled in by the
rApp Manager.

The output is byte-for-byte reproducible: the descriptor ids are UUIDv5 of the name (and version), every
zip entry and tar member has a fixed time, owner and order, and gzip carries no timestamp; so the
package digest changes only when the content does.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dnt.errors import ConfigError, DataError

__all__ = ["build_rapp_csar", "package_chart", "stage_chart", "csar_digest", "DEFAULT_EPOCH_S", "ENTRY_DEFINITIONS",
           "COMPOSITION_PATH", "HELM_DIR"]

DEFAULT_EPOCH_S = 1_767_225_600
"""2026-01-01T00:00:00Z: the fixed time of every entry and of ``release_date_time`` unless one is given."""
ENTRY_DEFINITIONS = "Definitions/asd.yaml"
COMPOSITION_PATH = "Files/Acm/definition/compositions.json"
INSTANCE_PATH = "Files/Acm/instances/k8s-instance.json"
HELM_DIR = "Artifacts/Deployment/HELM"
_NS = uuid.UUID("5b7c9d0e-0d1a-4b8e-9a51-6f2f0c3e7a10")  # UUIDv5 namespace of DNT-RIC descriptors
_K8S_ELEMENT = "onap.policy.clamp.ac.element.K8S_StarterAutomationCompositionElement"
_K8S_ELEMENT_VERSION = "1.2.3"  # the version the OSC sample compositions give the K8S starter element


def _chart_meta(chart_dir: Path) -> dict[str, Any]:
    path = chart_dir / "Chart.yaml"
    try:
        meta = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"cannot read the chart: {err}", path=str(path)) from err
    if not isinstance(meta, dict) or not meta.get("name") or not meta.get("version"):
        raise DataError("Chart.yaml needs a name and a version", path=str(path))
    return meta


def _helmignore(chart_dir: Path) -> list[str]:
    f = chart_dir / ".helmignore"
    if not f.exists():
        return []
    return [ln.strip() for ln in f.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def _tar_fallback(chart_dir: Path, name: str, out: Path) -> None:
    """Tar the chart directory under a top folder ``name`` (used only when the Helm SDK is unavailable)."""
    patterns = _helmignore(chart_dir)
    with tarfile.open(out, "w:gz") as tar:
        for p in sorted(chart_dir.rglob("*")):
            rel = p.relative_to(chart_dir).as_posix()
            if p.is_dir() or any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(p.name, pat.rstrip("/"))
                                 for pat in patterns):
                continue
            tar.add(p, arcname=f"{name}/{rel}", recursive=False)


def _normalized_tgz(raw: bytes, epoch_s: int) -> bytes:
    """Rewrite a .tgz with fixed mtimes, owners and a timestamp-free gzip header (same members, same order)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as src, \
            gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            info = tarfile.TarInfo(m.name)
            info.type, info.size, info.linkname = m.type, m.size, m.linkname
            info.mode = 0o755 if m.isdir() else 0o644
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch_s, 0, 0, "", ""
            dst.addfile(info, src.extractfile(m) if m.isfile() else None)
    return out.getvalue()


def stage_chart(chart_dir: str | Path, dest: str | Path) -> Path:
    """Copy a chart to ``dest/<dir name>`` with its ``file://`` dependencies unpacked under ``charts/``.

    ``helm package`` and ``helm install`` need every dependency in ``charts/``; copying the local ones
    there (recursively, replacing whatever ``charts/`` held for them: a symlink, a stale .tgz) avoids
    ``helm dependency build`` writing into the source tree and keeps the package reproducible.

    Raises
    ------
    DataError
        a ``file://`` dependency does not exist.
    """
    src = Path(chart_dir).resolve()
    out = Path(dest) / src.name
    shutil.copytree(src, out, dirs_exist_ok=True)
    for dep in _chart_meta(src).get("dependencies") or []:
        repo = str(dep.get("repository") or "")
        if not repo.startswith("file://"):
            continue
        dep_dir = (src / repo[len("file://"):]).resolve()
        if not (dep_dir / "Chart.yaml").is_file():
            raise DataError(f"dependency {dep.get('name')} not found at {dep_dir}", path=str(src / "Chart.yaml"))
        charts = out / "charts"
        charts.mkdir(exist_ok=True)
        for old in [*charts.glob(f"{dep.get('name')}-*.tgz"), charts / str(dep.get("name"))]:
            if old.is_symlink() or old.is_file():
                old.unlink()
            elif old.is_dir():
                shutil.rmtree(old)
        staged = stage_chart(dep_dir, Path(dest) / ".deps" / src.name)
        shutil.copytree(staged, charts / str(dep.get("name")))
    return out


def package_chart(chart_dir: str | Path, epoch_s: int = DEFAULT_EPOCH_S) -> tuple[str, bytes]:
    """Package a chart directory: ``(file name "<name>-<version>.tgz", reproducible .tgz bytes)``.

    The Helm SDK (``helm_python.package``, i.e. ``helm package``: Chart.yaml checked, ``.helmignore``
    honoured) makes the archive; its members are then re-written with fixed times and owners.

    Raises
    ------
    DataError
        the directory is not a loadable chart.
    """
    chart_dir = Path(chart_dir)
    meta = _chart_meta(chart_dir)
    fname = f"{meta['name']}-{meta['version']}.tgz"
    with tempfile.TemporaryDirectory(prefix="dnt-chart-") as tmp:
        staged = stage_chart(chart_dir, Path(tmp) / "src")
        try:
            import helm_python

            path = Path(helm_python.package(staged, destination=tmp))
        except ImportError:
            path = Path(tmp) / fname
            _tar_fallback(staged, str(meta["name"]), path)
        except Exception as err:  # helm_python.HelmError and its subclasses
            raise DataError(f"helm package failed: {str(err).splitlines()[0]}", path=str(chart_dir)) from err
        raw = path.read_bytes()
    return fname, _normalized_tgz(raw, epoch_s)


def _asd(name: str, version: str, provider: str, description: str, chart_file: str) -> dict[str, Any]:
    props = {
        "descriptor_id": str(uuid.uuid5(_NS, f"{name}/{version}")),
        "descriptor_invariant_id": str(uuid.uuid5(_NS, name)),
        "descriptor_version": version,
        "schema_version": "2.0",
        "function_description": description,
        "provider": provider,
        "application_name": name,
        "application_version": version,
    }
    artifact = {
        "type": "tosca.artifacts.asd.deploymentItem",
        "file": chart_file,
        "properties": {"artifact_type": "helm_chart", "target_server": "chartmuseum",
                       "target_server_uri": "UPDATE_THIS_CHART_MUSEUM_POST_CHARTS_URI", "item_id": 1},
    }
    return {
        "tosca_definitions_version": "tosca_simple_yaml_1_2",
        "description": description,
        "imports": ["asd_types.yaml"],
        "topology_template": {"node_templates": {"applicationServiceDescriptor": {
            "type": "tosca.nodes.asd", "description": name, "properties": props,
            "artifacts": {name: artifact}}}},
    }


def _asd_types() -> dict[str, Any]:
    def prop(desc: str, required: bool = True) -> dict[str, Any]:
        return {"type": "string", "required": required, "description": desc}

    return {
        "tosca_definitions_version": "tosca_simple_yaml_1_2",
        "description": "Application Service Descriptor (ASD) types used by this package",
        "node_types": {"tosca.nodes.asd": {
            "derived_from": "tosca.nodes.Root", "version": "0.1", "description": "An ASD",
            "properties": {
                "descriptor_id": prop("UUID (RFC 4122) of this ASD version"),
                "descriptor_invariant_id": prop("UUID of the ASD across its versions"),
                "descriptor_version": prop("version of the ASD"),
                "schema_version": prop("version of the ASD schema"),
                "function_description": prop("what the application does", required=False),
                "provider": prop("who provides the ASD"),
                "application_name": prop("name of the application"),
                "application_version": prop("version of the application"),
            }}},
        "artifact_types": {"tosca.artifacts.asd.deploymentItem": {
            "derived_from": "tosca.artifacts.Root", "version": "0.1",
            "description": "A deployment item (a Helm chart) of an ASD; file = its path in the package",
            "properties": {
                "item_id": {"type": "string", "required": True, "description": "id of the deployment item"},
                "artifact_type": {"type": "string", "required": True, "description": "kind of artifact",
                                  "constraints": [{"valid_values": ["helm_chart"]}]},
            }}},
    }


def _compositions() -> dict[str, Any]:
    """An ACM composition with one K8S microservice element (what the rApp Manager primes in ACM)."""
    ident = {"type": "onap.datatypes.ToscaConceptIdentifier", "required": True}
    timeout = {"type": "integer", "required": False, "default": 60, "metadata": {"common": True},
               "constraints": [{"greater_or_equal": 0}]}
    return {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "data_types": {"onap.datatypes.ToscaConceptIdentifier": {
            "derived_from": "tosca.datatypes.Root",
            "properties": {"name": {"type": "string", "required": True},
                           "version": {"type": "string", "required": True}}}},
        "node_types": {
            "org.onap.policy.clamp.acm.Participant": {
                "version": "1.0.1", "derived_from": "tosca.nodetypes.Root",
                "properties": {"provider": {"type": "string", "required": False}}},
            "org.onap.policy.clamp.acm.AutomationCompositionElement": {
                "version": "1.0.1", "derived_from": "tosca.nodetypes.Root",
                "properties": {
                    "provider": {"type": "string", "required": False},
                    "participantType": ident,
                    "startPhase": {"type": "integer", "required": False, "metadata": {"common": True},
                                   "constraints": [{"greater_or_equal": 0}],
                                   "description": "phase in which the element starts (0 first)"},
                    "passiveToRunningTimeout": timeout,
                    "runningToPassiveTimeout": timeout,
                    "passiveToUninitializedTimeout": timeout}},
            "org.onap.policy.clamp.acm.AutomationComposition": {
                "version": "1.0.1", "derived_from": "tosca.nodetypes.Root",
                "properties": {
                    "provider": {"type": "string", "required": False, "metadata": {"common": True}},
                    "elements": {"type": "list", "required": True, "metadata": {"common": True},
                                 "entry_schema": {"type": "onap.datatypes.ToscaConceptIdentifier"}}}},
            "org.onap.policy.clamp.acm.K8SMicroserviceAutomationCompositionElement": {
                "version": "1.0.0", "derived_from": "org.onap.policy.clamp.acm.AutomationCompositionElement",
                "properties": {"chart": {"type": "string", "required": True},
                               "configs": {"type": "list", "required": False},
                               "requirements": {"type": "string", "required": False},
                               "templates": {"type": "list", "required": False, "entry_schema": None},
                               "values": {"type": "string", "required": True}}},
        },
        "topology_template": {"node_templates": {
            "org.onap.k8s.acm.K8SAutomationCompositionParticipant": {
                "version": "2.3.4", "type": "org.onap.policy.clamp.acm.Participant", "type_version": "1.0.1",
                "description": "Participant for K8S", "properties": {"provider": "ONAP"}},
            _K8S_ELEMENT: {
                "version": _K8S_ELEMENT_VERSION,
                "type": "org.onap.policy.clamp.acm.K8SMicroserviceAutomationCompositionElement",
                "type_version": "1.0.0", "description": "Installs the rApp's Helm chart",
                "properties": {"provider": "ONAP", "startPhase": 0, "uninitializedToPassiveTimeout": 300,
                               "podStatusCheckInterval": 30}},
            "onap.policy.clamp.ac.element.AutomationCompositionDefinition": {
                "version": "1.2.3", "type": "org.onap.policy.clamp.acm.AutomationComposition",
                "type_version": "1.0.1", "description": "Automation composition of the rApp deployment",
                "properties": {"provider": "ONAP",
                               "elements": [{"name": _K8S_ELEMENT, "version": _K8S_ELEMENT_VERSION}]}},
        }},
    }


def _instance(name: str, chart: Mapping[str, Any], namespace: str,
              override_params: Mapping[str, Any]) -> dict[str, Any]:
    element_id = str(uuid.uuid5(_NS, f"{name}/k8s-element"))
    chart_props: dict[str, Any] = {
        "chartId": {"name": str(chart["name"]), "version": str(chart["version"])},
        "namespace": namespace, "releaseName": name, "podName": name,
        "repository": {"repoName": "local", "address": "UPDATE_THIS_CHART_MUSEUM_GET_CHARTS_URI"},
    }
    if override_params:
        chart_props["overrideParams"] = dict(override_params)
    return {
        "name": f"{name}-k8s", "version": "1.0.1", "compositionId": "DO_NOT_CHANGE_THIS_COMPOSITION_ID",
        "description": f"{name}: the Helm chart {chart['name']} {chart['version']} in namespace {namespace}",
        "elements": {element_id: {
            "id": element_id, "definition": {"name": _K8S_ELEMENT, "version": _K8S_ELEMENT_VERSION},
            "description": f"installs {chart['name']}", "properties": {"chart": chart_props}}},
    }


def _zip_bytes(files: Mapping[str, bytes], epoch_s: int) -> bytes:
    when = dt.datetime.fromtimestamp(max(epoch_s, 315_532_800), tz=dt.UTC).timetuple()[:6]  # zip: >= 1980
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, whatever the building OS
            zf.writestr(info, files[path])
    return buf.getvalue()


def build_rapp_csar(chart_dir: str | Path, out_dir: str | Path, name: str = "dnt-vtwin",
                    version: str | None = None, *, provider: str = "DNT-RIC",
                    description: str = "DNT-RIC vtwin rApp: V-twin creation, model registry, dnt-twin A1 policy",
                    namespace: str = "nonrtric", override_params: Mapping[str, Any] | None = None,
                    epoch_s: int = DEFAULT_EPOCH_S) -> Path:
    """Build ``<out_dir>/<name>-<version>.csar`` from a Helm chart directory; return its path.

    Parameters
    ----------
    chart_dir : the rApp's chart (``helm/vtwin``); packaged into ``Artifacts/Deployment/HELM``.
    out_dir : created when missing.
    name : the rApp (``application_name``, the ACM release and pod name); a DNS label.
    version : ``application_version`` / ``descriptor_version``; default the chart's ``version``.
    provider, description : ASD properties.
    namespace : where the ACM K8S participant installs the chart (the Non-RT RIC's ``nonrtric``).
    override_params : Helm values the ACM instance sets (``overrideParams``), e.g. ``{"a1.url": ...}``.
    epoch_s : the time stamped on every entry and in ``asd.mf`` (``SOURCE_DATE_EPOCH``).

    Raises
    ------
    ConfigError
        ``name`` is not a DNS label.
    DataError
        the chart cannot be read or packaged.
    """
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?", name):
        raise ConfigError(f"rApp name {name!r} must be a lower-case DNS label (a-z, 0-9, '-', at most 53)")
    chart_dir = Path(chart_dir)
    if not chart_dir.is_dir():
        raise DataError(f"no chart directory at {chart_dir}")
    chart = _chart_meta(chart_dir)
    version = str(version or chart["version"])
    tgz_name, tgz = package_chart(chart_dir, epoch_s)
    chart_file = f"{HELM_DIR}/{tgz_name}"

    def dump_yaml(doc: Any) -> bytes:
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120).encode()

    def dump_json(doc: Any) -> bytes:
        return (json.dumps(doc, indent=2) + "\n").encode()

    files: dict[str, bytes] = {
        "TOSCA-Metadata/TOSCA.meta": (
            "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.0\nCreated-By: DNT-RIC dntctl\n"
            f"Entry-Definitions: {ENTRY_DEFINITIONS}\nETSI-Entry-Manifest: asd.mf\n").encode(),
        ENTRY_DEFINITIONS: dump_yaml(_asd(name, version, provider, description, chart_file)),
        "Definitions/asd_types.yaml": dump_yaml(_asd_types()),
        chart_file: tgz,
        COMPOSITION_PATH: dump_json(_compositions()),
        INSTANCE_PATH: dump_json(_instance(name, chart, namespace, override_params or {})),
    }
    released = dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC).isoformat()
    manifest = (f"metadata:\n  application_name: {name}\n  application_provider: {provider}\n"
                f"  release_date_time: {released}\n  entry_definition_type: asd\n\n")
    manifest += "".join(f"Source: {p}\n" for p in sorted([*files, "asd.mf"]))
    files["asd.mf"] = manifest.encode()

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{version}.csar"
    path.write_bytes(_zip_bytes(files, epoch_s))
    return path


def csar_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a package file."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
