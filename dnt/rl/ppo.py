"""PPO with a GNN actor-critic, a safety shield in the loop and a Lagrangian penalty on interventions.

One readable file in CleanRL's spirit (``cleanrl/ppo_continuous_action.py``): config → rollout → GAE →
minibatch clipped update, top to bottom, with GAE and the losses as tested functions.

* PPO: Schulman et al., "Proximal Policy Optimization Algorithms", arXiv 1707.06347 (clipped surrogate,
  value clipping, entropy bonus); GAE: Schulman et al., arXiv 1506.02438.
* Implementation details follow CleanRL / Huang et al., "The 37 Implementation Details of PPO" (ICLR blog
  track 2022): orthogonal init, Adam eps 1e-5, linear LR annealing, advantage normalisation per
  minibatch, global gradient clipping, observation and reward normalisation (running statistics).
* Per-cell credit: the cluster reward is a mean over cells, so each cell gets its own reward
  (:func:`slice_cell_rewards`: its weighted satisfaction, SLA and sync terms, plus an equal part of the
  rest), its own value (critic on its embedding and the pooled cluster embedding), GAE and clipped ratio,
  with parameters shared by all cells — independent PPO with parameter sharing (de Witt et al. 2020,
  arXiv 2011.09533; MAPPO, Yu et al. 2022), the value decomposition Yu et al.'s twin-sync paper uses with
  VDN. Envs without per-cell rewards give every cell the cluster reward.
* Safety: every action passes the env's shield (``EnvConfig(shield=True)``, :mod:`dnt.rl.shield`); a
  shielded cell is a CMDP cost. PPO optimises ``r_c − λ · shielded_c`` (mean over cells: ``r − λ·I/C``)
  with ``λ ← max(0, λ + η (Ĵ_c − d))``, Ĵ_c the fraction of cells shielded per step over the rollout,
  updated once per rollout by ``LagrangeMultiplier`` (PPO-Lagrangian, Ray et al. 2019; OmniSafe's PPOLag).

Defaults (``PPOConfig``) are CleanRL ``ppo.py``'s (reference/algorithms.md §4.2): lr 2.5e-4 linearly
annealed, 128 steps per env per rollout (CleanRL runs 4 envs: batch 512; here the envs are ``env_fns``),
4 minibatches, 4 epochs, γ 0.99, λ_GAE 0.95, clip 0.2 with clipped value loss, entropy 0.01 (of the
per-cell Gaussian entropy, averaged over cells), value 0.5, max grad norm 0.5, Adam eps 1e-5 (fused
kernel, same update), 64-wide tanh layers with orthogonal init. ``bench/rrm.py`` changes four of them
for the slicing env and says why. Envs may have different numbers of cells; the batch is padded to the
largest with a node mask. Training is deterministic given ``seed`` (torch threads pinned to 1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from dnt.errors import ConfigError
from dnt.progress import progress_callback
from dnt.rl.env import NODE_FEATURES
from dnt.rl.policy import ACTION_DIM, ActorCritic, NetConfig, RrmPolicy
from dnt.rl.shield import LagrangeMultiplier

__all__ = ["PPOConfig", "TrainStats", "gae", "ppo_losses", "train"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PPOConfig:
    """PPO settings; defaults are CleanRL's ``ppo.py`` (algorithms.md §4.2)."""

    total_timesteps: int = 500_000
    """Env steps over all envs (CleanRL 500 000)."""
    learning_rate: float = 2.5e-4
    """Adam learning rate (CleanRL 2.5e-4; SB3 3e-4)."""
    anneal_lr: bool = True
    """Anneal the learning rate linearly to 0 over the run."""
    num_steps: int = 128
    """Steps per env per rollout (CleanRL 128; SB3 ``n_steps`` 2048)."""
    num_minibatches: int = 4
    """Minibatches per epoch (CleanRL 4)."""
    update_epochs: int = 4
    """Epochs over each rollout (CleanRL 4; SB3 10)."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """GAE λ."""
    clip_coef: float = 0.2
    """Policy ratio clip ε (and the value clip, as CleanRL)."""
    clip_vloss: bool = True
    """Clip the value loss around the rollout's values."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    ent_coef: float = 0.01
    """Entropy bonus (CleanRL ppo.py 0.01; ppo_continuous_action 0.0), on the per-cell entropy."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    target_kl: float | None = None
    """Stop the epoch loop early when the approximate KL exceeds this (None: never)."""
    norm_obs: bool = True
    """Standardise node features with running statistics (kept in the policy's weights)."""
    norm_reward: bool = True
    """Scale rewards by the running std of the discounted return (CleanRL's NormalizeReward)."""
    hidden: int = 64
    """GCN / head width."""
    gnn_layers: int = 2
    """GCN layers."""
    activation: str = "tanh"
    """Hidden activation of the GCN and heads (``tanh``: CleanRL's; ``relu``: Kipf & Welling's GCN, ~10 % faster
    here but a little worse on the slicing env at 60k steps, seed 0)."""
    init_log_std: float = -0.5
    """Initial log-std of the Gaussian policy."""
    cost_limit: float = 0.0
    """Lagrangian cost limit d: allowed fraction of cells shielded per env step."""
    lagrange_lr: float = 0.05
    """Lagrange multiplier step size η (0 disables the penalty)."""
    seed: int = 0
    """Seeds torch, the action noise, minibatch order and env resets."""

    def __post_init__(self) -> None:
        if self.total_timesteps < 1 or self.num_steps < 1 or self.num_minibatches < 1 or self.update_epochs < 1:
            raise ConfigError(f"PPOConfig: sizes must be >= 1 ({self})")
        if not (0.0 <= self.gamma <= 1.0 and 0.0 <= self.gae_lambda <= 1.0):
            raise ConfigError(f"PPOConfig: gamma and gae_lambda must be in [0, 1], got {self.gamma}, {self.gae_lambda}")
        if self.learning_rate <= 0 or self.clip_coef <= 0:
            raise ConfigError("PPOConfig: learning_rate and clip_coef must be > 0")


@dataclass
class TrainStats:
    """What happened during training: one entry per update in each list, plus totals."""

    global_step: list[int] = field(default_factory=list)
    sps: list[float] = field(default_factory=list)
    episode_return: list[float] = field(default_factory=list)
    """Mean raw (unpenalised) return of episodes that ended during the rollout (NaN if none)."""
    interventions_per_step: list[float] = field(default_factory=list)
    lagrange_lambda: list[float] = field(default_factory=list)
    policy_loss: list[float] = field(default_factory=list)
    value_loss: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    approx_kl: list[float] = field(default_factory=list)
    clipfrac: list[float] = field(default_factory=list)
    explained_variance: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    rollout_s: float = 0.0
    """Seconds spent collecting rollouts (env steps included)."""
    update_s: float = 0.0
    """Seconds spent in GAE and the gradient updates."""
    steps: int = 0

    @property
    def steps_per_s(self) -> float:
        """Env steps per second over the whole run (CleanRL's ``charts/SPS``)."""
        return self.steps / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "steps_per_s": self.steps_per_s}


