"""xApp descriptors: valid for the OSC onboarder, honest about the code, and broken ones caught clearly."""

from __future__ import annotations

import copy
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from dnt import config as dnt_config
from dnt.deploy.controls import controls_schema
from dnt.deploy.descriptor import (
    CUSTOM_MTYPES,
    ENFORCED_SCHEMA,
    derive_messages,
    descriptor_messages,
    enforced_schema,
    load_app,
    rtmgr_mtypes,
    validate_all,
    validate_descriptor,
)
from dnt.deploy.render import render_all
from dnt.e2 import mtypes as mt
from dnt.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
XAPPS = ("kpimon", "htwin", "aggregator", "rrm")


def _desc_path(name: str) -> Path:
    return REPO / "xapps" / name / "descriptor" / "config-file.json"


def _desc(name: str) -> dict[str, Any]:
    return json.loads(_desc_path(name).read_text())


def _config_cls(module: Any) -> type:
    hints = typing.get_type_hints(module.wire, vars(module))
    return hints[list(inspect.signature(module.wire).parameters)[1]]


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    return {name: load_app(REPO / "xapps" / name / "app.py") for name in XAPPS}


@pytest.fixture(scope="module")
def derived(apps: dict[str, Any]) -> dict[str, tuple[set[str], set[str], set[int]]]:
    return {name: derive_messages(module) for name, module in apps.items()}


