"""``dntctl``: validate on the repository, clean one-line failures, A1 and chartmuseum over real HTTP.

The A1 mediator and chartmuseum here are small ``http.server`` threads on 127.0.0.1 that answer as the
OSC ones do (A1-P v2 codes from ``ric-plt-a1: api/swagger.yaml``; chartmuseum ``POST /api/charts`` 201 /
409). Commands whose exit path matters (no cluster, bad arguments, exec of the simulator) run as real
subprocesses of the installed console entry point's module.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fake_kube import FakeKube

from dnt.deploy.a1rest import check_policy_type
from dnt.deploy.ctl import main, sim_command
from dnt.deploy.k8s import deploy_targets, find_charts
from dnt.deploy.onboard import dms_cli_command
from dnt.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
TWIN_TYPE = REPO / "schemas" / "a1" / "dnt-twin.json"
TWIN_POLICY = {"model_version": 3, "model_digest": "ab" * 32, "aggregation_rule": "median", "update_cadence_s": 10}


def dntctl(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dnt.deploy.ctl", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60, check=False)


def assert_one_clear_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("dntctl"), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- a tiny A1 mediator (A1-P v2) and chartmuseum ---------------------------------------------------------
class _Server:
    def __init__(self, routes: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _do(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                code, out = routes(self.command, self.path, body)
                data = b"" if out is None else json.dumps(out).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _do  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class A1Mediator:
    """Types and instances in memory; the mediator's status codes and create_schema validation."""

    def __init__(self) -> None:
        self.types: dict[int, dict[str, Any]] = {}
        self.instances: dict[tuple[int, str], dict[str, Any]] = {}

    def __call__(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        m = re.fullmatch(r"/A1-P/v2/policytypes(?:/(\d+))?(?:/policies(?:/([^/]+))?)?(/status)?", path)
        if m is None:
            return 404, {"error": f"no route {path}"}
        tid, pid, status = int(m[1]) if m[1] else None, m[2], m[3]
        body = json.loads(raw) if raw else None
        if tid is None:
            return 200, sorted(self.types)
        if "/policies" not in path:
            if method == "GET":
                return (200, self.types[tid]) if tid in self.types else (404, None)
            if method == "PUT":
                if tid in self.types or set(body) != {"name", "description", "policy_type_id", "create_schema"}:
                    return 400, {"error": "policy type exists or the body is malformed"}
                self.types[tid] = body
                return 201, None
            if any(t == tid for t, _ in self.instances):
                return 400, {"error": f"policy type {tid} still has instances"}
            return (204, None) if self.types.pop(tid, None) else (404, None)
        if tid not in self.types:
            return 404, {"error": f"policy type {tid} not found"}
        if pid is None:
            return 200, sorted(p for t, p in self.instances if t == tid)
        if status:
            return (200, {"enforceStatus": "ENFORCED"}) if (tid, pid) in self.instances else (404, None)
        if method == "PUT":
            error = jsonschema.exceptions.best_match(
                jsonschema.Draft7Validator(self.types[tid]["create_schema"]).iter_errors(body))
            if error is not None:
                return 400, {"error": error.message}
            self.instances[(tid, pid)] = body
            return 202, None
        if method == "GET":
            return (200, self.instances[(tid, pid)]) if (tid, pid) in self.instances else (404, None)
        return (202, None) if self.instances.pop((tid, pid), None) else (404, None)


@pytest.fixture
def a1() -> Iterator[tuple[A1Mediator, str]]:
    mediator = A1Mediator()
    server = _Server(mediator)
    yield mediator, server.url
    server.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- validate -----------------------------------------------------------------------------------------------
def test_validate_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--repo", str(REPO), "--json")

    rows = json.loads(out)
    failed = [r for r in rows if r["result"] == "FAIL"]
    assert code == 0, failed
    checks = {r["check"] for r in rows}
    assert {"descriptor", "a1 policy type"} <= checks
    assert {r["item"] for r in rows if r["check"] == "a1 policy type"} >= {"dnt-twin.json", "dnt-rrm.json"}
    assert {"kpimon", "htwin", "aggregator", "rrm"} <= {r["item"] for r in rows if r["check"] == "descriptor"}


def test_validate_reports_a_broken_policy_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "schemas" / "a1").mkdir(parents=True)
    (tmp_path / "schemas" / "a1" / "bad.json").write_text(json.dumps(
        {"name": "bad", "description": "x", "policy_type_id": "7", "create_schema": {"type": 3}}))
    (tmp_path / "helm").mkdir()

    code, out, _ = run(capsys, "validate", "--repo", str(tmp_path))

    assert code == 1
    assert "FAIL" in out and "bad.json" in out


