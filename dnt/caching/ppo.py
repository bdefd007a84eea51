"""Compact PPO for :class:`~dnt.caching.env.CacheEnv` (Gaussian policy over the per-BS scoring rules).

CleanRL-style (``ppo_continuous_action.py``; Schulman et al., arXiv 1707.06347; GAE arXiv 1506.02438):
config → rollout → GAE → clipped minibatch update, with running observation normalisation, orthogonal
init, Adam eps 1e-5, advantage normalisation, global gradient clipping.

Per-BS credit: one actor and one critic are shared by all BSs (independent PPO with parameter sharing,
de Witt et al. 2020, arXiv 2011.09533). BS ``b`` sees its own features and the mean over BSs, picks its own
scoring rule (5 numbers), and is rewarded with its local hit share ``info["bs_hit_rate"][b]`` (minus
``λ·cost_b`` when constrained); it has its own value, GAE and clipped ratio. On the validation episodes
it did at least as well as one MLP over the joint 25-dim action with the global hit rate (hit rate 0.444
vs 0.442 after 30 iterations from the hand-designed blend; both stayed close to that start, which is why the
bench now starts from a naive rule via ``init_action``). :mod:`dnt.rl.ppo` is
built around graph observations and the slicing env, so this MLP version is separate; it reuses
:class:`dnt.rl.shield.LagrangeMultiplier`.

Several envs can feed one learner: each iteration collects one ``num_steps`` rollout from every env
(the physical env, plus twin-generated envs for the "w/ DNT" systems), so the physical sample budget is
the same with or without the twin. With ``pretrain_iterations`` the learner first trains on the twin's
envs alone (sim-to-real: the twin as the optimiser's simulator), then fine-tunes on the physical phase's
envs; each phase anneals the learning rate linearly from ``learning_rate`` (a bench run with one schedule
over both phases — the physical phase then ran at half the rate — and twin rollouts beside the physical
ones ended RL w/ DNT 0.009 below RL after 50 physical iterations).

With ``cost_limit`` set, PPO maximises ``r − λ·cost`` where the cost is
:func:`dnt.caching.shield.step_cost` and λ follows dual ascent once per iteration on the mean cost of the
physical rollout (PPO-Lagrangian, Ray et al. 2019; not during pre-training: the twin injects overload
surges the log has not seen, so its cost overstates the physical risk); the per-BS cost is that BS's
shield intervention plus its overload.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from dnt.caching.shield import step_cost
from dnt.errors import ConfigError
from dnt.rl.shield import LagrangeMultiplier

__all__ = ["PPOConfig", "ActorCritic", "CachePolicyNet", "gae", "per_bs", "train"]


@dataclass(frozen=True)
class PPOConfig:
    """PPO settings (CleanRL defaults unless noted)."""

    iterations: int = 30
    """Updates; the physical env gives ``iterations · num_steps`` steps."""
    num_steps: int = 200
    """Steps per env per rollout (one episode)."""
    learning_rate: float = 1e-3
    """Adam learning rate, linearly annealed (CleanRL 3e-4; 10× so that the few updates a 2-core budget
    allows can move the policy — chosen on validation seeds)."""
    update_epochs: int = 4
    """Epochs per update."""
    num_minibatches: int = 4
    """Minibatches per epoch."""
    gamma: float = 0.9
    """Discount (caching rewards are nearly immediate: a ~10-step horizon; CleanRL 0.99)."""
    gae_lambda: float = 0.95
    """GAE λ."""
    clip_coef: float = 0.2
    """Ratio clip ε."""
    ent_coef: float = 0.0
    """Entropy bonus (CleanRL continuous: 0)."""
    vf_coef: float = 0.5
    """Value-loss weight."""
    max_grad_norm: float = 0.5
    """Gradient clipping."""
    hidden: int = 64
    """Units of the two tanh layers."""
    init_log_std: float = -0.7
    """Initial log std of the Gaussian policy."""
    init_action: tuple[float, ...] | None = None
    """Initial policy mean (the actor's output bias; its last layer's weights then start at 0, so the
    untrained policy plays exactly this rule everywhere). ``None``: CleanRL init (output ≈ action 0). The
    bench starts from :data:`dnt.caching.agents.NAIVE_RULE`, so any gain over LRU/LFU has to be learnt."""
    cost_limit: float | None = None
    """CMDP budget d on the mean step cost (``None``: unconstrained PPO)."""
    lagrange_lr: float = 1.0
    """Dual step size η."""
    lagrange_max: float = 1.0
    """Cap on λ."""
    pretrain_iterations: int = 0
    """Iterations on the twin's envs only before the physical ones (``train(pretrain_fns=...)``)."""
    checkpoints: tuple[int, ...] = ()
    """Physical iteration counts after which a copy of the policy is kept (``hist["checkpoints"]``): the
    policy a smaller physical budget would have given, for sample-efficiency curves (0: after pre-training,
    before any physical interaction)."""
    seed: int = 0
    """Torch seed (weights, sampling)."""

    def __post_init__(self) -> None:
        if min(self.iterations, self.num_steps - 1, self.num_minibatches, self.update_epochs) < 1:
            raise ConfigError("iterations, num_steps, num_minibatches and update_epochs must be positive")
        if self.pretrain_iterations < 0:
            raise ConfigError(f"pretrain_iterations must be ≥ 0, got {self.pretrain_iterations}")


