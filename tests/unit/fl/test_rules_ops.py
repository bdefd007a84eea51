"""Shared rule math on hand-computed arrays."""

import numpy as np
import pytest
from fl_helpers import upd

from dnt.errors import AggregationError
from dnt.fl.rules import ops
from dnt.fl.types import AggContext


def test_weighted_mean_hand_computed():
    mat = np.array([[0.0, 2.0], [3.0, 5.0]])
    assert np.allclose(ops.weighted_mean(mat, np.array([1.0, 2.0])), [2.0, 4.0])


def test_weighted_mean_rejects_bad_weights():
    mat = np.zeros((2, 3))
    with pytest.raises(AggregationError, match="sum to 0"):
        ops.weighted_mean(mat, np.zeros(2))
    with pytest.raises(AggregationError, match=">= 0"):
        ops.weighted_mean(mat, np.array([1.0, -1.0]))


def test_coordinate_median_odd_and_even():
    assert ops.coordinate_median(np.array([[1.0, 9.0], [2.0, 0.0], [100.0, 5.0]])).tolist() == [2.0, 5.0]
    assert ops.coordinate_median(np.array([[1.0], [3.0]])).tolist() == [2.0]


def test_staleness_precedence():
    ups = [upd("a", [0.0], base=3), upd("b", [0.0], base=5, staleness=4)]
    assert ops.staleness(ups, AggContext(version=6)).tolist() == [3, 4]
    assert ops.staleness(ups, AggContext(version=6, staleness=(7, 8))).tolist() == [7, 8]
    with pytest.raises(AggregationError, match="entries"):
        ops.staleness(ups, AggContext(staleness=(1,)))


def test_polynomial_staleness():
    assert np.allclose(ops.polynomial_staleness(np.array([0, 3, 8]), 0.5), [1.0, 0.5, 1 / 3])
    assert np.allclose(ops.polynomial_staleness(5, 0.0), 1.0)


def test_check_updates_errors():
    with pytest.raises(AggregationError, match="no updates"):
        ops.check_updates([])
    with pytest.raises(AggregationError, match="different lengths"):
        ops.check_updates([upd("a", [1.0]), upd("b", [1.0, 2.0])])