def test_check_policy_type(tmp_path: Path) -> None:
    assert check_policy_type(TWIN_TYPE) == []
    body = json.loads(TWIN_TYPE.read_text())
    f = tmp_path / "t.json"
    for change, needle in (({"policy_type_id": 0}, "1..2147483647"), ({"policy_type_id": True}, "integer"),
                           ({"extra": 1}, "unexpected extra"), ({"name": ""}, "name"),
                           ({"create_schema": {"type": "nope"}}, "not a valid draft-07"),
                           ({"create_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema"}},
                            "draft-07")):
        f.write_text(json.dumps({**body, **change}))
        errors = check_policy_type(f)
        assert errors and needle in " ".join(errors), (change, errors)
    f.write_text("{not json")
    assert "not JSON" in check_policy_type(f)[0]


# -- deploy without a cluster ---------------------------------------------------------------------------
@pytest.mark.parametrize("kubeconfig", ["missing", "empty", "unset"])
def test_deploy_without_a_cluster_is_one_clear_line(tmp_path: Path, kubeconfig: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env["HOME"] = str(tmp_path)  # no ~/.kube/config
    env.pop("KUBECONFIG", None)
    if kubeconfig == "missing":
        env["KUBECONFIG"] = str(tmp_path / "nowhere" / "config")
    elif kubeconfig == "empty":
        (tmp_path / "config").write_text("")
        env["KUBECONFIG"] = str(tmp_path / "config")

    proc = dntctl("deploy", "kpimon", "--namespace", "ricxapp", env=env)

    assert_one_clear_line(proc, "no Kubernetes cluster reachable")
    if kubeconfig == "unset":
        assert "set KUBECONFIG or run inside the cluster" in proc.stderr
        for cmd in (("status",), ("undeploy", "kpimon")):
            assert_one_clear_line(dntctl(*cmd, env=env), "no Kubernetes cluster reachable")


def test_deploy_with_an_unreachable_api_server(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
        "users: [{name: u, user: {token: t}}]\n")
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "config"), "HOME": str(tmp_path)}

    assert_one_clear_line(dntctl("deploy", "kpimon", env=env), "API server https://127.0.0.1:9 unreachable")


def test_deploy_of_an_unknown_chart_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "deploy", "nosuch", "--repo", str(REPO))

    assert code == 2 and "no chart 'nosuch'" in err and "kpimon" in err


def test_find_charts_skips_library_charts() -> None:
    charts, _ = find_charts(REPO / "helm")

    assert {"kpimon", "htwin", "aggregator", "rrm", "vtwin"} <= set(charts)
    assert "dnt-common" not in charts


# -- bad arguments ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, needle", [
    (("frobnicate",), "invalid choice"),
    (("a1", "put", "20100"), "required"),
    (("a1", "get-type", "x"), "invalid int value"),
    (("sim", "--ric", "no-port"), "HOST:PORT"),
    (("onboard", "nosuch", "--print"), "no descriptor for 'nosuch'"),
])
def test_bad_arguments_are_one_clear_line(args: tuple[str, ...], needle: str) -> None:
    assert_one_clear_line(dntctl(*args), needle)


# -- a1 -----------------------------------------------------------------------------------------------------
def test_a1_types_create_list_get(a1: tuple[A1Mediator, str], capsys: pytest.CaptureFixture[str]) -> None:
    mediator, url = a1
    assert run(capsys, "a1", "types", "--url", url, "--json")[1].strip() == "[]"

    code, out, _ = run(capsys, "a1", "create-type", str(TWIN_TYPE), str(REPO / "schemas/a1/dnt-rrm.json"),
                       "--url", url)
    assert code == 0 and "policy type 20100 (dnt-twin): created" in out
    assert set(mediator.types) == {20100, 20101}
    code, out, _ = run(capsys, "a1", "create-type", str(TWIN_TYPE), "--url", url + "/A1-P/v2")
    assert code == 0 and "already present, unchanged" in out

    code, out, _ = run(capsys, "a1", "types", "--url", url)
    assert code == 0 and "20100" in out and "dnt-twin" in out and "dnt-rrm" in out
    code, out, _ = run(capsys, "a1", "get-type", "20100", "--url", url)
    assert json.loads(out)["name"] == "dnt-twin"