def _layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    lin = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(lin.weight, gain)
    nn.init.zeros_(lin.bias)
    return lin


class ActorCritic(nn.Module):
    """Two 64-unit tanh MLPs (actor mean, critic) over one BS's input and a state-independent log std."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 64, init_log_std: float = -0.7,
                 init_action: Sequence[float] | None = None) -> None:
        super().__init__()
        self.actor = nn.Sequential(_layer(obs_dim, hidden, 2**0.5), nn.Tanh(), _layer(hidden, hidden, 2**0.5),
                                   nn.Tanh(), _layer(hidden, act_dim, 0.01))
        self.critic = nn.Sequential(_layer(obs_dim, hidden, 2**0.5), nn.Tanh(), _layer(hidden, hidden, 2**0.5),
                                    nn.Tanh(), _layer(hidden, 1, 1.0))
        if init_action is not None:
            if len(init_action) != act_dim:
                raise ConfigError(f"init_action needs {act_dim} values, got {len(init_action)}")
            with torch.no_grad():  # zero output weights: the untrained policy plays exactly this rule
                self.actor[-1].weight.zero_()
                self.actor[-1].bias.copy_(torch.as_tensor(init_action, dtype=torch.float32))
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_var", torch.ones(obs_dim))
        self.register_buffer("obs_count", torch.tensor(1e-4))

    def norm(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.clamp((obs - self.obs_mean) / torch.sqrt(self.obs_var + 1e-8), -10, 10)

    def update_obs_stats(self, x: np.ndarray) -> None:
        """Running mean/variance (parallel algorithm) over a batch of raw observations."""
        b = torch.as_tensor(x, dtype=torch.float32)
        bm, bv, n = b.mean(0), b.var(0, unbiased=False), b.shape[0]
        tot = self.obs_count + n
        delta = bm - self.obs_mean
        self.obs_mean += delta * n / tot
        self.obs_var = (self.obs_var * self.obs_count + bv * n + delta**2 * self.obs_count * n / tot) / tot
        self.obs_count = tot

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(self.actor(self.norm(obs)), self.log_std.exp())

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self.norm(obs)).squeeze(-1)


def per_bs(obs: np.ndarray | torch.Tensor, n_bs: int) -> torch.Tensor:
    """(…, B·F) flat env observations → (…, B, 2F): each BS's features and the mean over BSs."""
    x = torch.as_tensor(obs, dtype=torch.float32)
    x = x.reshape(*x.shape[:-1], n_bs, -1)
    return torch.cat([x, x.mean(dim=-2, keepdim=True).expand_as(x)], dim=-1)


class CachePolicyNet:
    """A trained policy: ``predict(obs, deterministic=True) -> action`` (B, 5)."""

    def __init__(self, net: ActorCritic, act_shape: tuple[int, ...]) -> None:
        self.net, self.act_shape = net, act_shape

    @torch.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        d = self.net.dist(per_bs(obs, self.act_shape[0]))
        a = d.mean if deterministic else d.sample()
        return np.clip(a.numpy(), -1.0, 1.0).reshape(self.act_shape).astype(np.float32)