def _write(tmp_path: Path, desc: dict[str, Any], name: str = "config-file.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(desc))
    return path


def _kpimon_without_controls(tmp_path: Path) -> dict[str, Any]:
    desc = _desc("kpimon")
    desc.pop("controls")
    return desc


# --- the enforced schema --------------------------------------------------------------------------------
def test_vendored_schema_is_draft7_and_cites_its_source() -> None:
    schema = json.loads(ENFORCED_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "xapp_schema.py" in schema["description"] and "ric-plt-appmgr" in schema["description"]


def test_controls_schema_replaces_the_empty_control_section() -> None:
    default = enforced_schema()
    replaced = enforced_schema({"type": "object"})
    assert default["properties"]["controls"] == {"required": ["__empty_control_section__"]}
    assert replaced["properties"]["controls"] == {"type": "object"}


# --- our descriptors ------------------------------------------------------------------------------------
def test_every_xapp_has_a_valid_descriptor() -> None:
    assert validate_all(REPO) == {name: [] for name in sorted(XAPPS)}


@pytest.mark.parametrize("name", XAPPS)
def test_descriptor_validates_against_the_enforced_schema_with_its_controls_schema(name: str) -> None:
    desc = _desc(name)
    controls = json.loads((_desc_path(name).with_name("schema.json")).read_text())
    jsonschema.validate(desc, enforced_schema(controls), cls=jsonschema.Draft7Validator)
    assert desc["name"] == name and "rmr" not in desc


@pytest.mark.parametrize("name", XAPPS)
def test_descriptor_messages_equal_what_the_code_does(name: str, derived: dict[str, Any]) -> None:
    rx, tx, policies = derived[name]
    port = next(p for p in _desc(name)["messaging"]["ports"] if p["name"] == "rmrdata")
    assert (set(port["rxMessages"]), set(port["txMessages"]), set(port["policies"])) == (rx, tx, policies)
    assert descriptor_messages(_desc(name)) == (rx, tx, policies)


def test_derived_messages_of_the_twin_loop(derived: dict[str, Any]) -> None:
    rx_h, tx_h, pol_h = derived["htwin"]
    rx_a, tx_a, pol_a = derived["aggregator"]
    assert "DNT_TWIN_UPDATE" in tx_h and "DNT_TWIN_UPDATE" in rx_a  # worker -> server
    assert "DNT_GLOBAL_TWIN" in tx_a and "DNT_GLOBAL_TWIN" in rx_h  # server -> workers
    assert pol_h == pol_a == {20100}
    assert {"A1_POLICY_REQ"} <= rx_a and {"A1_POLICY_RESP", "A1_POLICY_QUERY"} <= tx_a
    assert derived["kpimon"] == ({"RIC_INDICATION"}, set(), set())
    assert derived["rrm"][2] == {20101} and "RIC_CONTROL_REQ" in derived["rrm"][1]


@pytest.mark.parametrize("name", XAPPS)
def test_controls_are_the_config_yaml_on_rmr_and_build_the_app_config(name: str, apps: dict[str, Any]) -> None:
    controls = _desc(name)["controls"]
    expected = yaml.safe_load((REPO / "xapps" / name / "config.yaml").read_text())
    assert controls == {**expected, "runtime": "rmr"}
    cls = _config_cls(apps[name])
    dnt_config.from_dict(cls, copy.deepcopy(controls))  # the app accepts its controls
    schema = json.loads(_desc_path(name).with_name("schema.json").read_text())
    assert schema == controls_schema(cls, title=f"{name} controls")


@pytest.mark.parametrize("name", XAPPS)
def test_descriptor_follows_the_osc_port_and_image_conventions(name: str) -> None:
    desc = _desc(name)
    ports = {p["name"]: p["port"] for p in desc["messaging"]["ports"]}
    assert ports == {"http": 8080, "rmrdata": 4560, "rmrroute": 4561}
    image = desc["containers"][0]["image"]
    assert image == {"registry": "registry.example.org", "name": f"dnt-ric/{name}", "tag": desc["version"]}
    assert desc["containers"][0]["command"] == ["python", f"/opt/dnt/xapps/{name}/app.py"]
    assert desc["livenessProbe"]["httpGet"] == {"path": "/ric/v1/health/alive", "port": 8080}
    assert desc["readinessProbe"]["httpGet"] == {"path": "/ric/v1/health/ready", "port": 8080}


def test_custom_message_types_and_rtmgr_entries() -> None:
    assert CUSTOM_MTYPES == {"DNT_TWIN_UPDATE": 60100, "DNT_GLOBAL_TWIN": 60101}
    assert rtmgr_mtypes() == [{"name": "DNT_TWIN_UPDATE", "id": 60100}, {"name": "DNT_GLOBAL_TWIN", "id": 60101}]
    only_custom = rtmgr_mtypes(["RIC_INDICATION", "DNT_GLOBAL_TWIN"])
    assert only_custom == [{"name": "DNT_GLOBAL_TWIN", "id": mt.DNT_GLOBAL_TWIN}]


# --- broken descriptors are caught, with the path and the fix ------------------------------------------
def test_string_port_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["messaging"]["ports"][1]["port"] = "4560"
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert errors == ["messaging.ports[1].port: '4560' is a string; the OSC appmgr schema needs an integer "
                      "(write the number without quotes)"]


def test_string_probe_delay_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["livenessProbe"]["initialDelaySeconds"] = "5"
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert errors == ["livenessProbe.initialDelaySeconds: '5' is a string; the OSC appmgr schema needs an integer "
                      "(write the number without quotes)"]


def test_string_command_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["containers"][0]["command"] = "python /opt/dnt/xapps/kpimon/app.py"
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert len(errors) == 1
    assert errors[0].startswith("containers[0].command: 'python /opt/dnt/xapps/kpimon/app.py' is a string; "
                                "the OSC appmgr schema needs an array")
    assert 'e.g. ["python", "app.py"]' in errors[0]


def test_rx_messages_without_policies_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    del desc["messaging"]["ports"][1]["policies"]
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert errors == ["messaging.ports[1]: has txMessages, rxMessages but no policies; the OSC appmgr schema "
                      "requires txMessages, rxMessages and policies together (add the missing ones, e.g. "
                      "\"policies\": [] when the xApp handles no A1 policy type)"]


def test_conflicting_legacy_rmr_section_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["rmr"] = {"protPort": "tcp:4560", "maxSize": 2072, "numWorkers": 1, "txMessages": ["RIC_SUB_REQ"],
                   "rxMessages": ["RIC_INDICATION"], "policies": []}
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert len(errors) == 1
    assert errors[0].startswith("rmr.txMessages: ['RIC_SUB_REQ'] differs from messaging.ports ([]; only in rmr: "
                                "['RIC_SUB_REQ'], only in ports: [])")
    assert "appmgr routes by the rmr section alone" in errors[0] and "delete the rmr section" in errors[0]
    assert descriptor_messages(desc)[1] == {"RIC_SUB_REQ"}  # what rtmgr would really get


def test_identical_legacy_rmr_section_passes_the_onboarder_but_not_our_conventions(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    port = desc["messaging"]["ports"][1]
    desc["rmr"] = {k: port[k] for k in ("txMessages", "rxMessages", "policies")}
    path = _write(tmp_path, desc)
    assert validate_descriptor(path, conventions=False) == []
    assert any(e.startswith("rmr: DNT-RIC descriptors carry no legacy rmr section") for e in validate_descriptor(path))


def test_registry_without_a_domain_is_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["containers"][0]["image"]["registry"] = "localhost:5000"
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert len(errors) == 1 and errors[0].startswith("containers[0].image.registry: 'localhost:5000' is not a registry")


def test_controls_without_a_controls_schema_is_caught(tmp_path: Path) -> None:
    errors = validate_descriptor(_write(tmp_path, _desc("kpimon")), conventions=False)  # no schema.json beside it
    assert errors == ["controls: the descriptor has a controls section but no controls schema was given; put the "
                      "controls schema in schema.json beside config-file.json (dms_cli onboard "
                      "--shcema_file_path=schema.json)"]


def test_controls_that_break_the_controls_schema_are_caught(tmp_path: Path) -> None:
    desc = _desc("kpimon")
    desc["controls"]["period_ms"] = "1000"
    (tmp_path / "schema.json").write_text(_desc_path("kpimon").with_name("schema.json").read_text())
    errors = validate_descriptor(_write(tmp_path, desc))
    assert errors == ["controls.period_ms: '1000' is a string; the OSC appmgr schema needs an integer "
                      "(write the number without quotes)"]


def test_metrics_array_missing_version_and_bad_semver_are_caught(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["metrics"] = [{"objectName": "x", "objectInstance": "y", "name": "n", "type": "counter",
                        "description": "d"}]
    desc["version"] = "v1"
    errors = validate_descriptor(_write(tmp_path, desc), conventions=False)
    assert any(e.startswith("metrics: [") and "declares metrics as an object" in e for e in errors)
    assert "version: 'v1' is not a SemVer 2.0 version; use MAJOR.MINOR.PATCH, e.g. '0.1.0'" in errors
    del desc["version"]
    assert validate_descriptor(_write(tmp_path, desc), conventions=False)[0].startswith("version: missing")


def test_conventions_catch_unknown_names_and_wrong_ports(tmp_path: Path) -> None:
    desc = _kpimon_without_controls(tmp_path)
    port = desc["messaging"]["ports"][1]
    port["txMessages"] = ["RIC_CONTROL_RESP"]  # ric-app-rc's mistake: not a name rtmgr knows
    desc["messaging"]["ports"][0]["port"] = 8081
    desc["readinessProbe"]["httpGet"]["path"] = "/health"
    errors = validate_descriptor(_write(tmp_path, desc))
    assert ("messaging.ports[1].txMessages[0]: 'RIC_CONTROL_RESP' is not an RMR message name (dnt.e2.mtypes); "
            "rtmgr would route it as type 0") in errors
    assert "messaging.ports[0].port: http is 8081; use 8080" in errors
    assert any(e.startswith("readinessProbe.httpGet: '/health' port 8080") for e in errors)


def test_unreadable_descriptor_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "config-file.json"
    bad.write_text("{not json")
    assert validate_descriptor(bad)[0].startswith(f"{bad}: the xApp descriptor is not JSON")
    assert validate_descriptor(tmp_path / "absent.json")[0].startswith(f"{tmp_path / 'absent.json'}: cannot read")


def test_validate_all_reports_an_xapp_without_descriptor(tmp_path: Path) -> None:
    (tmp_path / "xapps" / "newapp").mkdir(parents=True)
    (tmp_path / "xapps" / "newapp" / "app.py").write_text("")
    assert validate_all(tmp_path) == {
        "newapp": ["xapps/newapp/descriptor/config-file.json: missing; every xApp needs a descriptor"]}


# --- derive_messages on a small app -------------------------------------------------------------------
_FAKE_APP = '''
from __future__ import annotations

from dataclasses import dataclass

from dnt.e2.mtypes import RIC_INDICATION, TS_QOE_PREDICTION, TS_UE_LIST
from dnt.ric.a1 import A1PolicyHandler


@dataclass(frozen=True)
class FakeConfig:
    runtime: str = "local"
    period_ms: int = 1000


def wire(rt, cfg: FakeConfig):
    handler = A1PolicyHandler({7: {"type": "object"}}, lambda policy, rt: None)
    handler.register(rt)
    rt.on(RIC_INDICATION, lambda msg, rt: rt.reply(msg, TS_QOE_PREDICTION, b""))
    return handler


def work(rt, sock):
    sock.send(b"not RMR")  # not the runtime: ignored
    rt.send(TS_UE_LIST, b"")


def main(rt):
    wire(rt, FakeConfig()){query}
'''


def _fake_app(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "fakeapp"
    folder.mkdir()
    (folder / "app.py").write_text(body)
    (folder / "config.yaml").write_text("period_ms: 500\n")
    return folder / "app.py"


def test_derive_messages_reads_registrations_a1_and_sends(tmp_path: Path) -> None:
    path = _fake_app(tmp_path, _FAKE_APP.replace("{query}", "\n    wire(rt, FakeConfig()).query(rt)"))
    rx, tx, policies = derive_messages(path)
    assert rx == {"A1_POLICY_REQ", "RIC_INDICATION"}
    assert tx == {"A1_POLICY_RESP", "A1_POLICY_QUERY", "TS_QOE_PREDICTION", "TS_UE_LIST"}
    assert policies == {7}


def test_derive_messages_without_a_policy_query(tmp_path: Path) -> None:
    rx, tx, policies = derive_messages(_fake_app(tmp_path, _FAKE_APP.replace("{query}", "")))
    assert "A1_POLICY_QUERY" not in tx and "A1_POLICY_RESP" in tx and policies == {7}


def test_derive_messages_refuses_a_send_it_cannot_resolve(tmp_path: Path) -> None:
    body = _FAKE_APP.replace("{query}", "").replace("rt.send(TS_UE_LIST, b\"\")", "rt.send(sock.mtype, b\"\")")
    with pytest.raises(ConfigError, match=r"send\(\) with a message type that is not a module-level name"):
        derive_messages(_fake_app(tmp_path, body))


@pytest.mark.parametrize("messaging", [[], {"ports": "x"}, {"ports": [1, {"name": "rmrdata", "rxMessages": "A"}]}])
def test_malformed_descriptors_give_errors_not_exceptions(tmp_path: Path, messaging: Any) -> None:
    desc = _kpimon_without_controls(tmp_path)
    desc["messaging"] = messaging
    desc["rmr"] = {"txMessages": [{"a": 1}], "rxMessages": "RIC_INDICATION", "policies": None}
    errors = validate_descriptor(_write(tmp_path, desc))
    assert errors and all(isinstance(e, str) for e in errors)


def test_descriptors_are_what_the_code_renders() -> None:
    stale = render_all(REPO)
    assert stale == [], f"stale descriptors {stale}: run python -m dnt.deploy.render --write"
