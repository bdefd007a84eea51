"""YAML → nested frozen dataclasses, with unknown-key rejection and dotted ``a.b=c`` overrides.

Every component owns a frozen ``…Config`` dataclass; an application config is a dataclass whose fields
are component configs. ``load(path, AppConfig, ["train.epochs=5"])`` reads YAML with ``safe_load``,
rejects keys the dataclasses do not define (with the list of valid ones), applies overrides, then
builds the dataclasses so their ``__post_init__`` checks run.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from dnt.errors import ConfigError

__all__ = ["load", "from_dict", "to_dict", "apply_overrides"]

T = TypeVar("T")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _dataclass_of(tp: Any) -> type | None:
    """The dataclass inside ``tp`` (``X``, ``X | None``), else None."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                return arg
    return None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
    if tp is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got bool {value!r}")
    return value


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys raise :class:`ConfigError`."""
    data = dict(data or {})
    types_ = _field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"unknown config key(s) {[prefix + k for k in unknown]}; valid: {sorted(types_)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        sub = _dataclass_of(types_[name])
        if sub is not None and isinstance(value, dict):
            kwargs[name] = from_dict(sub, value, path)
        elif sub is not None and value is not None and not dataclasses.is_dataclass(value):
            raise ConfigError(f"{path}: expected a mapping of {sub.__name__} settings, got {value!r}")
        else:
            kwargs[name] = _coerce(value, types_[name], path)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{where or cls.__name__}: {err}") from err


def to_dict(cfg: Any) -> dict[str, Any]:
    """Dataclass → plain dict (for recording the resolved config)."""
    return dataclasses.asdict(cfg)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``a.b=c`` strings (values parsed as YAML scalars) to a nested dict, returning a copy."""
    out: dict[str, Any] = yaml.safe_load(yaml.safe_dump(data)) or {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form a.b=value")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = nxt
        node[parts[-1]] = yaml.safe_load(raw)
    return out


def load(path: str | Path | None, cls: type[T], overrides: Sequence[str] = ()) -> T:
    """Read YAML at ``path`` (or start from defaults when None), apply overrides, build ``cls``."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read config {path}: {err}") from err
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config {path} must be a mapping at the top level")
        data = loaded or {}
    return from_dict(cls, apply_overrides(data, overrides))
