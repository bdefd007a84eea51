"""Cluster operations behind ``dntctl deploy | undeploy | status``: the Kubernetes client and the Helm SDK.

:func:`deploy_targets` picks what to install from ``helm/`` (one chart, or the umbrella for ``all``);
:func:`merge_values` applies ``-f`` / ``--set``; :func:`prepare_release` stages the chart with its local
dependencies, checks the values and renders it offline, so bad values fail before the cluster is touched.

:class:`Cluster` connects once (kubeconfig, else the pod's service account) and checks that the API
server answers, so every later failure is about the operation, not the connection. Releases are
installed or upgraded from a chart directory with the Helm v4 SDK (``helm_python``: no ``helm``
binary); rollouts are awaited by polling the release's Deployments / StatefulSets / DaemonSets; each
pod's ``httpGet`` liveness / readiness probes (the xApps' ``/ric/v1/health/alive|ready``) are called
through the API server's pod proxy (``GET /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/<path>``), so
no port-forward is needed. ``KUBECONFIG`` is read here, as kubectl and Helm read it.

Every failure raises a :class:`~dnt.errors.DntError` with a one-line message (the SDKs' multi-line
messages are cut to their first line).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dnt.errors import ConfigError, DataError, DntError, TransportError

__all__ = ["Cluster", "PodInfo", "NO_CLUSTER", "workloads_in", "namespaces_in", "first_line", "find_charts",
           "deploy_targets", "merge_values", "prepare_release"]

log = logging.getLogger(__name__)

NO_CLUSTER = ("no Kubernetes cluster reachable (no kubeconfig at ~/.kube/config and not in a pod): "
              "set KUBECONFIG or run inside the cluster")
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
_PROBE_TIMEOUT_S = 5.0


def first_line(err: BaseException | str) -> str:
    """The first non-empty line of an error message (SDK errors carry headers and bodies)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _api_reason(err: Any) -> str:
    """``ApiException`` → ``"403 Forbidden: <the Status message>"``."""
    status, reason, body = getattr(err, "status", None), getattr(err, "reason", None), getattr(err, "body", None)
    message = ""
    if body:
        try:
            message = json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            message = first_line(body if isinstance(body, str) else body.decode(errors="replace"))
    return f"{status} {reason}" + (f": {message}" if message else "")


def workloads_in(manifest: str, namespace: str) -> list[tuple[str, str, str]]:
    """``(kind, name, namespace)`` of every Deployment / StatefulSet / DaemonSet in a rendered manifest.

    DNT-RIC charts put their resources in ``.Values.namespace`` (``ricxapp``, ``nonrtric``, ``ricsim``),
    which may differ from the release's ``namespace`` (used when a resource names none).
    """
    out = []
    for doc in yaml.safe_load_all(manifest or ""):
        if isinstance(doc, dict) and doc.get("kind") in _WORKLOAD_KINDS:
            meta = doc.get("metadata") or {}
            out.append((str(doc["kind"]), str(meta.get("name")), str(meta.get("namespace") or namespace)))
    return out


def namespaces_in(manifest: str) -> set[str]:
    """The namespaces the resources of a rendered manifest name explicitly."""
    return {str(d["metadata"]["namespace"]) for d in yaml.safe_load_all(manifest or "")
            if isinstance(d, dict) and isinstance(d.get("metadata"), dict) and d["metadata"].get("namespace")}


