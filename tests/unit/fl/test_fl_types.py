"""Update validation, model <-> flat vector, layout and digests."""

import numpy as np
import pytest
import torch
from fl_helpers import tiny_model

from dnt.errors import DataError
from dnt.fl.types import GlobalModel, Update, flatten, layout, split, unflatten, vector_digest


def test_flatten_unflatten_round_trip():
    # Prepare
    a, b = tiny_model(0), tiny_model(1)
    # Execute
    vec = flatten(a)
    unflatten(vec, b)
    # Assert
    assert vec.dtype == np.float32 and vec.ndim == 1
    assert vec.size == sum(p.numel() for p in a.parameters()) == layout(a).size
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_split_follows_layout_order_and_shapes():
    model = tiny_model()
    lay = layout(model)
    parts = split(flatten(model), lay)
    assert list(parts) == list(model.state_dict())
    assert all(parts[k].shape == tuple(v.shape) for k, v in model.state_dict().items())


def test_unflatten_rejects_wrong_length():
    with pytest.raises(DataError, match="does not fit"):
        unflatten(np.zeros(5, dtype=np.float32), tiny_model())


def test_update_normalises_types_and_validates():
    u = Update(5161, np.array([1, 2], dtype=np.float64), 3, 0, cluster=np.int64(2))  # type: ignore[arg-type]
    assert u.client_id == "5161" and u.delta.dtype == np.float32 and u.cluster == 2
    with pytest.raises(DataError, match="1-D"):
        Update("a", np.zeros((2, 2)), 1, 0)
    with pytest.raises(DataError, match="num_samples"):
        Update("a", np.zeros(2), -1, 0)
    with pytest.raises(DataError, match="staleness"):
        Update("a", np.zeros(2), 1, 0, staleness=-2)


def test_global_model_is_read_only_and_digest_is_content_hash():
    v = np.arange(4, dtype=np.float32)
    gm = GlobalModel(3, v)
    v[0] = 99  # the model keeps its own copy
    assert gm.vector[0] == 0 and not gm.vector.flags.writeable
    assert gm.digest == vector_digest(np.arange(4, dtype=np.float32))
    assert gm.digest != vector_digest(np.arange(1, 5, dtype=np.float32))
