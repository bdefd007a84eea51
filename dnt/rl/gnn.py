"""A small dense GCN encoder for padded graph batches (no PyG dependency).

Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017
(arXiv 1609.02907): one layer is ``H' = act(Â H W + b)`` with the normalised adjacency
``Â = D^-1/2 (A + I) D^-1/2``, which :class:`dnt.rl.env.SliceEnv` already puts in its observation.

Clusters have different numbers of cells, so a batch is padded to the largest one: ``nodes`` (B, C, F),
``adj`` (B, C, C), ``mask`` (B, C) with ``True`` for real cells. Padded nodes have zero rows and columns
in ``Â`` and their embeddings are zeroed after every layer, so they never change a real node's output
and one set of weights serves clusters of any size. Node embeddings are permutation-equivariant:
relabelling the cells (rows of ``nodes``, rows and columns of ``adj``) relabels the output rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["GCNEncoder", "masked_mean", "pad_graphs"]


_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


class GCNEncoder(nn.Module):
    """``layers`` GCN layers ``H' = act(Â H W + b)`` on dense padded batches.

    Parameters
    ----------
    in_features : int
        Node feature width F.
    hidden : int
        Embedding width of every layer.
    layers : int
        Number of GCN layers (2: each cell sees its 2-hop neighbourhood).
    activation : str
        ``relu`` (Kipf & Welling's choice) or ``tanh``.
    """

    def __init__(self, in_features: int, hidden: int = 64, layers: int = 2, activation: str = "relu") -> None:
        super().__init__()
        if in_features < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"GCNEncoder needs positive sizes, got in={in_features} hidden={hidden} "
                             f"layers={layers}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"GCNEncoder activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.act = _ACTIVATIONS[activation]
        self.in_features, self.hidden, self.n_layers = in_features, hidden, layers
        dims = [in_features] + [hidden] * layers
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
        for lin in self.lins:  # CleanRL's orthogonal init (gain sqrt 2), zero bias
            nn.init.orthogonal_(lin.weight, gain=float(np.sqrt(2.0)))
            nn.init.zeros_(lin.bias)

    def forward(self, nodes: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Node embeddings (B, C, hidden) of ``nodes`` (B, C, F), ``adj`` (B, C, C), ``mask`` (B, C)."""
        if nodes.dim() == 2:  # one unbatched graph
            out: torch.Tensor = self.forward(nodes[None], adj[None], None if mask is None else mask[None])
            return out[0]
        h = nodes
        m = None
        if mask is not None:
            m = mask.to(nodes.dtype).unsqueeze(-1)  # (B, C, 1)
            adj = adj * m * m.transpose(1, 2)  # no messages to or from padded nodes
            h = h * m
        for lin in self.lins:
            h = self.act(torch.bmm(adj, h @ lin.weight.T) + lin.bias)
            if m is not None:
                h = h * m
        return h


def masked_mean(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over real nodes: (B, C, H), (B, C) -> (B, H)."""
    if mask is None:
        return h.mean(dim=1)
    m = mask.to(h.dtype).unsqueeze(-1)
    return (h * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


def pad_graphs(graphs: Sequence[tuple[np.ndarray, np.ndarray]], n_max: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack ``(nodes (C_i, F), adj (C_i, C_i))`` graphs into padded arrays.

    Returns ``nodes`` (B, N, F), ``adj`` (B, N, N) and ``mask`` (B, N) (bool), ``N = n_max`` or the largest C_i.
    """
    if not graphs:
        raise ValueError("pad_graphs needs at least one graph")
    n = max(g[0].shape[0] for g in graphs) if n_max is None else n_max
    f = graphs[0][0].shape[1]
    nodes = np.zeros((len(graphs), n, f), np.float32)
    adj = np.zeros((len(graphs), n, n), np.float32)
    mask = np.zeros((len(graphs), n), bool)
    for i, (x, a) in enumerate(graphs):
        c = x.shape[0]
        if c > n:
            raise ValueError(f"graph {i} has {c} nodes, more than the padding size {n}")
        nodes[i, :c], adj[i, :c, :c], mask[i, :c] = x, a, True
    return nodes, adj, mask