def test_a1_instances_put_status_delete(a1: tuple[A1Mediator, str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    mediator, url = a1
    mediator.types[20100] = json.loads(TWIN_TYPE.read_text())
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(TWIN_POLICY))

    assert run(capsys, "a1", "put", "20100", "dnt-twin-1", str(policy), "--url", url)[0] == 0
    assert mediator.instances[(20100, "dnt-twin-1")] == TWIN_POLICY
    assert run(capsys, "a1", "instances", "20100", "--url", url)[1].strip() == "dnt-twin-1"
    assert json.loads(run(capsys, "a1", "get", "20100", "dnt-twin-1", "--url", url)[1]) == TWIN_POLICY
    assert json.loads(run(capsys, "a1", "status", "20100", "dnt-twin-1", "--url", url)[1])["enforceStatus"]

    code, _, err = run(capsys, "a1", "delete-type", "20100", "--url", url)
    assert code == 2 and "still has instances" in err
    assert run(capsys, "a1", "delete", "20100", "dnt-twin-1", "--url", url)[0] == 0
    assert run(capsys, "a1", "delete-type", "20100", "--url", url)[0] == 0
    assert mediator.types == {}


def test_a1_refusals_are_clear(a1: tuple[A1Mediator, str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    mediator, url = a1
    mediator.types[20100] = json.loads(TWIN_TYPE.read_text())

    code, _, err = run(capsys, "a1", "put", "20100", "p1", '{"model_version": "three"}', "--url", url)
    assert code == 2 and "policy 20100/p1 refused: A1 mediator answered 400: 'model_digest' is a required" in err
    code, _, err = run(capsys, "a1", "get-type", "999", "--url", url)
    assert code == 2 and "policy type 999: A1 mediator answered 404" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    code, _, err = run(capsys, "a1", "create-type", str(bad), "--url", url)
    assert code == 2 and "not JSON" in err
    changed = json.loads(TWIN_TYPE.read_text())
    changed["create_schema"]["required"] = ["model_version"]
    bad.write_text(json.dumps(changed))
    code, _, err = run(capsys, "a1", "create-type", str(bad), "--url", url)
    assert code == 2 and "policy type 20100 refused (a different type with this id exists" in err  # no replace


def test_a1_unreachable_mediator_is_one_clear_line() -> None:
    assert_one_clear_line(dntctl("a1", "types", "--url", "http://127.0.0.1:9"), "unreachable")


# -- onboard ------------------------------------------------------------------------------------------------
def test_onboard_print_gives_the_dms_cli_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "onboard", "kpimon", "--print", "--repo", str(REPO),
                       "--chart-repo", "http://127.0.0.1:8090")

    desc = REPO / "xapps" / "kpimon" / "descriptor"
    assert code == 0
    assert out.strip() == (f"CHART_REPO_URL=http://127.0.0.1:8090 dms_cli onboard --config_file_path="
                           f"{desc / 'config-file.json'} --shcema_file_path={desc / 'schema.json'}")
    assert "--shcema_file_path=" in dms_cli_command("a.json", "b.json")  # dms_cli's own spelling


def test_onboard_uploads_the_chart_like_dms_cli(capsys: pytest.CaptureFixture[str]) -> None:
    uploads: list[bytes] = []

    def chartmuseum(method: str, path: str, body: bytes) -> tuple[int, Any]:
        if (method, path) != ("POST", "/api/charts"):
            return 404, None
        uploads.append(body)
        return (201, {"saved": True}) if len(uploads) == 1 else (409, {"error": "file already exists"})

    server = _Server(chartmuseum)
    try:
        code, out, _ = run(capsys, "onboard", "kpimon", "--repo", str(REPO), "--chart-repo", server.url)
        assert code == 0 and "uploaded kpimon-" in out
        with tarfile.open(fileobj=io.BytesIO(uploads[0]), mode="r:gz") as tar:
            assert "kpimon/Chart.yaml" in tar.getnames()
        code, _, err = run(capsys, "onboard", "kpimon", "--repo", str(REPO), "--chart-repo", server.url)
        assert code == 2 and "already holds" in err
        code, out, _ = run(capsys, "onboard", "kpimon", "--dry-run", "--repo", str(REPO), "--chart-repo", server.url)
        assert code == 0 and "would POST" in out and len(uploads) == 2
    finally:
        server.stop()


# -- sim and package ----------------------------------------------------------------------------------------
def test_sim_passes_options_through(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sim", "--ric", "10.0.0.5:36422", "--print", "--gnbs", "2", "--speed", "60")

    assert code == 0 and out.strip() == "python -m sim --ric 10.0.0.5:36422 --gnbs 2 --speed 60"
    assert sim_command("e2term:36422", ["--", "--transport", "tcp"])[-2:] == ["--transport", "tcp"]
    with pytest.raises(ConfigError):
        sim_command("e2term:99999", [])


def test_sim_execs_the_simulator() -> None:
    proc = dntctl("sim", "--ric", "127.0.0.1:36422", "--", "--help")

    assert proc.returncode == 0 and proc.stdout.startswith("usage: dnt-e2sim")


def test_package_rapp_writes_the_csar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "package", "rapp", "--repo", str(REPO), "--out", str(tmp_path))

    path, digest = out.split()
    assert code == 0 and Path(path).is_file() and Path(path).suffix == ".csar" and digest.startswith("sha256:")


def test_smoke_script_is_valid_bash() -> None:
    script = REPO / "scripts" / "smoke-test.sh"

    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stderr
    assert "set -euo pipefail" in script.read_text()


# -- cluster-side logic over real Kubernetes model objects (no cluster) ------------------------------------
def test_workloads_and_namespaces_of_a_manifest() -> None:
    from dnt.deploy.k8s import namespaces_in, workloads_in

    manifest = ("kind: Deployment\nmetadata: {name: a, namespace: ricxapp}\n---\nkind: Service\nmetadata: {name: s}\n"
                "---\nkind: StatefulSet\nmetadata: {name: b}\n---\n")

    assert workloads_in(manifest, "dflt") == [("Deployment", "a", "ricxapp"), ("StatefulSet", "b", "dflt")]
    assert namespaces_in(manifest) == {"ricxapp"}


def test_rollout_and_pod_state_from_api_objects() -> None:
    from kubernetes import client

    from dnt.deploy.k8s import Cluster

    def deployment(ready: int, generation: int = 2, observed: int = 2) -> client.V1Deployment:
        return client.V1Deployment(
            metadata=client.V1ObjectMeta(name="d", generation=generation),
            spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels={"app": "x"}),
                                         template=client.V1PodTemplateSpec()),
            status=client.V1DeploymentStatus(ready_replicas=ready, updated_replicas=ready,
                                             observed_generation=observed))

    assert Cluster._rolled_out("Deployment", deployment(1)) == (True, "1/1 ready")
    assert not Cluster._rolled_out("Deployment", deployment(0))[0]
    assert not Cluster._rolled_out("Deployment", deployment(1, generation=3))[0]  # spec change not yet seen
    waiting = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason="ImagePullBackOff"))
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="ricxapp-kpimon-1"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="kpimon", ports=[
            client.V1ContainerPort(name="rmrdata", container_port=4560),
            client.V1ContainerPort(name="http", container_port=8080)],
            liveness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/ric/v1/health/alive", port="http")),
            readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/ric/v1/health/ready", port=8080)))]),
        status=client.V1PodStatus(phase="Pending", container_statuses=[client.V1ContainerStatus(
            name="kpimon", ready=False, restart_count=2, image="i", image_id="", state=waiting)]))

    info = Cluster._pod_info(pod)

    assert (info.phase, info.ready, info.restarts, info.reason) == ("Pending", "0/1", 2, "ImagePullBackOff")
    assert info.probes == (("alive", 8080, "/ric/v1/health/alive"), ("ready", 8080, "/ric/v1/health/ready"))