# --- tested pieces ----------------------------------------------------------------------------------
def gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, next_value: np.ndarray,
        next_done: np.ndarray, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation, CleanRL's indexing.

    Parameters
    ----------
    rewards, values : (T, N, ...)
        Per step and env (and per cell: any trailing axes).
    dones : (T, N, ...), broadcastable to ``rewards``
        ``dones[t]`` is 1 where the observation at step t *starts* a new episode (the previous step ended one).
    next_value, next_done : (N, ...)
        Value and done flag of the observation after the last step.

    Returns
    -------
    advantages, returns : shaped like ``rewards``
        ``Â_t = Σ_k (γλ)^k δ_{t+k}``, ``δ_t = r_t + γ V(s_{t+1}) (1 − done_{t+1}) − V(s_t)``; returns = Â + V.
    """
    t_len = rewards.shape[0]
    adv = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1:], dtype=np.float64)
    for t in reversed(range(t_len)):
        if t == t_len - 1:
            nonterminal, nv = 1.0 - next_done, next_value
        else:
            nonterminal, nv = 1.0 - dones[t + 1], values[t + 1]
        delta = rewards[t] + gamma * nv * nonterminal - values[t]
        last = delta + gamma * lam * nonterminal * last
        adv[t] = last
    return adv.astype(np.float32), (adv + values).astype(np.float32)


def ppo_losses(new_logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, new_value: torch.Tensor,
               old_value: torch.Tensor, returns: torch.Tensor, clip_coef: float, clip_vloss: bool,
               weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clipped surrogate policy loss, (clipped) value loss, approx KL and clip fraction.

    All tensors have one shape (samples, or samples × cells); ``weight`` (0/1, e.g. the node mask) averages
    over the real entries only.
    """
    w = torch.ones_like(adv) if weight is None else weight.to(adv.dtype)
    n = w.sum().clamp_min(1.0)
    logratio = new_logp - old_logp
    ratio = logratio.exp()
    pg_loss = (torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef)) * w).sum() / n
    if clip_vloss:
        v_clipped = old_value + (new_value - old_value).clamp(-clip_coef, clip_coef)
        v_loss = 0.5 * (torch.max((new_value - returns) ** 2, (v_clipped - returns) ** 2) * w).sum() / n
    else:
        v_loss = 0.5 * (((new_value - returns) ** 2) * w).sum() / n
    with torch.no_grad():
        approx_kl = (((ratio - 1) - logratio) * w).sum() / n  # the low-variance k3 estimator
        clipfrac = ((((ratio - 1.0).abs() > clip_coef).to(adv.dtype)) * w).sum() / n
    return pg_loss, v_loss, approx_kl, clipfrac


