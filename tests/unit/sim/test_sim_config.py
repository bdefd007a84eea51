"""SimConfig: YAML example, overrides, validation, backoff."""

from pathlib import Path

import pytest

from dnt.errors import ConfigError
from sim.config import BackoffConfig, SimConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "sim" / "config.example.yaml"


def test_example_yaml_loads_and_overrides_apply():
    cfg = load_config(EXAMPLE, ["replay.speed=60", "ric.transport=tcp", "replay.policy.max_ratio=[50, 100, 100]"])
    assert isinstance(cfg, SimConfig)
    assert cfg.replay.speed == 60.0 and cfg.ric.transport == "tcp"
    assert cfg.replay.policy.max_ratio == (50, 100, 100)
    assert load_config(EXAMPLE) == load_config(None, ["ric.transport=tcp"])  # the example is the defaults + tcp


def test_unknown_keys_and_bad_values_are_refused():
    with pytest.raises(ConfigError, match="ric.hots"):
        load_config(None, ["ric.hots=x"])
    with pytest.raises(ConfigError, match="ric.transport"):
        load_config(None, ["ric.transport=udp"])
    with pytest.raises(ConfigError, match="e2.kpm_ran_function_id and e2.rc_ran_function_id"):
        load_config(None, ["e2.rc_ran_function_id=2"])
    with pytest.raises(ConfigError, match="guaranteed shares"):
        load_config(None, ["replay.policy.min_ratio=[60, 60, 0]"])


def test_backoff_grows_exponentially_is_capped_and_jittered():
    b = BackoffConfig(initial_s=0.5, max_s=4.0, multiplier=2.0, jitter=0.2)
    assert [b.delay_s(k, 0.5) for k in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert b.delay_s(0, 0.0) == pytest.approx(0.4) and b.delay_s(0, 0.999999) == pytest.approx(0.6, abs=1e-5)
    assert b.delay_s(100, 0.999999) <= 4.0 * 1.2
    assert BackoffConfig(jitter=0.0).delay_s(1000, 0.3) == 30.0
    with pytest.raises(ConfigError, match="initial_s <= max_s"):
        BackoffConfig(initial_s=5, max_s=1)