def test_deploy_all_means_the_umbrella_chart(capsys: pytest.CaptureFixture[str]) -> None:
    charts, umbrellas = find_charts(REPO / "helm")

    assert umbrellas == ["dnt-ric"] and "dnt-ric" in charts
    assert deploy_targets(REPO / "helm", "all") == [("dnt-ric", REPO / "helm" / "dnt-ric")]
    assert deploy_targets(REPO / "helm", "htwin") == [("htwin", REPO / "helm" / "htwin")]


def test_deploy_checks_values_before_the_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("replicaCount: 1\n")

    code, _, err = run(capsys, "deploy", "kpimon", "--repo", str(REPO), "-f", str(values),
                       "--set", "replicaCount=many", "--kubeconfig", str(tmp_path / "none"))

    assert code == 2 and "replicaCount" in err and "Kubernetes" not in err  # --set wins over -f
    code, _, err = run(capsys, "deploy", "kpimon", "--repo", str(REPO), "-f", str(tmp_path / "missing.yaml"))
    assert code == 2 and "--values" in err


# -- deploy / status / undeploy against an API server ----------------------------------------------------
@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKube]:
    server = FakeKube(tmp_path)
    yield server
    server.stop()


def test_deploy_status_upgrade_undeploy(kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    kc = ("--kubeconfig", str(kube.kubeconfig), "--repo", str(REPO))

    code, out, err = run(capsys, "deploy", "kpimon", "--wait", "--timeout", "20", *kc)
    assert code == 0, err
    assert "created namespace ricxapp" in out and "kpimon: revision 1 deployed" in out
    assert "rolled out (Deployment/ricxapp-kpimon)" in out
    assert ("deployments", "ricxapp", "ricxapp-kpimon") in kube.objects
    assert any(k[0] == "secrets" and k[2] == "sh.helm.release.v1.kpimon.v1" for k in kube.objects)  # Helm's record

    code, out, _ = run(capsys, "status", *kc)
    assert code == 0
    assert "kpimon 0.1.0" in out and "deployed r1" in out and "alive 200, ready 200" in out

    code, out, _ = run(capsys, "deploy", "kpimon", "--set", "replicaCount=0", *kc)  # an upgrade
    assert code == 0 and "kpimon: revision 2 deployed" in out
    assert kube.objects[("deployments", "ricxapp", "ricxapp-kpimon")]["spec"]["replicas"] == 0

    code, out, _ = run(capsys, "undeploy", "kpimon", *kc)
    assert code == 0 and "kpimon: uninstalled in ricxapp" in out
    assert ("deployments", "ricxapp", "ricxapp-kpimon") not in kube.objects
    assert run(capsys, "status", *kc)[1].startswith("no Helm releases in namespace ricxapp")
    assert "not installed" in run(capsys, "undeploy", "kpimon", *kc)[1]


def test_deploy_all_creates_the_charts_namespaces(kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "deploy", "all", "--kubeconfig", str(kube.kubeconfig), "--repo", str(REPO))

    assert code == 0, err
    assert {"ricxapp", "nonrtric", "ricsim"} <= kube.namespaces
    assert "dnt-ric: revision 1 deployed" in out and "resources in nonrtric, ricsim, ricxapp" in out
    assert ("deployments", "nonrtric", "nonrtric-vtwin") in kube.objects
    assert ("deployments", "ricxapp", "ricxapp-htwin-1") in kube.objects


def test_a_rollout_that_never_gets_ready_names_the_reason(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    kube = FakeKube(tmp_path, pull_fails=True)
    try:
        kc = ("--kubeconfig", str(kube.kubeconfig), "--repo", str(REPO))
        code, _, err = run(capsys, "deploy", "kpimon", "--wait", "--timeout", "1", *kc)
        assert code == 2
        assert "Deployment ricxapp/ricxapp-kpimon not rolled out after 1 s (0/1 ready; pods: ImagePullBackOff)" in err
        code, out, _ = run(capsys, "status", *kc)
        assert code == 1 and "ImagePullBackOff" in out
    finally:
        kube.stop()
