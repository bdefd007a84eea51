"""Model bundles: round trip, digest, and corruption detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnt.errors import DataError, ModelIntegrityError
from dnt.twin.bundle import BUNDLE_MAGIC, digest, load_bundle, save_bundle
from dnt.twin.train import Forecaster

HIST = np.linspace(10.0, 90.0, 30)


def test_round_trip_keeps_predictions_and_metadata(tiny_forecaster: Forecaster, tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "twin.dntm"
    # Execute
    sha = save_bundle(tiny_forecaster, path, {"version": "v1", "cells": [11, 22]})
    bundle = load_bundle(path)
    # Assert
    assert bundle.digest == sha == digest(path) and len(sha) == 64
    assert bundle.metadata == {"version": "v1", "cells": [11, 22]}
    np.testing.assert_array_equal(bundle.forecaster.predict(HIST, 11), tiny_forecaster.predict(HIST, 11))
    assert bundle.forecaster.window_cfg == tiny_forecaster.window_cfg


def test_same_model_same_digest(tiny_forecaster: Forecaster, tmp_path: Path) -> None:
    a = save_bundle(tiny_forecaster, tmp_path / "a.dntm", {"v": 1})
    b = save_bundle(tiny_forecaster, tmp_path / "b.dntm", {"v": 1})
    c = save_bundle(tiny_forecaster, tmp_path / "c.dntm", {"v": 2})
    assert a == b != c


def test_tampered_payload_raises(tiny_forecaster: Forecaster, tmp_path: Path) -> None:
    path = tmp_path / "twin.dntm"
    save_bundle(tiny_forecaster, path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="hash mismatch.*re-download"):
        load_bundle(path)
    with pytest.raises(ModelIntegrityError):
        digest(path)


def test_truncated_file_raises(tiny_forecaster: Forecaster, tmp_path: Path) -> None:
    path = tmp_path / "twin.dntm"
    save_bundle(tiny_forecaster, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelIntegrityError, match="truncated"):
        load_bundle(path)
    path.write_bytes(data[: len(BUNDLE_MAGIC) + 5])
    with pytest.raises(ModelIntegrityError, match="header"):
        load_bundle(path)


def test_not_a_bundle_and_missing_file_raise(tmp_path: Path) -> None:
    path = tmp_path / "x.dntm"
    path.write_bytes(b"PK\x03\x04 something else")
    with pytest.raises(ModelIntegrityError, match="bad magic"):
        load_bundle(path)
    with pytest.raises(ModelIntegrityError, match="cannot read"):
        load_bundle(tmp_path / "absent.dntm")


def test_untrained_or_bad_metadata_cannot_be_saved(tiny_forecaster: Forecaster, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not trained"):
        save_bundle(Forecaster(), tmp_path / "u.dntm")
    with pytest.raises(DataError, match="JSON"):
        save_bundle(tiny_forecaster, tmp_path / "m.dntm", {"x": object()})