def slice_cell_rewards(env: Any, info: dict[str, Any], reward: float) -> np.ndarray | None:
    """(C,) per-cell rewards of a :class:`~dnt.rl.env.SliceEnv` step whose mean is the step's reward.

    Cell c gets ``Σ_s w_s·served/demand − sla_penalty·V_c − sync_cost_weight·sync_c −
    intervention_penalty·I_c`` (the env's reward terms that belong to one cell) plus an equal share of the
    remainder (the churn term). None when ``info`` lacks the per-cell arrays (the caller then broadcasts
    the cluster reward).
    """
    cfg = getattr(env, "cfg", None)
    need = ("served", "demand", "violated", "sync_share", "horizontal")
    if cfg is None or not all(k in info for k in need):
        return None
    demand = np.asarray(info["demand"], dtype=np.float64)
    served = np.asarray(info["served"], dtype=np.float64)
    frac = np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), 1.0)
    r = frac @ cfg.weights - cfg.sla_penalty * np.asarray(info["violated"]).sum(axis=1)
    cost = np.where(np.asarray(info["horizontal"]), cfg.h_cost_factor, cfg.v_cost_factor)
    r = r - cfg.sync_cost_weight * np.asarray(info["sync_share"], dtype=np.float64) * cost
    if "intervened" in info:
        r = r - cfg.intervention_penalty * np.asarray(info["intervened"], dtype=np.float64)
    return np.asarray(r + (reward - r.mean()))



class _RunningMeanStd:
    """Running mean/variance of node features (Chan et al.'s parallel update), as numpy for the hot loop."""

    def __init__(self, n: int, clip: float) -> None:
        self.mean, self.var, self.count, self.clip = np.zeros(n), np.ones(n), 1e-4, clip
        self._scale = np.ones(n, np.float32)
        self._shift = np.zeros(n, np.float32)

    def update(self, x: np.ndarray) -> None:
        if x.shape[0] == 0:
            return
        bm, bv, n = x.mean(axis=0, dtype=np.float64), x.var(axis=0, dtype=np.float64), x.shape[0]
        delta, tot = bm - self.mean, self.count + n
        self.mean = self.mean + delta * n / tot
        self.var = (self.var * self.count + bv * n + delta**2 * self.count * n / tot) / tot
        self.count = tot
        self._shift = self.mean.astype(np.float32)
        self._scale = (1.0 / np.sqrt(self.var.astype(np.float32) + np.float32(1e-8))).astype(np.float32)

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """The same standardisation as :meth:`ActorCritic.normalise`."""
        return np.clip((x - self._shift) * self._scale, -self.clip, self.clip)


class _ReturnScaler:
    """CleanRL/gymnasium NormalizeReward: divide rewards by the running std of the discounted return."""

    def __init__(self, n_envs: int, gamma: float) -> None:
        self.ret = np.zeros(n_envs)
        self.gamma = gamma
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def update(self, r: np.ndarray, done: np.ndarray) -> float:
        """Fold one step's (N,) rewards into the running return statistics; return the std to divide by."""
        self.ret = self.ret * self.gamma + r
        bm, bv, n = float(self.ret.mean()), float(self.ret.var()), len(self.ret)
        delta, tot = bm - self.mean, self.count + n
        self.mean += delta * n / tot
        self.var = (self.var * self.count + bv * n + delta**2 * self.count * n / tot) / tot
        self.count = tot
        self.ret[done] = 0.0
        return float(np.sqrt(self.var + 1e-8))


