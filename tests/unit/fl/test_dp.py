"""Gaussian DP of client updates: the clip bound holds, the noise has std sigma * clip_norm."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.errors import ConfigError
from dnt.fl.dp import DPConfig, clip, clip_and_noise


def test_clip_bound_holds_and_small_updates_are_kept() -> None:
    rng = np.random.default_rng(0)
    for scale in (0.01, 1.0, 100.0):
        d = rng.normal(0, scale, 500).astype(np.float32)
        c = clip(d, 1.0)
        assert np.linalg.norm(c.astype(np.float64)) <= 1.0 + 1e-5
        if np.linalg.norm(d) <= 1.0:
            np.testing.assert_array_equal(c, d)
        else:  # direction kept
            np.testing.assert_allclose(c / np.linalg.norm(c), d / np.linalg.norm(d), rtol=1e-4, atol=1e-6)
    assert clip_and_noise(np.full(10, 5.0), 2.0, 0.0, rng).dtype == np.float32
    assert np.linalg.norm(clip_and_noise(np.full(10, 5.0), 2.0, 0.0, rng)) == pytest.approx(2.0, rel=1e-6)


def test_noise_std_is_sigma_times_clip() -> None:
    rng = np.random.default_rng(1234)
    d = np.full(200_000, 3.0, dtype=np.float32)  # norm >> clip: clipped to the constant C / sqrt(D)
    clip_norm, sigma = 0.5, 1.3
    out = clip_and_noise(d, clip_norm, sigma, rng).astype(np.float64)
    noise = out - clip(d, clip_norm).astype(np.float64)
    # std estimate of n iid normals: relative standard error ~ 1/sqrt(2n) = 0.16 %; allow 1.5 %
    assert noise.std() == pytest.approx(sigma * clip_norm, rel=0.015)
    assert abs(noise.mean()) < 5 * sigma * clip_norm / np.sqrt(d.size)
    assert DPConfig(clip_norm, sigma).noise_std == pytest.approx(0.65)


def test_seeded_noise_is_reproducible_and_input_not_modified() -> None:
    d = np.ones(50, dtype=np.float32)
    a = DPConfig(1.0, 0.5).apply(d, np.random.default_rng(7))
    b = clip_and_noise(d, 1.0, 0.5, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(d, np.ones(50, dtype=np.float32))


@pytest.mark.parametrize("clip_norm, sigma", [(0, 1.0), (-1, 1.0), (float("nan"), 1.0), (1.0, -0.1),
                                              (1.0, float("inf")), (True, 1.0)])
def test_config_validation(clip_norm, sigma) -> None:
    with pytest.raises(ConfigError):
        DPConfig(clip_norm, sigma)


def test_non_finite_update_cannot_be_clipped() -> None:
    with pytest.raises(ValueError):
        clip(np.array([1.0, np.nan]), 1.0)
