"""RrmPolicy: bundle round trip, tampering, feature mismatch, decisions; the quota encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dnt.e2.rc import PlmnId, parse_slice_prb_quota
from dnt.errors import DataError, ModelIntegrityError
from dnt.rl.env import NODE_FEATURES, normalized_adjacency
from dnt.rl.policy import ActorCritic, NetConfig, RrmPolicy
from dnt.rl.quota import QuotaEncoder, prb_ratios


@pytest.fixture
def policy() -> RrmPolicy:
    torch.manual_seed(0)
    net = ActorCritic(NetConfig(len(NODE_FEATURES), hidden=16))
    with torch.no_grad():  # a non-trivial policy: perturb the (near-zero) actor head
        for p in net.actor.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return RrmPolicy(net, NODE_FEATURES, {"seed": 0}, max_sync_share=0.1)


def _cluster(c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.random((c, c)) < 0.3
    return rng.random((c, len(NODE_FEATURES))).astype(np.float32), normalized_adjacency(a).astype(np.float32)


def test_round_trip_keeps_decisions_and_digest(policy: RrmPolicy) -> None:
    # Prepare
    nodes, adj = _cluster(7)
    data = policy.to_bytes()
    # Execute
    loaded = RrmPolicy.from_bytes(data, features=NODE_FEATURES)
    # Assert
    for x, y in zip(policy.decide(nodes, adj), loaded.decide(nodes, adj), strict=True):
        np.testing.assert_array_equal(x, y)
    assert loaded.digest == policy.digest and len(policy.digest) == 64
    assert loaded.metadata == {"seed": 0} and loaded.max_sync_share == 0.1


def test_tampered_or_truncated_bytes_are_rejected(policy: RrmPolicy) -> None:
    data = bytearray(policy.to_bytes())
    flipped = data.copy()
    flipped[-100] ^= 0x01
    with pytest.raises(ModelIntegrityError, match="hash mismatch"):
        RrmPolicy.from_bytes(bytes(flipped))
    with pytest.raises(ModelIntegrityError, match="truncated"):
        RrmPolicy.from_bytes(bytes(data[:-10]))
    with pytest.raises(ModelIntegrityError, match="bad magic"):
        RrmPolicy.from_bytes(b"not a bundle")


def test_policy_for_other_features_is_refused(policy: RrmPolicy) -> None:
    other = list(NODE_FEATURES)
    other[0], other[1] = other[1], other[0]
    with pytest.raises(DataError, match="trained on node features"):
        RrmPolicy.from_bytes(policy.to_bytes(), features=other)
    with pytest.raises(DataError, match="nodes must be"):
        policy.decide(np.zeros((4, 3), np.float32), np.eye(4, dtype=np.float32))


@pytest.mark.parametrize("cells", [1, 3, 25])
def test_decide_shapes_and_feasibility(policy: RrmPolicy, cells: int) -> None:
    nodes, adj = _cluster(cells, seed=cells)
    shares, mode, sync = policy.decide(nodes, adj)
    assert shares.shape == (cells, 3) and mode.shape == (cells,) and sync.shape == (cells,)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-9)
    assert (shares >= 0).all() and set(np.unique(mode)) <= {0, 1}
    assert ((sync > 0) & (sync < 0.1)).all()
    ratios = prb_ratios(shares, sync, mode)
    assert (ratios[:, :, 2].sum(axis=1) <= 100).all() and (ratios[:, :, 1] == ratios[:, :, 2]).all()


def test_quota_encoder_is_byte_identical_to_reference() -> None:
    enc = QuotaEncoder(PlmnId("001", "01"))
    rng = np.random.default_rng(3)
    for _ in range(30):
        r = rng.integers(0, 101, size=(3, 3))
        header, msg = enc.encode(r)
        assert (header, msg) == enc.reference(r)
        parsed = parse_slice_prb_quota(msg)
        assert [q.dedicated_prb_ratio for q in parsed] == r[:, 2].tolist()


def test_predict_on_padded_obs_matches_the_unpadded_cluster(policy: RrmPolicy) -> None:
    nodes, adj = _cluster(4, seed=9)
    pad_nodes = np.zeros((6, nodes.shape[1]), np.float32)
    pad_adj = np.zeros((6, 6), np.float32)
    pad_nodes[:4], pad_adj[:4, :4] = nodes, adj
    mask = np.array([1, 1, 1, 1, 0, 0], np.float32)
    action = policy.predict({"nodes": pad_nodes, "adj": pad_adj, "mask": mask})
    np.testing.assert_allclose(action[:4], policy.action(nodes, adj), atol=1e-6)
    np.testing.assert_array_equal(action[4:], 0.0)
