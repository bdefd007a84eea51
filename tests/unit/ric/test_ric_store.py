"""The in-memory store: the Store contract (the integration suite runs the same on ricsdl + Redis)."""

from __future__ import annotations

import pytest

from dnt.errors import ConfigError, DataError
from dnt.ric.sdl import MemoryStore, dbaas_env


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def test_set_get_find_delete(store: MemoryStore) -> None:
    # Prepare
    store.set("twin", "model/1", b"a")
    store.set_many("twin", {"model/2": b"b", "other": b"c"})

    # Execute / Assert
    assert store.get("twin", "model/1") == b"a" and store.get("twin", "missing") is None
    assert store.find("twin", "model/") == {"model/1": b"a", "model/2": b"b"}
    assert store.keys("twin") == ["model/1", "model/2", "other"]
    store.delete("twin", "model/1")
    store.delete("twin", "never-there")
    assert store.find("twin", "model/") == {"model/2": b"b"}


def test_namespaces_are_isolated(store: MemoryStore) -> None:
    store.set("a", "k", b"1")
    store.set("b", "k", b"2")
    assert (store.get("a", "k"), store.get("b", "k")) == (b"1", b"2")
    assert store.find("c") == {}


def test_json_helpers_and_set_if_absent(store: MemoryStore) -> None:
    store.set_json("cfg", "x", {"b": 1, "a": [1, 2]})
    assert store.get("cfg", "x") == b'{"a":[1,2],"b":1}'
    assert store.get_json("cfg", "x") == {"a": [1, 2], "b": 1} and store.get_json("cfg", "nope") is None
    assert store.find_json("cfg") == {"x": {"a": [1, 2], "b": 1}}
    assert store.set_if_absent("cfg", "y", b"1") is True and store.set_if_absent("cfg", "y", b"2") is False
    store.set("cfg", "bad", b"\xff")
    with pytest.raises(DataError, match="cfg/bad"):
        store.get_json("cfg", "bad")


@pytest.mark.parametrize("ns", ["", "a,b", "{x}"])
def test_bad_namespaces_are_refused(store: MemoryStore, ns: str) -> None:
    with pytest.raises(ConfigError, match="namespace"):
        store.set(ns, "k", b"v")


def test_values_must_be_bytes(store: MemoryStore) -> None:
    with pytest.raises(TypeError, match="set_json"):
        store.set("ns", "k", "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("env, match", [({}, "DBAAS_SERVICE_HOST is not set"),
                                        ({"DBAAS_SERVICE_HOST": "h", "DBAAS_SERVICE_PORT": "x"}, "DBAAS_SERVICE_PORT")])
def test_dbaas_env_is_checked(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        dbaas_env(env)
    assert dbaas_env({"DBAAS_SERVICE_HOST": "h", "DBAAS_SERVICE_PORT": "6379,6380"}) == ("h", 6379)
