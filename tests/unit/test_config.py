"""YAML config loading: nested dataclasses, unknown keys rejected, dotted overrides, validation runs."""

from dataclasses import dataclass, field

import pytest

from dnt.config import apply_overrides, from_dict, load
from dnt.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    epochs: int = 3
    lr: float = 1e-3
    lags: tuple[int, ...] = (1, 2)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")


@dataclass(frozen=True)
class App:
    name: str = "x"
    train: Inner = field(default_factory=Inner)


def test_yaml_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("name: demo\ntrain:\n  epochs: 7\n  lags: [1, 3]\n")
    cfg = load(p, App, ["train.lr=0.5"])
    assert cfg == App(name="demo", train=Inner(epochs=7, lr=0.5, lags=(1, 3)))


def test_unknown_key_lists_valid_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"train\.epoch.*valid: \['epochs', 'lags', 'lr'\]"):
        from_dict(App, {"train": {"epoch": 3}})


def test_validation_runs_after_override():
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        load(None, App, ["train.epochs=0"])


def test_wrong_type_and_bad_override():
    with pytest.raises(ConfigError, match="expected int"):
        from_dict(App, {"train": {"epochs": "many"}})
    with pytest.raises(ConfigError, match="a.b=value"):
        apply_overrides({}, ["train.epochs"])


def test_int_widens_to_float():
    assert from_dict(App, {"train": {"lr": 1}}).train.lr == 1.0