def find_charts(helm_dir: str | Path) -> tuple[dict[str, Path], list[str]]:
    """``({name: dir} of deployable charts, umbrella chart names)`` under ``helm/`` (library charts skipped).

    An umbrella is an application chart that depends on other charts of ``helm/`` through ``file://``
    (library dependencies such as ``dnt-common`` do not count).
    """
    found: dict[str, Path] = {}
    meta: dict[str, dict[str, Any]] = {}
    for chart_yaml in sorted(Path(helm_dir).glob("*/Chart.yaml")):
        try:
            m = yaml.safe_load(chart_yaml.read_text()) or {}
        except yaml.YAMLError as err:
            raise DataError(f"not YAML: {err}", path=str(chart_yaml)) from err
        if m.get("type") == "library":
            continue
        found[chart_yaml.parent.name] = chart_yaml.parent
        meta[chart_yaml.parent.name] = m
    umbrellas = [n for n, m in meta.items() if any(
        str(d.get("repository", "")).startswith("file://") and d.get("name") in found
        for d in m.get("dependencies") or [])]
    return found, umbrellas


def deploy_targets(helm_dir: str | Path, name: str) -> list[tuple[str, Path]]:
    """``[(release name, chart dir)]`` for ``dntctl deploy <name>``: one chart, or for ``all`` the umbrella
    chart when there is exactly one, else every deployable chart.

    Raises
    ------
    ConfigError
        no such chart; the message lists the known ones.
    """
    helm_dir = Path(helm_dir)
    charts, umbrellas = find_charts(helm_dir)
    if not charts:
        raise ConfigError(f"no Helm charts under {helm_dir}")
    if name == "all":
        if len(umbrellas) == 1:
            return [(umbrellas[0], charts[umbrellas[0]])]
        return [(n, p) for n, p in charts.items() if n not in umbrellas]
    if name not in charts:
        raise ConfigError(f"no chart {name!r} under {helm_dir}; known: {', '.join(sorted(charts))}, all")
    return [(name, charts[name])]


def merge_values(files: Sequence[str | Path], sets: Sequence[str]) -> dict[str, Any]:
    """Helm's ``-f FILE`` (in order, deep-merged) then ``--set k=v`` (Helm's syntax, via the SDK).

    Raises
    ------
    ConfigError
        a values file is unreadable or not a mapping, or a ``--set`` expression is malformed.
    """
    values: dict[str, Any] = {}

    def merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
        for k, v in src.items():
            if isinstance(v, dict) and isinstance(dst.get(k), dict):
                merge(dst[k], v)
            else:
                dst[k] = v

    for f in files:
        try:
            doc = yaml.safe_load(Path(f).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"--values {f}: {err}") from err
        if not isinstance(doc, dict):
            raise ConfigError(f"--values {f}: a values file is a YAML mapping")
        merge(values, doc)
    if sets:
        import helm_python

        for expr in sets:
            try:
                merge(values, helm_python.parse_set_string(expr))
            except helm_python.HelmError as err:
                raise ConfigError(f"--set {expr!r}: {str(err).splitlines()[0]}") from err
    return values


def prepare_release(chart_dir: Path, tmp: str, release: str, namespace: str,
                    values: dict[str, Any]) -> tuple[Path, set[str]]:
    """Stage the chart, check the values and render it offline: ``(staged chart, namespaces it writes to)``.

    Bad values fail here, with the key named, before anything touches the cluster. The render uses a
    freshly loaded copy of exactly what is installed (a cached chart can keep values of an earlier render).
    """
    import helm_python

    from dnt.deploy.charts import check_values
    from dnt.deploy.csar import stage_chart

    problems = check_values(chart_dir, values)
    if problems:
        raise ConfigError("; ".join(problems))
    staged = stage_chart(chart_dir, tmp)
    try:
        with helm_python.Chart.load(staged) as chart:
            rendered = chart.render(values, name=release, namespace=namespace)
    except helm_python.HelmError as err:
        raise ConfigError(f"{chart_dir.name}: Helm cannot render the chart: {str(err).strip().splitlines()[0]}") \
            from err
    found = set()
    for path, text in rendered.items():
        if not path.endswith("NOTES.txt"):
            found |= {str(d["metadata"]["namespace"]) for d in yaml.safe_load_all(text)
                      if isinstance(d, dict) and isinstance(d.get("metadata"), dict) and d["metadata"].get("namespace")}
    return staged, found


