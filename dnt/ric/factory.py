"""Build the runtime an xApp runs on, from its config and the environment; the xApp code stays the same.

``make_runtime(name, kind)``: ``kind`` comes from the xApp's config (``runtime: local``) unless the
environment variable ``DNT_RIC_RUNTIME`` overrides it (``rmr`` in the production chart, ``local`` for the
embedded fabric). ``local`` → :class:`~dnt.ric.local_runtime.LocalRuntime` (``DNT_FABRIC``, ``DBAAS_*``);
``rmr`` → :class:`~dnt.ric.rmr_runtime.RmrRuntime` (``CONFIG_FILE``, ``RMR_*``, ``DBAAS_*``).

:func:`mdc_logging` routes the process's ``logging`` records through mdclogpy (one JSON line per record on
stdout, the OSC xApp log format: ``{"ts", "crit", "id", "mdc", "msg"}``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

from dnt.errors import ConfigError
from dnt.ric.runtime import BaseRuntime

__all__ = ["RUNTIME_ENV", "RUNTIME_KINDS", "runtime_kind", "make_runtime", "mdc_logging"]

RUNTIME_ENV = "DNT_RIC_RUNTIME"
RUNTIME_KINDS = ("local", "rmr")


def runtime_kind(configured: str = "local", env: Mapping[str, str] | None = None) -> str:
    """The runtime kind: ``DNT_RIC_RUNTIME`` if set, else ``configured`` (raises ConfigError when unknown)."""
    env = os.environ if env is None else env
    kind = (env.get(RUNTIME_ENV) or configured or "local").strip().lower()
    if kind not in RUNTIME_KINDS:
        raise ConfigError(f"runtime {kind!r} is not one of {RUNTIME_KINDS} (config 'runtime' or ${RUNTIME_ENV})")
    return kind


def make_runtime(name: str, kind: str = "local", *, policies: Sequence[int] = (),
                 env: Mapping[str, str] | None = None) -> BaseRuntime:
    """The runtime of xApp ``name``.

    Parameters
    ----------
    name : str
        The xApp name (the descriptor's ``name`` takes precedence when ``CONFIG_FILE`` is set).
    kind : {"local", "rmr"}
        The configured kind (``DNT_RIC_RUNTIME`` overrides it).
    policies : sequence of int
        A1 policy types the xApp handles (the local fabric routes A1_POLICY_REQ by them; in production the
        descriptor's ``policies`` do).

    Raises
    ------
    ConfigError, TransportError
        Bad settings, or the runtime cannot attach (no fabric, no RMR library).
    """
    chosen = runtime_kind(kind, env)
    if chosen == "rmr":
        from dnt.ric.config import RicConfig
        from dnt.ric.rmr_runtime import RmrRuntime

        return RmrRuntime(RicConfig.from_env(env, RicConfig(xapp_name=name)))
    from dnt.ric.local_runtime import LocalConfig, LocalRuntime

    return LocalRuntime(LocalConfig.from_env(env, LocalConfig(xapp_name=name, policies=tuple(policies))))


class _MdcHandler(logging.Handler):
    def __init__(self, name: str) -> None:
        super().__init__()
        from mdclogpy import Level, Logger

        self._levels = {logging.DEBUG: Level.DEBUG, logging.INFO: Level.INFO, logging.WARNING: Level.WARNING,
                        logging.ERROR: Level.ERROR, logging.CRITICAL: Level.ERROR}
        self._mdc = Logger(name=name, level=Level.DEBUG)
        self._mdc.add_mdc("PID", str(os.getpid()))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name}: {record.getMessage()}"
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            level = self._levels.get(record.levelno - record.levelno % 10, self._levels[logging.ERROR])
            self._mdc.log(level, text)
        except Exception:
            self.handleError(record)


def mdc_logging(name: str, level: str | int = "INFO") -> None:
    """Send every ``logging`` record of this process to mdclogpy as xApp ``name`` (replaces other handlers)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(_MdcHandler(name))
    root.setLevel(level if isinstance(level, int) else getattr(logging, str(level).upper(), logging.INFO))
