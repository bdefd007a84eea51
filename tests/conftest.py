"""Shared fixtures: the path of ../shared/data/milan (skip cleanly when absent), seeded RNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MILAN = REPO_ROOT.parent / "shared" / "data" / "milan"


@pytest.fixture
def milan_dir() -> Path:
    """``../shared/data/milan`` beside the repository; the test skips when it is absent."""
    if not SHARED_MILAN.is_dir():
        pytest.skip(f"real Milan subsets not found at {SHARED_MILAN} (../shared is absent)")
    return SHARED_MILAN


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


SHARED_E2_VECTORS = REPO_ROOT.parent / "shared" / "data" / "e2-vectors"


@pytest.fixture
def e2_vectors_dir() -> Path:
    """``../shared/data/e2-vectors`` beside the repository; the test skips when it is absent."""
    if not SHARED_E2_VECTORS.is_dir():
        pytest.skip(f"E2 byte vectors not found at {SHARED_E2_VECTORS} (../shared is absent)")
    return SHARED_E2_VECTORS
