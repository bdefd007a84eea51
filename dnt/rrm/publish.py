"""The rApp side of the RRM policy: train (or load) it, publish it in the model registry, name it over A1.

:func:`publish_rrm_policy` is what the vtwin rApp calls after its ``dnt-twin`` policy, with the
``rrm_policy`` setting:

* ``off`` — nothing (training costs time);
* ``heuristic`` — no model: a ``dnt-rrm`` instance with the safety thresholds and decision period only, so
  the rrm xApps decide with their proportional-to-forecast heuristic under these thresholds;
* ``train`` — :func:`train_policy`: PPO (:func:`dnt.rl.ppo.train`, small settings) in
  :class:`dnt.rl.env.SliceEnv` on the rApp's own historical traffic (the cells the V-twin was built from);
* a file path — a bundle written by ``RrmPolicy.to_bytes()`` (e.g. by ``bench/rrm.py`` or a previous
  ``train``), checked to load with the node features the rrm computes.

The bundle is published under the SHA-256 of its bytes (:class:`dnt.twin.registry.ModelRegistry`), the
``dnt-rrm`` type (:mod:`dnt.rrm.a1`) is onboarded on the A1 mediator and the instance created, naming the
version, the digest and the registry URL. :mod:`dnt.rl` is imported only for ``train`` and paths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnt.data.frame import Traffic
from dnt.errors import ConfigError, DataError, DntError, PolicyError
from dnt.ran.slices import SLICE_NAMES
from dnt.rrm.a1 import RRM_POLICY_TYPE_ID, rrm_policy_type, validate_rrm_policy
from dnt.rrm.features import FEATURES
from dnt.twin.registry import ModelRegistry, a1_put_policy, a1_put_policy_type

__all__ = ["RrmPublishConfig", "policy_mode", "train_policy", "load_policy_bytes", "rrm_policy_body",
           "publish_rrm_policy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RrmPublishConfig:
    """What the rApp puts in the ``dnt-rrm`` policy, and how it trains (``rapps/vtwin/config.yaml``, ``rrm:``)."""

    instance: str = "dnt-rrm-1"
    """A1 policy instance id."""
    decision_period_s: float = 10.0
    """Seconds between two decisions of the rrm xApps."""
    enforce: bool = True
    """False: the xApps decide and record, but send no controls (dry run)."""
    sla_floor_prb_ratio: dict[str, int] = field(default_factory=lambda: {"embb": 30, "voice": 15, "messaging": 5})
    """Per-slice floor of the min PRB ratio, percent."""
    max_cell_load: float = 0.9
    """Fraction of the PRBs the slices' guaranteed ratios may add up to."""
    train_timesteps: int = 2048
    """PPO env steps for ``train`` (the bench trains ~100k; this is a smoke-sized policy)."""
    train_envs: int = 2
    """Envs stepped in lock-step while training."""
    train_steps_per_rollout: int = 64
    """PPO ``num_steps`` per env per rollout."""
    test_days: int = 1
    """Days of the traffic the env holds out."""
    seed: int = 0
    save_path: str = ""
    """Also write the trained bundle here (empty: registry only)."""

    def __post_init__(self) -> None:
        if sorted(self.sla_floor_prb_ratio) != sorted(SLICE_NAMES):
            raise ConfigError(f"rrm.sla_floor_prb_ratio needs the slices {list(SLICE_NAMES)}, "
                              f"got {sorted(self.sla_floor_prb_ratio)}")
        if self.train_timesteps < 1 or self.train_envs < 1 or self.train_steps_per_rollout < 1:
            raise ConfigError("rrm: train_timesteps, train_envs and train_steps_per_rollout must be >= 1")
        try:
            validate_rrm_policy(rrm_policy_body(self))
        except PolicyError as err:
            raise ConfigError(f"rrm: {err}") from err


def policy_mode(value: str | bool) -> str:
    """``off`` / ``heuristic`` / ``train`` / a path, from a config value (YAML reads a bare ``off`` as False)."""
    if value is False or value is None:
        return "off"
    if value is True:
        raise ConfigError("rrm_policy: true is ambiguous; name 'train', 'heuristic' or a bundle path")
    text = str(value).strip()
    if not text:
        return "off"
    return text if text in ("off", "heuristic", "train") else str(Path(text))


