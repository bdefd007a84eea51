"""The rApp side: an RRM policy trained or loaded, published in the registry, its dnt-rrm body, the config."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

from dnt import config as dnt_config
from dnt.data.synth import SynthConfig, generate
from dnt.errors import ConfigError, DataError
from dnt.ric.sdl import MemoryStore
from dnt.rrm.a1 import validate_rrm_policy
from dnt.rrm.features import FEATURES
from dnt.rrm.publish import RrmPublishConfig, policy_mode, publish_rrm_policy
from dnt.rrm.service import RrmService
from dnt.twin.registry import ModelRegistry

REPO = Path(__file__).resolve().parents[3]


def _bundle(features) -> bytes:
    from dnt.rl.policy import ActorCritic, NetConfig, RrmPolicy

    return RrmPolicy(ActorCritic(NetConfig(len(features), hidden=8, layers=1)), features).to_bytes()


def test_modes_from_config_values() -> None:
    assert policy_mode(False) == policy_mode("") == policy_mode("off") == "off"  # YAML's bare off is False
    assert policy_mode("train") == "train" and policy_mode("heuristic") == "heuristic"
    assert policy_mode("runs/rrm.bin") == "runs/rrm.bin"
    with pytest.raises(ConfigError):
        policy_mode(True)
    with pytest.raises(ConfigError, match="add up to"):
        RrmPublishConfig(sla_floor_prb_ratio={"embb": 50, "voice": 40, "messaging": 10}, max_cell_load=0.9)


def test_off_publishes_nothing_and_heuristic_names_no_model() -> None:
    reg = ModelRegistry()
    assert publish_rrm_policy(reg, False, RrmPublishConfig()) is None
    body = publish_rrm_policy(reg, "heuristic", RrmPublishConfig(decision_period_s=5))
    assert body is not None and "model_digest" not in body and body["decision_period_s"] == 5.0
    assert reg.entries() == [] and validate_rrm_policy(body) == body


def test_a_bundle_path_is_published_and_the_rrm_runs_it(tmp_path: Path) -> None:
    # Prepare
    data = _bundle(FEATURES)
    (tmp_path / "rrm.bin").write_bytes(data)
    reg = ModelRegistry()
    # Execute
    body = publish_rrm_policy(reg, str(tmp_path / "rrm.bin"), RrmPublishConfig(), registry_url="http://reg:1")
    svc = RrmService(MemoryStore())
    svc.apply_policy(body, lambda d, u: reg.get(d))
    # Assert
    assert body["model_digest"] == hashlib.sha256(data).hexdigest() and body["model_url"] == "http://reg:1"
    assert reg.get(body["model_digest"]) == data and svc.model is not None


def test_a_bundle_for_other_features_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.bin").write_bytes(_bundle([f"f{i}" for i in range(len(FEATURES))]))
    reg = ModelRegistry()
    with pytest.raises(DataError, match="features"):
        publish_rrm_policy(reg, str(tmp_path / "other.bin"), RrmPublishConfig())
    with pytest.raises(DataError, match="cannot read"):
        publish_rrm_policy(reg, str(tmp_path / "missing.bin"), RrmPublishConfig())
    assert reg.entries() == []


def test_train_gives_a_policy_on_the_rrms_features(tmp_path: Path) -> None:
    traffic = generate(SynthConfig(n_cells=4, days=3, seed=1))
    cfg = RrmPublishConfig(train_timesteps=64, train_envs=1, train_steps_per_rollout=32,
                           save_path=str(tmp_path / "p.bin"))
    reg = ModelRegistry()
    body = publish_rrm_policy(reg, "train", cfg, traffic=traffic)
    assert (tmp_path / "p.bin").read_bytes() == reg.get(body["model_digest"])
    svc = RrmService(MemoryStore())
    svc.apply_policy(body, lambda d, u: reg.get(d))
    assert tuple(svc.model.features) == FEATURES  # type: ignore[union-attr]


def test_the_vtwin_config_has_the_rrm_keys_off_by_default() -> None:
    spec = importlib.util.spec_from_file_location("vtwin_app", REPO / "rapps" / "vtwin" / "app.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    cfg = dnt_config.load(REPO / "rapps" / "vtwin" / "config.yaml", mod.VtwinAppConfig)
    assert policy_mode(cfg.rrm_policy) == "off" and cfg.rrm == RrmPublishConfig()
    cfg = dnt_config.load(REPO / "rapps" / "vtwin" / "config.yaml", mod.VtwinAppConfig,
                          ["rrm_policy=off", "rrm.max_cell_load=0.8"])
    assert policy_mode(cfg.rrm_policy) == "off" and cfg.rrm.max_cell_load == 0.8