@dataclass(frozen=True)
class PodInfo:
    """One pod: phase, ready containers, restarts, the reason it is not running (if any), and its HTTP probes.

    ``probes`` are the containers' liveness / readiness ``httpGet`` probes as ``(kind, port, path)``
    (``kind`` is ``alive`` or ``ready``): what ``dntctl status`` calls through the pod proxy.
    """

    name: str
    phase: str
    ready: str
    restarts: int
    reason: str
    probes: tuple[tuple[str, int, str], ...] = ()


class Cluster:
    """A connection to one cluster (Kubernetes client + Helm SDK config).

    Parameters
    ----------
    kubeconfig : a kubeconfig file; default ``$KUBECONFIG``, then ``~/.kube/config``, then in-cluster.
    context : a kubeconfig context (default: the current one).

    Raises
    ------
    ConfigError
        no kubeconfig and not in a pod, or the kubeconfig is unusable.
    TransportError
        the API server does not answer.
    """

    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
        default = Path.home() / ".kube" / "config"
        self.kubeconfig: str | None = None
        try:
            if path is not None:
                if not Path(path).is_file() or Path(path).stat().st_size == 0:
                    where = "--kubeconfig" if kubeconfig else "KUBECONFIG"
                    raise ConfigError(f"no Kubernetes cluster reachable ({where}={path} is missing or empty): "
                                      "point it at a kubeconfig or run inside the cluster")
                config.load_kube_config(config_file=path, context=context)
                self.kubeconfig = path
            elif default.is_file():
                config.load_kube_config(config_file=str(default), context=context)
                self.kubeconfig = str(default)
            elif os.environ.get("KUBERNETES_SERVICE_HOST"):
                config.load_incluster_config()
            else:
                raise ConfigError(NO_CLUSTER)
        except ConfigException as err:
            raise ConfigError(f"unusable kubeconfig {self.kubeconfig or path or '(in-cluster)'}: "
                              f"{first_line(err)}") from err
        self.context = context
        self.api = client.ApiClient()
        # the pod proxy's path parameter holds slashes (ric/v1/health/ready): send them as such, not %2F
        # (object names cannot contain '/', so no other path parameter changes)
        self.api.configuration.safe_chars_for_path_param = "/"
        self.server = str(self.api.configuration.host)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        try:  # raw: the generated model rejects version answers that omit a field (some distributions do)
            raw = client.VersionApi(self.api).get_code(_request_timeout=_PROBE_TIMEOUT_S, _preload_content=False)
            status, body = int(getattr(raw, "status", 200)), raw.read()
        except Exception as err:  # urllib3 MaxRetryError / ApiException / ssl errors
            raise TransportError(f"Kubernetes API server {self.server} unreachable: {self._why(err)}") from err
        if status != 200:
            raise TransportError(f"Kubernetes API server {self.server} answered {status} to GET /version")
        try:
            self.version = str(json.loads(body).get("gitVersion", "?"))
        except (ValueError, AttributeError):
            self.version = "?"

    @staticmethod
    def _why(err: BaseException) -> str:
        if hasattr(err, "status") and hasattr(err, "reason"):
            return _api_reason(err)
        reason = getattr(err, "reason", None)  # urllib3 MaxRetryError wraps the socket error
        return first_line(reason if reason is not None else err)

    # -- Helm ----------------------------------------------------------------------------------------------
    def helm(self, namespace: str) -> Any:
        """A ``helm_python.Config`` for ``namespace`` on this cluster (release storage: Secrets)."""
        import helm_python

        return helm_python.Config(kubeconfig_path=self.kubeconfig, kube_context=self.context, namespace=namespace)

    def install_or_upgrade(self, chart_dir: str | Path, release: str, namespace: str,
                           values: Mapping[str, Any] | None = None, timeout_s: int = 300) -> dict[str, Any]:
        """``helm upgrade --install``: install ``chart_dir`` as ``release`` (or upgrade it); the release summary."""
        import helm_python

        with self.helm(namespace) as cfg:
            try:
                try:
                    cfg.status(release)
                    exists = True
                except helm_python.HelmNotFoundError:
                    exists = False
                if exists:
                    return dict(cfg.upgrade(chart_dir, release, dict(values or {}), namespace=namespace,
                                            timeout=timeout_s))
                return dict(cfg.install(chart_dir, release, dict(values or {}), namespace=namespace,
                                        timeout=timeout_s, create_namespace=True))
            except helm_python.HelmError as err:
                verb = "upgrade" if exists else "install"
                raise DntError(f"helm {verb} of {release} in {namespace} failed: {first_line(err)}") from err

    def uninstall(self, release: str, namespace: str, timeout_s: int = 300) -> bool:
        """``helm uninstall``; False when there was no such release."""
        import helm_python

        with self.helm(namespace) as cfg:
            try:
                cfg.uninstall(release, timeout=timeout_s)
                return True
            except helm_python.HelmNotFoundError:
                return False
            except helm_python.HelmError as err:
                raise DntError(f"helm uninstall of {release} in {namespace} failed: {first_line(err)}") from err

    def releases(self, namespace: str) -> list[dict[str, Any]]:
        """Every Helm release in ``namespace`` (all states), each with its rendered manifest."""
        import helm_python

        with self.helm(namespace) as cfg:
            try:
                out = []
                for r in cfg.list(all_states=True):  # summaries: name, namespace, revision, status, chart_name, ...
                    full = dict(cfg.status(r["name"]))
                    out.append({**dict(r), "manifest": full.get("manifest", "")})
                return out
            except helm_python.HelmError as err:
                raise DntError(f"cannot list Helm releases in {namespace}: {first_line(err)}") from err

    # -- workloads and pods --------------------------------------------------------------------------------
    def _read(self, kind: str, name: str, namespace: str) -> Any:
        read = {"Deployment": self.apps.read_namespaced_deployment_status,
                "StatefulSet": self.apps.read_namespaced_stateful_set_status,
                "DaemonSet": self.apps.read_namespaced_daemon_set_status}[kind]
        try:
            return read(name, namespace, _request_timeout=_PROBE_TIMEOUT_S)
        except Exception as err:
            raise TransportError(f"cannot read {kind} {namespace}/{name}: {self._why(err)}") from err

    @staticmethod
    def _rolled_out(kind: str, obj: Any) -> tuple[bool, str]:
        st = obj.status
        if kind == "DaemonSet":
            want, ready = st.desired_number_scheduled or 0, st.number_ready or 0
        else:
            want, ready = obj.spec.replicas if obj.spec.replicas is not None else 1, st.ready_replicas or 0
        updated = st.updated_replicas if kind != "DaemonSet" else st.updated_number_scheduled
        current = (st.observed_generation or 0) >= (obj.metadata.generation or 0)
        return current and ready >= want and (updated or 0) >= want, f"{ready}/{want} ready"

    def selector(self, kind: str, name: str, namespace: str) -> str:
        """The label selector of a workload's pods (``k=v,k2=v2``)."""
        labels = self._read(kind, name, namespace).spec.selector.match_labels or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def wait_rollout(self, workloads: list[tuple[str, str, str]], timeout_s: float = 300.0,
                     poll_s: float | None = None) -> None:
        """Wait until every workload has all replicas updated and ready.

        Raises
        ------
        DntError
            not rolled out within ``timeout_s``; the message names the workload and why its pods wait.
        """
        deadline = time.monotonic() + timeout_s
        poll_s = poll_s if poll_s is not None else min(2.0, max(0.05, timeout_s / 20))
        pending = list(workloads)
        while pending:
            still = []
            for kind, name, ns in pending:
                done, detail = self._rolled_out(kind, self._read(kind, name, ns))
                if not done:
                    still.append((kind, name, ns, detail))
            if not still:
                return
            if time.monotonic() > deadline:
                kind, name, ns, detail = still[0]
                why = [p.reason for p in self.pods(ns, self.selector(kind, name, ns)) if p.reason]
                raise DntError(f"{kind} {ns}/{name} not rolled out after {timeout_s:g} s ({detail}"
                               + (f"; pods: {', '.join(sorted(set(why)))}" if why else "") + ")")
            pending = [(k, n, ns) for k, n, ns, _ in still]
            time.sleep(poll_s)  # polling the API server, bounded by the deadline

    def pods(self, namespace: str, selector: str = "") -> list[PodInfo]:
        """The pods matching ``selector`` with phase, readiness, restarts and a waiting/terminated reason."""
        try:
            items = self.core.list_namespaced_pod(namespace, label_selector=selector or None,
                                                  _request_timeout=_PROBE_TIMEOUT_S).items
        except Exception as err:
            raise TransportError(f"cannot list pods in {namespace}: {self._why(err)}") from err
        return [self._pod_info(p) for p in items]

    @staticmethod
    def _pod_info(pod: Any) -> PodInfo:
        statuses = pod.status.container_statuses or []
        ready = sum(1 for c in statuses if c.ready)
        restarts = sum(c.restart_count or 0 for c in statuses)
        reason = ""
        for c in statuses:
            state = c.state
            if state is not None and state.waiting is not None and state.waiting.reason:
                reason = state.waiting.reason
            elif state is not None and state.terminated is not None and state.terminated.reason:
                reason = state.terminated.reason
        probes = []
        for c in pod.spec.containers or []:
            named = {p.name: int(p.container_port) for p in c.ports or [] if p.name}
            for kind, probe in (("alive", c.liveness_probe), ("ready", c.readiness_probe)):
                get = getattr(probe, "http_get", None)
                if get is None:
                    continue
                port = get.port if isinstance(get.port, int) or not str(get.port).isdigit() else int(get.port)
                port = named.get(port, port) if isinstance(port, str) else port
                if isinstance(port, int):
                    probes.append((kind, port, str(get.path or "/")))
        return PodInfo(pod.metadata.name, str(pod.status.phase), f"{ready}/{len(pod.spec.containers or [])}",
                       restarts, reason, tuple(probes))

    def probe(self, namespace: str, pod: str, port: int, path: str) -> tuple[bool, str]:
        """``GET`` ``path`` on ``pod:port`` through the API server's pod proxy: ``(ok, short detail)``."""
        try:
            self.core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:{port}", namespace, path.lstrip("/"),
                                                                  _request_timeout=_PROBE_TIMEOUT_S)
            return True, "200"
        except Exception as err:
            status = getattr(err, "status", None)
            return False, str(status) if status else first_line(self._why(err))

    def release_pods(self, manifest: str, namespace: str) -> Iterator[tuple[str, str, PodInfo]]:
        """``(namespace, workload, pod)`` for every pod of every workload in a release manifest."""
        for kind, name, ns in workloads_in(manifest, namespace):
            for pod in self.pods(ns, self.selector(kind, name, ns)):
                yield ns, f"{kind}/{name}", pod

    def ensure_namespace(self, namespace: str) -> bool:
        """Create ``namespace`` when it does not exist; True when it was created."""
        from kubernetes import client

        try:
            self.core.read_namespace(namespace, _request_timeout=_PROBE_TIMEOUT_S)
            return False
        except Exception as err:
            if getattr(err, "status", None) != 404:
                raise TransportError(f"cannot read namespace {namespace}: {self._why(err)}") from err
        try:
            self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)),
                                       _request_timeout=_PROBE_TIMEOUT_S)
        except Exception as err:
            raise TransportError(f"cannot create namespace {namespace}: {self._why(err)}") from err
        return True
