"""The GNN actor-critic that PPO trains, and :class:`RrmPolicy`, the deployable artifact the RRM xApp loads.

Network: node features are standardised (running mean/std learned during training, kept in the
weights), encoded by :class:`~dnt.rl.gnn.GCNEncoder`, and each cell's action — 3 slice logits, 1
twin-sync-mode logit, 1 sync-bandwidth logit, the layout of :class:`dnt.rl.env.SliceEnv` — comes from
a per-node MLP head on ``[embedding, standardised features]``. The Gaussian policy has a
state-independent log-std (CleanRL's ``ppo_continuous_action``). The critic gives each cell a value from
its embedding and the cluster's mean-pooled embedding (per-cell credit, as in parameter-shared
independent PPO/MAPPO; the cluster value is their mean). Because heads are per node and pooling is a
masked mean, one network serves clusters of any size.

Bundle: :meth:`RrmPolicy.to_bytes` frames a ``torch.save`` of ``{state, config, features}`` with the
SHA-256 header of :mod:`dnt.twin.bundle`; :meth:`RrmPolicy.from_bytes` checks the hash before
unpickling, unpickles with ``weights_only=True`` and refuses a policy built for other node features.

In the RRM xApp::

    policy = RrmPolicy.from_bytes(data, features=NODE_FEATURES)        # digest-checked, weights only
    shares, sync_mode, sync_share = policy.decide(nodes, adj)          # (C, 3), (C,), (C,)
    ratios = prb_ratios(shares, sync_share, sync_mode)                 # dnt.rl.quota: (C, 3, 3) percent
    header, message = QuotaEncoder(plmn).encode(ratios[c])             # RC style 2 action 6, cell c
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from dnt.errors import ConfigError, DataError, ModelIntegrityError
from dnt.rl.gnn import GCNEncoder, masked_mean
from dnt.twin.bundle import pack_payload, unpack_payload

__all__ = ["ACTION_DIM", "NetConfig", "ActorCritic", "RrmPolicy", "decode_action"]

ACTION_DIM = 5
"""Per-cell action width: 3 slice logits, sync-mode logit, sync-bandwidth logit."""
N_SLICES = 3
POLICY_FORMAT = "dnt-rrm-policy/1"


@dataclass(frozen=True)
class NetConfig:
    """Actor-critic sizes."""

    n_features: int
    """Node feature width F (``len(NODE_FEATURES)``)."""
    hidden: int = 64
    """GCN and head width (CleanRL's 64)."""
    layers: int = 2
    """GCN layers."""
    init_log_std: float = -0.5
    """Initial log-std of every action dimension (std ≈ 0.6 logits)."""
    obs_clip: float = 10.0
    """Standardised features are clipped to ±obs_clip (SB3 VecNormalize's default)."""
    activation: str = "tanh"
    """Hidden activation of the GCN and the heads: ``tanh`` (CleanRL's MLPs) or ``relu`` (Kipf & Welling's GCN;
    cheaper on CPU, where tanh is a large part of the per-node layers' cost)."""

    def __post_init__(self) -> None:
        if self.n_features < 1 or self.hidden < 1 or self.layers < 1:
            raise ConfigError(f"NetConfig: n_features, hidden and layers must be >= 1, got {self}")
        if self.activation not in ("relu", "tanh"):
            raise ConfigError(f"NetConfig.activation must be 'relu' or 'tanh', got {self.activation!r}")


def _layer(lin: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(lin.weight, gain=gain)
    nn.init.zeros_(lin.bias)
    return lin


class ActorCritic(nn.Module):
    """GCN encoder → per-node Gaussian head (C × 5) and a per-node critic on [embedding, pooled embedding]."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        f, h = cfg.n_features, cfg.hidden
        self.register_buffer("obs_mean", torch.zeros(f))
        self.register_buffer("obs_var", torch.ones(f))
        self.register_buffer("obs_count", torch.tensor(1e-4, dtype=torch.float64))
        self.encoder = GCNEncoder(f, h, cfg.layers, cfg.activation)
        self.act = torch.relu if cfg.activation == "relu" else torch.tanh
        root2 = float(np.sqrt(2.0))
        self.actor = nn.Sequential(_layer(nn.Linear(h + f, h), root2), nn.ReLU() if cfg.activation == "relu"
                                   else nn.Tanh(), _layer(nn.Linear(h, ACTION_DIM), 0.01))
        # critic layer 1 on [h_c, pooled] = W_h h_c + W_p pooled (the pooled half computed once per cluster)
        self.critic_node = _layer(nn.Linear(h, h), root2)
        self.critic_pool = nn.Linear(h, h, bias=False)
        nn.init.orthogonal_(self.critic_pool.weight, gain=root2)
        self.critic_out = _layer(nn.Linear(h, 1), 1.0)
        self.log_std = nn.Parameter(torch.full((ACTION_DIM,), float(cfg.init_log_std)))

    def normalise(self, nodes: torch.Tensor) -> torch.Tensor:
        """Standardise node features with the running statistics, clipped to ±obs_clip."""
        z = (nodes - self.obs_mean) / torch.sqrt(self.obs_var + 1e-8)
        return z.clamp(-self.cfg.obs_clip, self.cfg.obs_clip)

    @torch.no_grad()
    def set_obs_stats(self, mean: np.ndarray, var: np.ndarray, count: float) -> None:
        """Install the feature statistics gathered during training (running mean and variance, (F,))."""
        self.obs_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.obs_var.copy_(torch.as_tensor(var, dtype=torch.float32))
        self.obs_count.fill_(float(count))

    def forward(self, z: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Action means (B, C, 5) and per-cell values (B, C) from *standardised* features ``z`` (B, C, F)."""
        h = self.encoder(z, adj, mask)
        mean = self.actor(torch.cat([h, z], dim=-1))
        return mean, self._value(h, mask)

    def _value(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        pooled = self.critic_pool(masked_mean(h, mask)).unsqueeze(1)
        v = self.critic_out(self.act(self.critic_node(h) + pooled)).squeeze(-1)
        return v if mask is None else v * mask.to(v.dtype)

    def value(self, z: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Critic only: per-cell values (B, C) (0 on padding)."""
        return self._value(self.encoder(z, adj, mask), mask)

    def log_prob_entropy(self, mean: torch.Tensor, action: torch.Tensor, mask: torch.Tensor | None
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-cell log-probabilities (B, C) of ``action`` (B, C, 5) and entropies (B, C); 0 on padding."""
        log_std = self.log_std.expand_as(mean)
        logp = -0.5 * ((action - mean) / log_std.exp()) ** 2 - log_std - 0.5 * float(np.log(2 * np.pi))
        ent = (0.5 + 0.5 * float(np.log(2 * np.pi)) + log_std).sum(-1)  # (B, C)
        logp = logp.sum(-1)
        if mask is not None:
            m = mask.to(mean.dtype)
            logp, ent = logp * m, ent * m
        return logp, ent


def decode_action(action: np.ndarray, max_sync_share: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, 5) logits → PRB shares (C, 3) (softmax), sync mode (C,) (1 = horizontal/H-twin where the logit
    > 0, 0 = vertical/V-twin) and sync share (C,) = ``max_sync_share · sigmoid(logit)`` of the cell's PRBs,
    exactly as :meth:`dnt.rl.env.SliceEnv.decode_action` reads an action."""
    a = np.clip(np.nan_to_num(np.asarray(action, dtype=np.float64)), -10.0, 10.0)
    logits = a[:, :N_SLICES] - a[:, :N_SLICES].max(axis=1, keepdims=True)
    e = np.exp(logits)
    shares = e / e.sum(axis=1, keepdims=True)
    sync_mode = (a[:, N_SLICES] > 0).astype(np.int64)
    sync_share = max_sync_share / (1.0 + np.exp(-a[:, N_SLICES + 1]))
    return shares, sync_mode, sync_share


class RrmPolicy:
    """The trained RRM policy: deterministic decisions and a hash-checked byte bundle.

    Parameters
    ----------
    net : ActorCritic
        The trained network (the critic rides along; it costs ~4k parameters).
    features : sequence of str
        Names of the node features, in column order (``dnt.rl.env.NODE_FEATURES`` at training time).
    metadata : mapping, optional
        JSON-able facts (training config, seed, steps) stored in the bundle.
    max_sync_share : float
        ``EnvConfig.max_sync_share`` of the training env: the sync share a saturated logit asks for.
    """

    def __init__(self, net: ActorCritic, features: Sequence[str], metadata: Mapping[str, Any] | None = None,
                 max_sync_share: float = 1.0) -> None:
        if not 0.0 <= max_sync_share < 1.0 + 1e-12:
            raise ConfigError(f"RrmPolicy: max_sync_share must be in [0, 1], got {max_sync_share!r}")
        if len(features) != net.cfg.n_features:
            raise ConfigError(f"RrmPolicy: {len(features)} feature names for a network of "
                              f"{net.cfg.n_features} input features")
        self.net = net.eval()
        self.features = tuple(str(f) for f in features)
        self.metadata = dict(metadata or {})
        self.max_sync_share = float(max_sync_share)
        self._digest: str | None = None

    # --- decisions ---------------------------------------------------------------------------------
    def action(self, nodes: np.ndarray, adj: np.ndarray) -> np.ndarray:
        """The mean action (C, 5) for one cluster: ``nodes`` (C, F) raw features, ``adj`` (C, C) normalised."""
        nodes = np.asarray(nodes, dtype=np.float32)
        adj = np.asarray(adj, dtype=np.float32)
        if nodes.ndim != 2 or nodes.shape[1] != len(self.features):
            raise DataError(f"RrmPolicy: nodes must be (C, {len(self.features)}) for features "
                            f"{list(self.features)}, got shape {nodes.shape}")
        c = nodes.shape[0]
        if adj.shape != (c, c):
            raise DataError(f"RrmPolicy: adj must be ({c}, {c}) for {c} cells, got {adj.shape}")
        if not (np.isfinite(nodes).all() and np.isfinite(adj).all()):
            raise DataError("RrmPolicy: nodes and adj must be finite (NaN/inf in the KPM-derived features?)")
        with torch.inference_mode():
            x = torch.from_numpy(nodes)[None]
            z = self.net.normalise(x)
            h = self.net.encoder(z, torch.from_numpy(adj)[None], None)
            mean = self.net.actor(torch.cat([h, z], dim=-1))[0]
        return mean.numpy().clip(-10.0, 10.0)

    def decide(self, nodes: np.ndarray, adj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deterministic decision for one cluster (C cells, no padding rows).

        Returns
        -------
        shares : (C, 3)
            Fractions of each cell's *user* PRBs per slice (``SLICES`` order), each row summing to 1.
        sync_mode : (C,) int
            1 = horizontal (H-twin, local model updates), 0 = vertical (V-twin, raw KPIs).
        sync_share : (C,)
            Fraction of the cell's PRBs the twin sync may use, in (0, max_sync_share).
        """
        return decode_action(self.action(nodes, adj), self.max_sync_share)

    def predict(self, obs: Mapping[str, np.ndarray], deterministic: bool = True) -> np.ndarray:
        """The env action (N, 5) for a ``SliceEnv`` observation (the mean action: ``deterministic`` is always True).

        With a ``mask`` (padded observations) only the real cells are decided; padding rows are 0.
        """
        nodes, adj = np.asarray(obs["nodes"]), np.asarray(obs["adj"])
        if "mask" not in obs:
            return self.action(nodes, adj)
        real = np.flatnonzero(np.asarray(obs["mask"]) > 0.5)
        out = np.zeros((nodes.shape[0], ACTION_DIM), dtype=np.float32)
        out[real] = self.action(nodes[real], adj[np.ix_(real, real)])
        return out

    # --- bundle -------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The policy as a sha256-headed bundle (:mod:`dnt.twin.bundle` framing)."""
        buf = io.BytesIO()
        state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        torch.save({"format": POLICY_FORMAT, "config": asdict(self.net.cfg), "features": list(self.features),
                    "metadata": self.metadata, "max_sync_share": self.max_sync_share, "state": state}, buf)
        data, sha = pack_payload(buf.getvalue())
        self._digest = sha
        return data

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the bundle payload, as the A1 model manifest names it."""
        if self._digest is None:
            self.to_bytes()
        assert self._digest is not None
        return self._digest

    @classmethod
    def from_bytes(cls, data: bytes, features: Sequence[str] | None = None, source: str = "<bytes>") -> RrmPolicy:
        """Load a bundle written by :meth:`to_bytes`.

        Parameters
        ----------
        data : bytes
            The bundle.
        features : sequence of str, optional
            The node features this deployment computes; a policy trained on other features is refused.
        source : str
            Where the bytes came from, for error messages.

        Raises
        ------
        ModelIntegrityError
            if the bytes are not a bundle, fail their hash or hold malformed content.
        DataError
            if ``features`` differ from the policy's.
        """
        payload, sha = unpack_payload(data, source)
        try:
            doc = torch.load(io.BytesIO(payload), weights_only=True)
            if doc.get("format") != POLICY_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {POLICY_FORMAT!r}")
            net = ActorCritic(NetConfig(**doc["config"]))
            net.load_state_dict(doc["state"])
            policy = cls(net, doc["features"], doc.get("metadata", {}), float(doc["max_sync_share"]))
        except (KeyError, TypeError, RuntimeError, EOFError, ValueError, AttributeError,
                pickle.UnpicklingError) as err:
            raise ModelIntegrityError(f"{source}: policy bundle hash is valid but its content is malformed "
                                      f"({err}); re-export the policy") from err
        if features is not None and tuple(features) != policy.features:
            raise DataError(f"{source}: policy was trained on node features {list(policy.features)} but this "
                            f"deployment computes {list(features)}; retrain the policy for these features "
                            "or deploy a matching dnt version")
        policy._digest = sha
        return policy
