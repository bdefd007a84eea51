"""RicConfig: defaults, explicit boolean parsing, what the platform environment and descriptor provide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnt.config import from_dict
from dnt.errors import ConfigError
from dnt.ric.config import RicConfig, SubmgrConfig, descriptor_ports, parse_bool

DESCRIPTOR = {
    "name": "kpimon", "version": "1.0.0",
    "messaging": {"ports": [{"name": "http", "container": "kpimon", "port": 8081},
                            {"name": "rmr-data", "container": "kpimon", "port": 4565,
                             "txMessages": [], "rxMessages": ["RIC_INDICATION"], "policies": []},
                            {"name": "rmr-route", "container": "kpimon", "port": 4561}]},
}


def test_defaults_follow_the_osc_conventions() -> None:
    cfg = RicConfig()
    assert (cfg.rmr_port, cfg.http_port) == (4560, 8080)
    assert cfg.submgr.url == "http://service-ricplt-submgr-http.ricplt:8088/ric/v1"
    assert cfg.client_host == "service-ricxapp-xapp-http.ricxapp"


@pytest.mark.parametrize("raw, expected", [("1", True), ("TRUE", True), ("yes", True), (" on ", True),
                                           ("0", False), ("false", False), ("No", False), ("", False)])
def test_parse_bool_is_explicit(raw: str, expected: bool) -> None:
    assert parse_bool(raw, "X") is expected


def test_parse_bool_refuses_anything_else() -> None:
    with pytest.raises(ConfigError, match="USE_FAKE_SDL='maybe'"):
        parse_bool("maybe", "USE_FAKE_SDL")
    assert parse_bool(None, "X", default=True) is True


def test_from_env_reads_descriptor_and_platform_variables(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "config-file.json"
    path.write_text(json.dumps(DESCRIPTOR))
    env = {"CONFIG_FILE": str(path), "RMR_SRC_ID": "service-ricxapp-kpimon-rmr.ricxapp", "PLT_NAMESPACE": "plt",
           "USE_FAKE_SDL": "false"}

    # Execute
    cfg = RicConfig.from_env(env)

    # Assert
    assert (cfg.xapp_name, cfg.http_port, cfg.rmr_port, cfg.config_file) == ("kpimon", 8081, 4565, str(path))
    assert cfg.use_fake_sdl is False
    assert cfg.client_host == "service-ricxapp-kpimon-http.ricxapp"
    assert cfg.submgr.url == "http://service-plt-submgr-http.plt:8088/ric/v1"


def test_descriptor_path_fallback_and_legacy_xapp_name(tmp_path: Path) -> None:
    (tmp_path / "config-file.json").write_text(json.dumps({"xapp_name": "qp"}))
    cfg = RicConfig.from_env({"XAPP_DESCRIPTOR_PATH": str(tmp_path)})
    assert cfg.xapp_name == "qp" and cfg.rmr_port == 4560


def test_explicit_settings_are_kept_over_derived_ones() -> None:
    base = RicConfig(submgr=SubmgrConfig(url="http://127.0.0.1:9/ric/v1", client_host="127.0.0.1"))
    cfg = RicConfig.from_env({"RMR_SRC_ID": "service-ricxapp-x-rmr.ricxapp", "PLT_NAMESPACE": "plt"}, base)
    assert cfg.submgr == base.submgr


@pytest.mark.parametrize("env, match", [
    ({"USE_FAKE_SDL": "maybe"}, "USE_FAKE_SDL"),
    ({"CONFIG_FILE": "/nonexistent/config-file.json"}, "cannot read the xApp descriptor"),
])
def test_bad_environment_raises_config_error(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RicConfig.from_env(env)


@pytest.mark.parametrize("kwargs", [{"rmr_port": 0}, {"http_port": 70000}, {"xapp_name": ""},
                                    {"poll_interval_s": 0.0}, {"send_retries": 0}])
def test_invalid_values_raise(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        RicConfig(**kwargs)


def test_submgr_directive_ranges() -> None:
    with pytest.raises(ConfigError, match="e2_timeout_timer_s"):
        SubmgrConfig(e2_timeout_timer_s=11)
    with pytest.raises(ConfigError, match="http://"):
        SubmgrConfig(url="https://x")


def test_ric_config_loads_from_yaml_mappings() -> None:
    cfg = from_dict(RicConfig, {"xapp_name": "rrm", "submgr": {"response_timeout_s": 3.0}})
    assert cfg.xapp_name == "rrm" and cfg.submgr.response_timeout_s == 3.0


def test_descriptor_ports_ignores_malformed_entries() -> None:
    assert descriptor_ports({"messaging": {"ports": [{"name": "http", "port": "80"}, 3]}}) == (None, None)
    assert descriptor_ports(DESCRIPTOR) == (8081, 4565)