def train_policy(traffic: Traffic | None, cfg: RrmPublishConfig) -> Any:
    """Train an RRM policy with PPO in ``SliceEnv`` on ``traffic`` (None: the env's synthetic cluster).

    Returns
    -------
    dnt.rl.policy.RrmPolicy
        Trained on :data:`dnt.rrm.features.FEATURES` (the env's node features).
    """
    from dnt.rl.env import EnvConfig, SliceEnv
    from dnt.rl.ppo import PPOConfig, train

    days = traffic.n_steps // traffic.steps_per_day if traffic is not None else EnvConfig().days
    # as bench/rrm.py measures it: min-ratio quotas (the xApp's prb_mode), the guaranteed-floor shield in the
    # loop, and the bench's PPO settings (lr 1e-3, no entropy bonus, gamma 0.9, 8 epochs)
    env_cfg = EnvConfig(days=max(days, 2), test_days=min(cfg.test_days, max(days, 2) - 1), prb_mode="min",
                        shield=True)
    ppo = PPOConfig(total_timesteps=cfg.train_timesteps, num_steps=cfg.train_steps_per_rollout,
                    learning_rate=1e-3, ent_coef=0.0, gamma=0.9, update_epochs=8, seed=cfg.seed)
    policy, stats = train([lambda: SliceEnv(env_cfg, traffic) for _ in range(cfg.train_envs)], ppo, progress=False,
                          features=FEATURES)
    log.info("RRM policy trained: %d env steps in %.1f s (%.0f steps/s)", stats.steps, stats.wall_s,
             stats.steps_per_s)
    return policy


def load_policy_bytes(path: str | Path) -> bytes:
    """The bundle at ``path``, checked to load with the rrm's node features.

    Raises
    ------
    DataError
        Unreadable file, or a bundle that does not load (bad hash, other features).
    """
    from dnt.rl.policy import RrmPolicy

    try:
        data = Path(path).read_bytes()
        RrmPolicy.from_bytes(data, features=FEATURES, source=str(path))
    except OSError as err:
        raise DataError(f"cannot read the RRM policy bundle {path}: {err}") from err
    except DntError as err:
        raise DataError(f"RRM policy bundle {path} refused: {err}") from err
    return data


def rrm_policy_body(cfg: RrmPublishConfig, version: int | None = None, digest: str | None = None,
                    model_url: str | None = None) -> dict[str, Any]:
    """The ``dnt-rrm`` instance body (with the model when ``digest`` is given)."""
    body: dict[str, Any] = {
        "decision_period_s": float(cfg.decision_period_s), "enforce": bool(cfg.enforce),
        "safety": {"sla_floor_prb_ratio": {s: int(cfg.sla_floor_prb_ratio[s]) for s in SLICE_NAMES},
                   "max_cell_load": float(cfg.max_cell_load)},
    }
    if digest is not None:
        body.update(model_version=int(version or 0), model_digest=digest)
        if model_url:
            body["model_url"] = model_url
    return body


def publish_rrm_policy(reg: ModelRegistry, mode: str | bool, cfg: RrmPublishConfig, *, a1_url: str = "",
                       registry_url: str = "", traffic: Traffic | None = None, version: int = 1
                       ) -> dict[str, Any] | None:
    """Train or load the policy per ``mode``, publish it in ``reg`` and (with ``a1_url``) create the instance.

    Returns
    -------
    dict or None
        The ``dnt-rrm`` body (None when ``mode`` is off).

    Raises
    ------
    DataError, PolicyError, TransportError
        A bundle that does not load, a body or type the mediator refuses, the mediator unreachable.
    """
    mode = policy_mode(mode)
    if mode == "off":
        return None
    digest = None
    if mode != "heuristic":
        if mode == "train":
            data = train_policy(traffic, cfg).to_bytes()
            if cfg.save_path:
                Path(cfg.save_path).write_bytes(data)
        else:
            data = load_policy_bytes(mode)
        digest = reg.publish(data, version).digest
    body = validate_rrm_policy(rrm_policy_body(cfg, version, digest, registry_url or None))
    if a1_url:
        a1_put_policy_type(a1_url, rrm_policy_type())
        a1_put_policy(a1_url, RRM_POLICY_TYPE_ID, cfg.instance, body)
        log.info("A1 policy %d/%s created: %s", RRM_POLICY_TYPE_ID, cfg.instance, body)
    return body