# --- training ------------------------------------------------------------------------------------------
CellRewardFn = Callable[[Any, dict[str, Any], float], "np.ndarray | None"]


def train(env_fns: Sequence[Callable[[], Any]], cfg: PPOConfig | None = None, progress: bool = True,
          features: Sequence[str] | None = None, cell_rewards: CellRewardFn | None = slice_cell_rewards
          ) -> tuple[RrmPolicy, TrainStats]:
    """Train a GNN policy with PPO on ``len(env_fns)`` envs stepped in lock-step.

    Parameters
    ----------
    env_fns : sequence of callables
        Each returns a ``SliceEnv``-like env: ``Dict(nodes (C, F), adj (C, C)[, mask (C,)])`` observations
        and ``(C, 5)`` actions; C may differ between envs. The shield is the env's own
        (``EnvConfig(shield=True)``): ``info["intervened"]`` (C,) or ``info["interventions"]`` is the cost.
    cfg : PPOConfig
        Settings (CleanRL defaults).
    progress : bool
        Show a rich progress bar; steps/s is logged once per update either way.
    features : sequence of str, optional
        Node feature names stored in the policy (default: ``dnt.rl.env.NODE_FEATURES``).
    cell_rewards : callable, optional
        ``cell_rewards(env, info, reward) -> (C,) | None`` splits a step's reward over the cells
        (default :func:`slice_cell_rewards`); None or a None result gives every cell the cluster reward.

    Returns
    -------
    policy : RrmPolicy
        The deployable policy (mean action).
    stats : TrainStats
        Per-update curves, throughput.
    """
    cfg = cfg or PPOConfig()
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)

    envs = [fn() for fn in env_fns]
    n_envs = len(envs)
    if n_envs == 0:
        raise ConfigError("train: need at least one env")
    obs = [e.reset(seed=int(cfg.seed * 1000 + i))[0] for i, e in enumerate(envs)]
    sizes = [o["nodes"].shape[0] for o in obs]
    n_feat = obs[0]["nodes"].shape[1]
    n_max = max(sizes)
    features = NODE_FEATURES if features is None else features
    net = ActorCritic(NetConfig(n_feat, cfg.hidden, cfg.gnn_layers, cfg.init_log_std, activation=cfg.activation))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate, eps=1e-5, fused=True)
    lagrange = LagrangeMultiplier(cfg.cost_limit, cfg.lagrange_lr)
    lam = 0.0
    scaler = _ReturnScaler(n_envs, cfg.gamma) if cfg.norm_reward else None

    # storage: (T, N, n_max, ...) padded; the node mask is fixed per env
    t_len = cfg.num_steps
    batch = t_len * n_envs
    mb_size = max(1, batch // cfg.num_minibatches)
    n_updates = max(1, cfg.total_timesteps // batch)
    mask_np = np.zeros((n_envs, n_max), bool)
    for i, (c, o) in enumerate(zip(sizes, obs, strict=True)):
        mask_np[i, :c] = np.asarray(o.get("mask", np.ones(c)), dtype=np.float32) > 0.5
    mask_f = mask_np[:, :, None].astype(np.float32)
    n_real = mask_np.sum(axis=1)
    mask_t: torch.Tensor | None = None if mask_np.all() else torch.from_numpy(mask_np)  # no padding: skip masking
    obs_rms = _RunningMeanStd(n_feat, net.cfg.obs_clip)
    b_nodes = np.zeros((t_len, n_envs, n_max, n_feat), np.float32)
    b_adj = np.zeros((t_len, n_envs, n_max, n_max), np.float32)
    b_act = np.zeros((t_len, n_envs, n_max, ACTION_DIM), np.float32)
    b_logp = np.zeros((t_len, n_envs, n_max), np.float32)
    b_rew = np.zeros((t_len, n_envs, n_max), np.float32)
    b_val = np.zeros((t_len, n_envs, n_max), np.float32)
    b_done = np.zeros((t_len, n_envs, 1), np.float32)
    cur_nodes = np.zeros((n_envs, n_max, n_feat), np.float32)
    cur_adj = np.zeros((n_envs, n_max, n_max), np.float32)
    next_done = np.zeros((n_envs, 1), np.float32)
    ep_ret = np.zeros(n_envs)
    stats = TrainStats()

    def load(i: int, o: Any) -> None:
        c = sizes[i]
        if o["nodes"].shape[0] != c:
            raise ConfigError(f"train: env {i} changed its number of cells from {c} to {o['nodes'].shape[0]}")
        cur_nodes[i, :c] = o["nodes"]
        cur_adj[i, :c, :c] = o["adj"]

    def standardised(update_stats: bool) -> torch.Tensor:
        if cfg.norm_obs and update_stats:
            obs_rms.update(cur_nodes[mask_np])
        return torch.from_numpy(obs_rms.normalise(cur_nodes) * mask_f)

    def per_cell(i: int, info: dict[str, Any], r: float) -> tuple[np.ndarray, np.ndarray]:
        """Cell rewards and shield costs (fraction of the cell shielded: 0/1) of env i, padded."""
        rc = np.full(n_max, r)
        split = cell_rewards(envs[i], info, r) if cell_rewards is not None else None
        c = n_real[i]
        if split is not None:
            rc[:c] = split[:c]
        cost = np.zeros(n_max)
        if "intervened" in info:
            cost[:c] = np.asarray(info["intervened"], dtype=np.float64)[:c]
        else:
            cost[:c] = float(info.get("interventions", 0.0)) / max(c, 1)
        return rc * mask_np[i], cost

    for i, o in enumerate(obs):
        load(i, o)
    start = time.perf_counter()
    global_step = 0
    with progress_callback("PPO", enabled=progress) as tick:
        for update in range(n_updates):
            if cfg.anneal_lr:
                opt.param_groups[0]["lr"] = cfg.learning_rate * (1.0 - update / n_updates)
            ended: list[float] = []
            cost_sum = 0.0
            t_roll = time.perf_counter()
            # 1. rollout: the mean action plus Gaussian noise, through the env's shield
            for t in range(t_len):
                z = standardised(update_stats=True)
                b_adj[t] = cur_adj
                adj_t = torch.from_numpy(b_adj[t])
                with torch.inference_mode():
                    mean, value = net(z, adj_t, mask_t)
                    noise = torch.randn(mean.shape, generator=gen)
                    action = mean + net.log_std.exp() * noise
                    if mask_t is not None:
                        action = action * mask_t.unsqueeze(-1)
                    logp, _ = net.log_prob_entropy(mean, action, mask_t)
                b_nodes[t] = z.numpy()
                b_act[t], b_logp[t], b_val[t], b_done[t] = action.numpy(), logp.numpy(), value.numpy(), next_done
                act_np = action.numpy().clip(-10.0, 10.0)
                rewards = np.zeros((n_envs, n_max))
                dones = np.zeros(n_envs, bool)
                boot: list[tuple[int, Any]] = []
                for i, env in enumerate(envs):
                    o, r, term, trunc, info = env.step(act_np[i, :sizes[i]])
                    rc, cost = per_cell(i, info, float(r))
                    cost_sum += float(cost.sum()) / n_real[i]
                    ep_ret[i] += r
                    rewards[i] = rc - lam * cost
                    if term or trunc:
                        ended.append(float(ep_ret[i]))
                        ep_ret[i] = 0.0
                        dones[i] = True
                        if trunc and not term:
                            boot.append((i, o))
                        o, _ = env.reset()
                    obs[i] = o
                global_step += n_envs
                if scaler is not None:
                    rewards = rewards / scaler.update(rewards.sum(axis=1) / n_real, dones)
                if boot:  # time-limit truncation: bootstrap from the final observation (SB3's handling)
                    for i, o in boot:
                        load(i, o)
                    with torch.inference_mode():
                        v_end = net.value(standardised(update_stats=False), torch.from_numpy(cur_adj), mask_t).numpy()
                    for i, _ in boot:
                        rewards[i] += cfg.gamma * v_end[i]
                b_rew[t] = rewards
                next_done = dones.astype(np.float32)[:, None]
                for i in range(n_envs):
                    load(i, obs[i])

            # 2. per-cell GAE; the Lagrange multiplier follows the rollout's shield rate
            t_upd = time.perf_counter()
            stats.rollout_s += t_upd - t_roll
            with torch.inference_mode():
                next_value = net.value(standardised(update_stats=False), torch.from_numpy(cur_adj), mask_t).numpy()
            adv, ret = gae(b_rew, b_val, b_done, next_value, next_done, cfg.gamma, cfg.gae_lambda)
            lam = float(lagrange.update(cost_sum / (t_len * n_envs)))

            # 3. minibatch updates of the clipped objective, per cell, over real cells only
            f_nodes = torch.from_numpy(b_nodes.reshape(batch, n_max, n_feat))
            f_adj = torch.from_numpy(b_adj.reshape(batch, n_max, n_max))
            f_mask = torch.from_numpy(mask_np).repeat(t_len, 1)
            f_act = torch.from_numpy(b_act.reshape(batch, n_max, ACTION_DIM))
            f_logp = torch.from_numpy(b_logp.reshape(batch, n_max))
            f_val = torch.from_numpy(b_val.reshape(batch, n_max))
            f_adv = torch.from_numpy(adv.reshape(batch, n_max))
            f_ret = torch.from_numpy(ret.reshape(batch, n_max))
            net.train()
            pg_l = v_l = ent_l = kl_v = cf_v = 0.0
            for _epoch in range(cfg.update_epochs):
                perm = rng.permutation(batch)
                for s in range(0, batch, mb_size):
                    idx = torch.from_numpy(perm[s:s + mb_size])
                    m = f_mask[idx]
                    mask_arg = None if mask_t is None else m
                    mean, value = net(f_nodes[idx], f_adj[idx], mask_arg)
                    new_logp, ent = net.log_prob_entropy(mean, f_act[idx], mask_arg)
                    mb_adv = f_adv[idx]
                    if cfg.norm_adv:
                        real = mb_adv[m]
                        if real.numel() > 1:
                            mb_adv = (mb_adv - real.mean()) / (real.std() + 1e-8)
                    pg_loss, v_loss, approx_kl, clipfrac = ppo_losses(
                        new_logp, f_logp[idx], mb_adv, value, f_val[idx], f_ret[idx], cfg.clip_coef,
                        cfg.clip_vloss, weight=m)
                    entropy = ent[m].mean()
                    loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
                    opt.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                    opt.step()
                    pg_l, v_l, ent_l = pg_loss.item(), v_loss.item(), entropy.item()
                    kl_v, cf_v = approx_kl.item(), clipfrac.item()
                if cfg.target_kl is not None and kl_v > cfg.target_kl:
                    break
            net.eval()
            stats.update_s += time.perf_counter() - t_upd

            real_all = np.broadcast_to(mask_np, ret.shape)
            var_y = float(np.var(ret[real_all]))
            elapsed = time.perf_counter() - start
            stats.global_step.append(global_step)
            stats.sps.append(global_step / elapsed)
            stats.episode_return.append(float(np.mean(ended)) if ended else float("nan"))
            stats.interventions_per_step.append(cost_sum / (t_len * n_envs))
            stats.lagrange_lambda.append(lam)
            stats.policy_loss.append(pg_l)
            stats.value_loss.append(v_l)
            stats.entropy.append(ent_l)
            stats.approx_kl.append(kl_v)
            stats.clipfrac.append(cf_v)
            stats.explained_variance.append(
                float("nan") if var_y == 0 else 1.0 - float(np.var((ret - b_val)[real_all])) / var_y)
            log.info("update %d/%d step %d SPS %.0f return %.4g shielded/step %.3g lambda %.3g",
                     update + 1, n_updates, global_step, stats.sps[-1], stats.episode_return[-1],
                     stats.interventions_per_step[-1], lam)
            tick(global_step, n_updates * batch)  # env steps; SPS is logged per update
    stats.wall_s = time.perf_counter() - start
    stats.steps = global_step
    net.set_obs_stats(obs_rms.mean, obs_rms.var, obs_rms.count)
    meta = {"ppo": asdict(cfg), "steps": global_step}  # no wall time: same seed, same bundle digest
    max_sync = float(getattr(getattr(envs[0], "cfg", None), "max_sync_share", 1.0))
    return RrmPolicy(net, list(features), meta, max_sync_share=max_sync), stats