def gae(rewards: np.ndarray, values: np.ndarray, next_value: float, gamma: float, lam: float
        ) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns of one truncated rollout (no terminal states; bootstrapped at the end)."""
    T = rewards.size
    adv = np.zeros(T)
    last = 0.0
    for t in reversed(range(T)):
        nv = next_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + gamma * nv - values[t]
        last = delta + gamma * lam * last
        adv[t] = last
    return adv, adv + values


def train(env_fns: Sequence[Callable[[int], Any]], cfg: PPOConfig | None = None,
          pretrain_fns: Sequence[Callable[[int], Any]] = ()) -> tuple[CachePolicyNet, dict[str, Any]]:
    """Train on ``env_fns`` (``fn(episode_seed) -> env``; the first is the physical env).

    With ``pretrain_fns`` (twin-driven envs) and ``cfg.pretrain_iterations`` > 0, the policy first trains for
    that many iterations on those envs only — the twin as the RL optimiser's simulator, which costs no
    physical interaction — and then for ``cfg.iterations`` on ``env_fns``.

    Returns the policy and a history: per physical iteration the physical rollout's mean hit rate and cost,
    λ, and the interventions counted in the physical env (a learning curve of the stochastic policy);
    ``pretrain_hit_rate`` (the twin rollouts' hit rate per pre-training iteration); ``initial_policy``, a
    copy of the untrained policy, to measure what training changed; and ``checkpoints`` ({physical
    iterations: policy} for ``cfg.checkpoints``).
    """
    cfg = cfg or PPOConfig()
    if cfg.pretrain_iterations and not pretrain_fns:
        raise ConfigError("pretrain_iterations > 0 needs pretrain_fns (the twin's envs)")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra OpenMP threads only spin (see dnt.twin.TrainConfig.threads)
    try:
        return _train(env_fns, cfg, pretrain_fns)
    finally:
        torch.set_num_threads(threads)


def _rollout(env: Any, net: ActorCritic, cfg: PPOConfig, lam: LagrangeMultiplier, seed: int
             ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """One ``num_steps`` rollout with per-BS GAE: the batch arrays and the rollout's hit rate, cost and
    interventions."""
    B, act_dim = env.action_space.shape
    obs, _ = env.reset(seed=seed)
    obs_l, A, LP, V, R, C, HR, SC = [], [], [], [], [], [], [], []
    inter = 0
    for _ in range(cfg.num_steps):
        with torch.no_grad():
            x = per_bs(obs, B)
            d = net.dist(x)
            a = d.sample()
            obs_l.append(x.numpy())
            A.append(a.numpy())
            LP.append(d.log_prob(a).sum(-1).numpy())
            V.append(net.value(x).numpy())
        obs, r, _, _, info = env.step(a.numpy())
        R.append(np.asarray(info["bs_hit_rate"], dtype=float))
        C.append(np.asarray(info["intervened"], dtype=float) + np.asarray(info["overload"], dtype=float))
        HR.append(r)
        SC.append(step_cost(info))
        inter += int(np.asarray(info["intervened"]).sum())
    with torch.no_grad():
        nv = net.value(per_bs(obs, B)).numpy()
    rew = np.asarray(R) - (lam.value * np.asarray(C) if cfg.cost_limit is not None else 0.0)
    vals = np.asarray(V)
    adv, ret = np.zeros_like(rew), np.zeros_like(rew)
    for b in range(B):
        adv[:, b], ret[:, b] = gae(rew[:, b], vals[:, b], float(nv[b]), cfg.gamma, cfg.gae_lambda)
    obs_dim = obs_l[0].shape[-1]
    batch = {"obs": np.asarray(obs_l).reshape(-1, obs_dim), "act": np.asarray(A).reshape(-1, act_dim),
             "logp": np.asarray(LP).reshape(-1), "adv": adv.reshape(-1), "ret": ret.reshape(-1)}
    return batch, {"hit_rate": float(np.mean(HR)), "cost": float(np.mean(SC)), "interventions": float(inter)}


def _train(env_fns: Sequence[Callable[[int], Any]], cfg: PPOConfig, pretrain_fns: Sequence[Callable[[int], Any]]
           ) -> tuple[CachePolicyNet, dict[str, Any]]:
    torch.manual_seed(cfg.seed)
    envs = [fn(0) for fn in env_fns]
    twin_envs = [fn(0) for fn in pretrain_fns] if cfg.pretrain_iterations else []
    act_shape = tuple(envs[0].action_space.shape)
    B, act_dim = act_shape
    obs_dim = 2 * int(np.prod(envs[0].observation_space.shape)) // B
    net = ActorCritic(obs_dim, act_dim, cfg.hidden, cfg.init_log_std, cfg.init_action)
    initial = CachePolicyNet(copy.deepcopy(net), act_shape)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate, eps=1e-5)
    lam = LagrangeMultiplier(cfg.cost_limit or 0.0, cfg.lagrange_lr, 0.0, cfg.lagrange_max)
    hist: dict[str, list[float]] = {"hit_rate": [], "cost": [], "lambda": [], "interventions": [],
                                    "pretrain_hit_rate": []}
    total = cfg.pretrain_iterations + cfg.iterations
    checkpoints: dict[int, CachePolicyNet] = {}
    for it in range(total):
        if it == cfg.pretrain_iterations and 0 in cfg.checkpoints:  # no physical interaction yet
            checkpoints[0] = CachePolicyNet(copy.deepcopy(net), act_shape)
        pre = it < cfg.pretrain_iterations
        frac = it / cfg.pretrain_iterations if pre else (it - cfg.pretrain_iterations) / cfg.iterations
        for g in opt.param_groups:  # a linear schedule per phase: the physical phase fine-tunes at full rate
            g["lr"] = cfg.learning_rate * (1.0 - frac)
        batches, stats = [], []
        for k, env in enumerate(twin_envs if pre else envs):
            b, st = _rollout(env, net, cfg, lam, int(cfg.seed * 100_003 + it * 101 + k + (50 if pre else 0)))
            batches.append(b)
            stats.append(st)
        if pre:
            hist["pretrain_hit_rate"].append(float(np.mean([s["hit_rate"] for s in stats])))
        else:  # the first env is the physical one
            for key in ("hit_rate", "cost", "interventions"):
                hist[key].append(stats[0][key])
        if cfg.cost_limit is not None and not pre:
            # dual ascent on the physical cost only: the twin injects overload surges the log has not seen,
            # so its cost overstates the physical one (pre-training on it pushed λ up and taught the policy to
            # cache less, validation hit rate 0.41 vs 0.44)
            lam.update(stats[0]["cost"])
        if not pre:
            hist["lambda"].append(lam.value)
        bt = {k: torch.as_tensor(np.concatenate([b[k] for b in batches]), dtype=torch.float32) for k in batches[0]}
        _update(net, opt, bt, cfg)
        net.update_obs_stats(bt["obs"].numpy())  # after the update: the rollout's log-probs used the old stats
        done = it + 1 - cfg.pretrain_iterations
        if not pre and done in cfg.checkpoints:
            checkpoints[done] = CachePolicyNet(copy.deepcopy(net), act_shape)
    out: dict[str, Any] = {k: np.asarray(v) for k, v in hist.items()}
    out["initial_policy"] = initial
    out["checkpoints"] = checkpoints
    return CachePolicyNet(net, act_shape), out


def _update(net: ActorCritic, opt: torch.optim.Optimizer, b: dict[str, torch.Tensor], cfg: PPOConfig) -> None:
    n = b["obs"].shape[0]
    for _ in range(cfg.update_epochs):
        for idx in torch.tensor_split(torch.randperm(n), min(cfg.num_minibatches, max(1, n // 2))):
            d = net.dist(b["obs"][idx])
            logp = d.log_prob(b["act"][idx]).sum(-1)
            ratio = torch.exp(logp - b["logp"][idx])
            adv = b["adv"][idx]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            pg = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
            v_loss = 0.5 * ((net.value(b["obs"][idx]) - b["ret"][idx]) ** 2).mean()
            loss = pg - cfg.ent_coef * d.entropy().sum(-1).mean() + cfg.vf_coef * v_loss
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
            opt.step()
