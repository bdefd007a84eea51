"""GCN encoder: permutation equivariance and padding masks."""

from __future__ import annotations

import numpy as np
import torch

from dnt.rl.gnn import GCNEncoder, masked_mean, pad_graphs


def _graph(rng: np.random.Generator, c: int, f: int) -> tuple[np.ndarray, np.ndarray]:
    a = (rng.random((c, c)) < 0.4).astype(np.float32)
    a = np.maximum(a, a.T)
    np.fill_diagonal(a, 1.0)
    d = 1.0 / np.sqrt(a.sum(1))
    return rng.normal(size=(c, f)).astype(np.float32), (d[:, None] * a * d[None, :]).astype(np.float32)


def test_node_embeddings_are_permutation_equivariant() -> None:
    # Prepare
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    enc = GCNEncoder(4, hidden=8)
    x, a = _graph(rng, 6, 4)
    perm = rng.permutation(6)
    # Execute
    with torch.no_grad():
        h = enc(torch.from_numpy(x), torch.from_numpy(a)).numpy()
        hp = enc(torch.from_numpy(x[perm]), torch.from_numpy(a[perm][:, perm])).numpy()
    # Assert
    np.testing.assert_allclose(hp, h[perm], atol=1e-5)
    assert h.shape == (6, 8)


def test_padded_nodes_do_not_change_real_nodes() -> None:
    # Prepare
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    enc = GCNEncoder(3, hidden=5)
    small, big = _graph(rng, 3, 3), _graph(rng, 7, 3)
    nodes, adj, mask = pad_graphs([small, big])
    nodes[0, 3:] = 99.0  # garbage in the padding must not leak
    adj[0, :3, 3:] = 1.0
    # Execute
    with torch.no_grad():
        h = enc(torch.from_numpy(nodes), torch.from_numpy(adj), torch.from_numpy(mask)).numpy()
        alone = enc(torch.from_numpy(small[0]), torch.from_numpy(small[1])).numpy()
        pooled = masked_mean(torch.from_numpy(h), torch.from_numpy(mask)).numpy()
    # Assert
    assert nodes.shape == (2, 7, 3) and mask.sum(1).tolist() == [3, 7]
    np.testing.assert_allclose(h[0, :3], alone, atol=1e-5)
    np.testing.assert_array_equal(h[0, 3:], 0.0)
    np.testing.assert_allclose(pooled[0], alone.mean(0), atol=1e-5)
