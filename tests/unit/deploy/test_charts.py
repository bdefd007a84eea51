"""The Helm charts of helm/, rendered and linted by the real Helm engine, validated against Kubernetes schemas.

A render takes tens of milliseconds (helm_python caches the loaded chart), so these stay unit tests.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from dnt.deploy import charts
from dnt.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
HELM = REPO / "helm"
XAPPS = ("kpimon", "htwin", "aggregator", "rrm")
SINGLE_XAPPS = ("kpimon", "aggregator", "rrm")
APPS = (*XAPPS, "vtwin", "e2sim")
DEPLOYABLE = (*APPS, "dnt-ric")
KEY = "ab" * 16


@functools.cache
def _default(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(charts.render_chart(HELM / name))


def render(name: str, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rendered manifests (a deep copy, so tests may not disturb each other)."""
    docs = _default(name) if values is None else charts.render_chart(HELM / name, values)
    return copy.deepcopy(list(docs))


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(deploy: dict[str, Any]) -> dict[str, Any]:
    return deploy["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def app_config(docs: list[dict[str, Any]], cm_name: str) -> dict[str, Any]:
    return yaml.safe_load(of_kind(docs, "ConfigMap")[cm_name]["data"]["app-config.yaml"])


def repo_descriptor(name: str) -> Path:
    new = REPO / "xapps" / name / "descriptor" / "config-file.json"
    return new if new.is_file() else REPO / "xapps" / name / "config-file.json"


# --- every chart: real Helm render + lint, Kubernetes schemas ---------------------------------------------------

@pytest.mark.parametrize("name", DEPLOYABLE)
def test_chart_renders_and_lints_clean(name: str) -> None:
    docs = render(name)
    lint = charts.lint_chart(HELM / name)

    assert docs, f"{name} rendered nothing"
    assert [m for m in lint if m.startswith(("[ERROR]", "[WARNING]"))] == []
    assert {d["kind"] for d in docs} >= {"Deployment", "ConfigMap"}


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_manifest_validates_against_kubernetes_schema(name: str) -> None:
    docs = render(name)

    assert charts.validate_manifests(docs) == []
    assert all(d["metadata"].get("namespace") for d in docs), "every resource names its namespace"


def test_check_all_is_clean_for_every_chart() -> None:
    results = charts.check_all(HELM)

    assert set(results) == {*DEPLOYABLE, "dnt-common"}
    assert {name: p for name, p in results.items() if p} == {}


def test_charts_are_apiversion_v2_and_share_the_library_chart() -> None:
    for name in (*DEPLOYABLE, "dnt-common"):
        meta = yaml.safe_load((HELM / name / "Chart.yaml").read_text())
        assert meta["apiVersion"] == "v2" and meta["version"] and meta["appVersion"], name
        assert (HELM / name / "values.schema.json").is_file() or name == "dnt-common", name
        if name in APPS:
            assert {"name": "dnt-common", "version": "0.1.0", "repository": "file://../dnt-common"} \
                in meta["dependencies"], name
    assert yaml.safe_load((HELM / "dnt-common" / "Chart.yaml").read_text())["type"] == "library"
    for name in DEPLOYABLE:
        schema = json.loads((HELM / name / "values.schema.json").read_text())
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        jsonschema.Draft7Validator.check_schema(schema)


def test_validate_manifests_names_kind_name_and_field_like_kubernetes_validate() -> None:
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    deploy = copy.deepcopy(of_kind(render("kpimon"), "Deployment")["ricxapp-kpimon"])
    deploy["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"

    errors = charts.validate_manifests([deploy])

    assert errors == ["Deployment/ricxapp-kpimon: spec.template.spec.containers[0].ports[0].containerPort: "
                      "'8080' is not of type 'integer'"]
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deploy, charts.DEFAULT_K8S_VERSION, strict=True)
    deploy["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080
    deploy["spec"]["template"]["spec"]["hostNetwork2"] = True
    assert charts.validate_manifests([deploy]) == [
        "Deployment/ricxapp-kpimon: spec.template.spec: Additional properties are not allowed "
        "('hostNetwork2' was unexpected)"]
    assert charts.validate_manifests([{"apiVersion": "v1", "kind": "Nope", "metadata": {"name": "x"}}]) == [
        f"Nope/x: no Kubernetes {charts.DEFAULT_K8S_VERSION} schema for v1 Nope"]


# --- OSC ricxapp conventions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SINGLE_XAPPS)
def test_xapp_follows_osc_naming(name: str) -> None:
    docs = render(name)
    services = of_kind(docs, "Service")
    deploy = of_kind(docs, "Deployment")[f"ricxapp-{name}"]
    container = pod_spec(deploy)["containers"][0]
    env = env_of(container)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(deploy)["volumes"]}

    assert {d["metadata"]["namespace"] for d in docs} == {"ricxapp"}
    assert set(services) == {f"service-ricxapp-{name}-rmr", f"service-ricxapp-{name}-http"}
    assert [(p["name"], p["port"], p["targetPort"]) for p in services[f"service-ricxapp-{name}-rmr"]["spec"]["ports"]] \
        == [("rmrdata", 4560, 4560), ("rmrroute", 4561, 4561)]
    http_ports = services[f"service-ricxapp-{name}-http"]["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in http_ports] == [("http", 8080, 8080)]
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == \
        [("http", 8080), ("rmrdata", 4560), ("rmrroute", 4561)]
    assert all(type(p["containerPort"]) is int for p in container["ports"])
    assert pod_spec(deploy)["hostname"] == name
    # descriptor mounted at /opt/ric/config, CONFIG_FILE pointing at it
    assert mounts["config"] == "/opt/ric/config"
    assert env["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    cm = of_kind(docs, "ConfigMap")[volumes["config"]["configMap"]["name"]]
    assert cm["metadata"]["name"] == f"configmap-ricxapp-{name}-appconfig"
    assert json.loads(cm["data"]["config-file.json"])["name"] == name
    # RMR: seed route table from its ConfigMap, source id = the rmr service
    assert env["RMR_SRC_ID"] == f"service-ricxapp-{name}-rmr.ricxapp"
    assert env["RMR_RTG_SVC"] == "4561"
    seed_dir, seed_file = env["RMR_SEED_RT"].rsplit("/", 1)
    assert mounts["routes"] == seed_dir
    table = of_kind(docs, "ConfigMap")[volumes["routes"]["configMap"]["name"]]["data"][seed_file]
    assert table.startswith("newrt|start\n") and table.rstrip().endswith("newrt|end")
    # DBAAS, runtime, probes
    assert (env["DBAAS_SERVICE_HOST"], env["DBAAS_SERVICE_PORT"]) == ("service-ricplt-dbaas-tcp.ricplt", "6379")
    assert env["DNT_RIC_RUNTIME"] == "rmr" and env["PLT_NAMESPACE"] == "ricplt"
    assert container["livenessProbe"]["httpGet"] == {"path": "/ric/v1/health/alive", "port": 8080}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ric/v1/health/ready", "port": 8080}
    assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize("name", XAPPS)
def test_rendered_descriptor_matches_the_xapp_descriptor_and_config(name: str) -> None:
    docs = render(name)
    rendered = [json.loads(cm["data"]["config-file.json"]) for cm in of_kind(docs, "ConfigMap").values()
                if "config-file.json" in cm.get("data", {})]
    ours = json.loads(repo_descriptor(name).read_text())
    controls_schema = repo_descriptor(name).with_name("schema.json")

    def messaging(desc: dict[str, Any]) -> dict[str, Any]:
        return {p["name"]: (p["port"], sorted(p.get("rxMessages", [])), sorted(p.get("txMessages", [])),
                            sorted(p.get("policies", []))) for p in desc["messaging"]["ports"]}

    assert rendered
    for desc in rendered:
        assert messaging(desc) == messaging(ours)
        assert desc["version"] == ours["version"]
        assert desc["containers"][0]["image"] == ours["containers"][0]["image"]
        if controls_schema.is_file():  # the app config the chart gives is one the xApp accepts
            assert list(jsonschema.Draft7Validator(json.loads(controls_schema.read_text()))
                        .iter_errors(desc["controls"])) == []


def test_rendered_descriptor_passes_the_onboarding_validator(tmp_path: Path) -> None:
    descriptor = pytest.importorskip("dnt.deploy.descriptor")
    for name in XAPPS:
        for cm in of_kind(render(name), "ConfigMap").values():
            if "config-file.json" not in cm.get("data", {}):
                continue
            path = tmp_path / cm["metadata"]["name"] / "config-file.json"
            path.parent.mkdir()
            path.write_text(cm["data"]["config-file.json"])
            schema = repo_descriptor(name).with_name("schema.json")
            errors = descriptor.validate_descriptor(path, controls_schema=schema if schema.is_file() else None)
            assert errors == [], (name, errors)


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_container_is_locked_down(name: str) -> None:
    for deploy in of_kind(render(name), "Deployment").values():
        spec = pod_spec(deploy)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001, c["name"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, c["name"]
            assert sc["capabilities"] == {"drop": ["ALL"]}, c["name"]
            assert any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in c["volumeMounts"]), c["name"]


def test_image_pull_secrets_are_optional() -> None:
    plain = of_kind(render("kpimon"), "Deployment")["ricxapp-kpimon"]
    with_secret = of_kind(render("kpimon", {"imagePullSecrets": ["regcred", {"name": "other"}]}),
                          "Deployment")["ricxapp-kpimon"]

    assert "imagePullSecrets" not in pod_spec(plain)
    assert pod_spec(with_secret)["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]


# --- htwin: one Deployment per replica index, each with only its own key --------------------------------------

def test_htwin_replicas_get_distinct_indices_and_keys() -> None:
    docs = render("htwin", {"replicas": 3, "keys": {"existingSecret": "dnt-twin-keys"}})
    deploys = of_kind(docs, "Deployment")

    assert sorted(deploys) == ["ricxapp-htwin-0", "ricxapp-htwin-1", "ricxapp-htwin-2"]
    indices, key_items, names = set(), set(), set()
    for i in range(3):
        spec = pod_spec(deploys[f"ricxapp-htwin-{i}"])
        cfg = app_config(docs, f"configmap-ricxapp-htwin-{i}-appconfig")
        keys = next(v["secret"] for v in spec["volumes"] if v["name"] == "update-keys")
        mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "update-keys")
        indices.add((cfg["replica"], cfg["replicas"]))
        key_items.add(tuple((it["key"], it["path"]) for it in keys["items"]))
        names.add(spec["hostname"])
        assert keys["secretName"] == "dnt-twin-keys"
        assert cfg["keys_path"] == mount["mountPath"] and mount["readOnly"] is True
        assert env_of(spec["containers"][0])["RMR_SRC_ID"] == f"service-ricxapp-htwin-{i}-rmr.ricxapp"
    assert indices == {(0, 3), (1, 3), (2, 3)}
    assert key_items == {(("htwin-0", "htwin-0"),), (("htwin-1", "htwin-1"),), (("htwin-2", "htwin-2"),)}
    assert names == {"htwin-0", "htwin-1", "htwin-2"}
    assert len(of_kind(docs, "Service")) == 6


def test_htwin_inline_keys_make_one_secret_per_replica_with_only_its_key() -> None:
    keys = {f"htwin-{i}": f"{i}{i}" * 16 for i in range(3)}
    docs = render("htwin", {"replicas": 3, "keys": {"inline": keys}})
    secrets = of_kind(docs, "Secret")

    assert {n: sorted(s["data"]) for n, s in secrets.items()} == {
        f"ricxapp-htwin-{i}-update-keys": [f"htwin-{i}"] for i in range(3)}
    for i in range(3):
        vol = next(v for v in pod_spec(of_kind(docs, "Deployment")[f"ricxapp-htwin-{i}"])["volumes"]
                   if v["name"] == "update-keys")
        assert vol["secret"]["secretName"] == f"ricxapp-htwin-{i}-update-keys"


def test_htwin_inline_keys_missing_a_replica_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match='keys.inline has no update key for client "htwin-1"'):
        charts.render_chart(HELM / "htwin", {"replicas": 2, "keys": {"inline": {"htwin-0": KEY}}})


def test_aggregator_mounts_every_key_as_a_directory() -> None:
    existing = render("aggregator", {"keys": {"existingSecret": "dnt-twin-keys"}})
    inline = render("aggregator", {"keys": {"inline": {"htwin-0": KEY, "htwin-1": KEY}}})
    unsigned = render("aggregator")

    vol = next(v for v in pod_spec(of_kind(existing, "Deployment")["ricxapp-aggregator"])["volumes"]
               if v["name"] == "update-keys")
    assert vol["secret"] == {"secretName": "dnt-twin-keys", "defaultMode": 0o440}  # no items: all keys
    assert app_config(existing, "configmap-ricxapp-aggregator-appconfig")["keys_path"] == "/opt/ric/keys"
    assert sorted(of_kind(inline, "Secret")["ricxapp-aggregator-update-keys"]["data"]) == ["htwin-0", "htwin-1"]
    assert "Secret" not in {d["kind"] for d in existing + unsigned}
    assert "keys_path" not in app_config(unsigned, "configmap-ricxapp-aggregator-appconfig")


# --- values schema: broken values name the key -----------------------------------------------------------------

@pytest.mark.parametrize(("name", "values", "message"), [
    ("kpimon", {"replicaCount": "two"}, "kpimon: values key 'replicaCount': got string, want integer"),
    ("htwin", {"replicas": "three"}, "htwin: values key 'replicas': got string, want integer"),
    ("aggregator", {"ports": {"rmrData": -1}}, "aggregator: values key 'ports.rmrData': minimum: got -1, want 1"),
    ("rrm", {"ports": {"http": "8080"}}, "rrm: values key 'ports.http': got string, want integer"),
    ("vtwin", {"service": {"port": 70000}}, "vtwin: values key 'service.port': maximum: got 70,000, want 65,535"),
    ("e2sim", {"e2term": {"transport": "udp"}}, "e2sim: values key 'e2term.transport': value must be one of"),
    ("htwin", {"keys": {"inline": {"htwin-0": "not-hex"}}}, "htwin: values key 'keys.inline.htwin-0'"),
    ("dnt-ric", {"kpimon": {"replicaCount": "two"}}, "dnt-ric: values key 'kpimon.replicaCount': got string"),
    ("kpimon", {"replicacount": 1}, "kpimon: values key '(top level)': additional properties 'replicacount'"),
])
def test_broken_values_are_caught_naming_the_key(name: str, values: dict[str, Any], message: str) -> None:
    problems = charts.check_values(HELM / name, values)

    assert any(p.startswith(message) for p in problems), problems
    with pytest.raises(ConfigError) as err:
        charts.render_chart(HELM / name, values)
    assert message in str(err.value)


def test_broken_values_file_fails_helm_lint_too() -> None:
    lint = charts.lint_chart(HELM / "kpimon", {"replicaCount": "two"})

    assert lint[0].startswith("[ERROR]") and "/replicaCount" in lint[0]


# --- the other deployables and the umbrella --------------------------------------------------------------------

def test_vtwin_serves_the_registry_the_xapps_use() -> None:
    docs = render("vtwin")
    svc = of_kind(docs, "Service")["vtwin"]
    cfg = app_config(docs, "configmap-nonrtric-vtwin-appconfig")
    container = pod_spec(of_kind(docs, "Deployment")["nonrtric-vtwin"])["containers"][0]

    assert {d["metadata"]["namespace"] for d in docs} == {"nonrtric"}
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(8090, 8090)]
    assert (cfg["registry_host"], cfg["registry_port"]) == ("0.0.0.0", 8090)
    assert container["readinessProbe"]["httpGet"] == {"path": "/models", "port": 8090}
    for name in ("htwin", "aggregator", "rrm"):  # kpimon does not fetch models
        for cm in of_kind(render(name), "ConfigMap").values():
            if "app-config.yaml" in cm.get("data", {}):
                assert yaml.safe_load(cm["data"]["app-config.yaml"])["registry_url"] == cfg["registry_url"], name


def test_e2sim_connects_to_e2term_sctp_and_is_configurable() -> None:
    from dnt import config as dnt_config
    from sim.config import SimConfig

    default = app_config(render("e2sim"), "configmap-ricsim-e2sim-appconfig")
    custom = app_config(render("e2sim", {"e2term": {"host": "10.0.0.5", "port": 36421, "transport": "tcp"}}),
                        "configmap-ricsim-e2sim-appconfig")

    assert default["ric"] == {"host": "service-ricplt-e2term-sctp-alpha.ricplt", "port": 36422, "transport": "sctp"}
    assert custom["ric"] == {"host": "10.0.0.5", "port": 36421, "transport": "tcp"}
    assert dnt_config.from_dict(SimConfig, default).ric.port == 36422  # the simulator accepts the rendered config


def test_umbrella_renders_every_subchart_into_its_namespace() -> None:
    docs = render("dnt-ric")
    deploys = {(d["metadata"]["namespace"], name) for name, d in of_kind(docs, "Deployment").items()}

    assert deploys == {("ricxapp", "ricxapp-kpimon"), ("ricxapp", "ricxapp-htwin-0"), ("ricxapp", "ricxapp-htwin-1"),
                       ("ricxapp", "ricxapp-aggregator"), ("ricxapp", "ricxapp-rrm"), ("nonrtric", "nonrtric-vtwin"),
                       ("ricsim", "ricsim-e2sim")}
    for name in APPS:  # the umbrella gives each subchart what it renders alone
        alone = {(d["kind"], d["metadata"]["name"]) for d in render(name)}
        assert alone <= {(d["kind"], d["metadata"]["name"]) for d in docs}, name


def test_umbrella_keeps_the_twin_routes_and_keys_consistent() -> None:
    docs = render("dnt-ric", {"global": {"updateKeysSecret": "dnt-twin-keys"},
                              "htwin": {"replicas": 3}, "aggregator": {"twinWorkers": {"replicas": 3}},
                              "e2sim": {"enabled": False}})
    table = of_kind(docs, "ConfigMap")["configmap-ricxapp-aggregator-routes"]["data"]["uta-rtg.rt"]
    route = next(line for line in table.splitlines() if line.startswith("rte|60101|"))
    htwin_rmr = {f"{n}.ricxapp:4560" for n in of_kind(docs, "Service") if n.startswith("service-ricxapp-htwin-")
                 and n.endswith("-rmr")}
    deploys = of_kind(docs, "Deployment")

    assert set(route.split("|")[2].split(";")) == htwin_rmr and len(htwin_rmr) == 3
    assert "ricsim-e2sim" not in deploys
    assert all(v["name"] != "update-keys" for n in ("ricxapp-kpimon", "ricxapp-rrm")  # no keys section: no mount
               for v in pod_spec(deploys[n])["volumes"])
    agg = next(v for v in pod_spec(deploys["ricxapp-aggregator"])["volumes"] if v["name"] == "update-keys")
    assert agg["secret"]["secretName"] == "dnt-twin-keys" and "items" not in agg["secret"]
    for i in range(3):
        vol = next(v for v in pod_spec(deploys[f"ricxapp-htwin-{i}"])["volumes"] if v["name"] == "update-keys")
        assert vol["secret"]["items"] == [{"key": f"htwin-{i}", "path": f"htwin-{i}"}]


def test_a_render_with_overrides_does_not_leak_into_the_next_render() -> None:
    umbrella = charts.HELM_DIR / "dnt-ric"
    without = {d["metadata"].get("namespace") for d in charts.render_chart(umbrella, {"e2sim": {"enabled": False}})}
    again = {d["metadata"].get("namespace") for d in charts.render_chart(umbrella, {})}
    assert "ricsim" not in without and "ricsim" in again
