"""Runtime configuration: frozen dataclasses, and the only place that reads platform env vars.

:meth:`RicConfig.from_env` reads what the OSC platform provides to an xApp pod (oran-conventions.md
§2.3, §5.1): ``CONFIG_FILE`` (the descriptor; the xapp-std chart does not set it, so
``$XAPP_DESCRIPTOR_PATH/config-file.json`` is the fallback), ``RMR_SRC_ID`` (``service-<ns>-<xapp>-rmr.<ns>``,
from which the ``-http`` service name submgr must call back is derived), ``PLT_NAMESPACE`` (submgr's
namespace), ``USE_FAKE_SDL`` (parsed explicitly: ``1/true/yes/on`` or ``0/false/no/off/""``).
``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT`` are read by ricsdl itself (see :mod:`dnt.ric.sdl`).
From the descriptor come the xApp ``name`` (or legacy ``xapp_name``) and the ports named ``http`` and
``rmrdata`` / ``rmr-data``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnt.errors import ConfigError

__all__ = ["SubmgrConfig", "RicConfig", "parse_bool", "read_descriptor", "descriptor_ports"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """Parse an environment boolean explicitly (``bool("false")`` is True; this is not).

    Raises
    ------
    ConfigError
        The value is not one of ``1/true/yes/on/0/false/no/off`` (any case) or empty.
    """
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use one of {sorted(_TRUE | _FALSE - {''})})")


def _port(value: int, name: str, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not (0 if allow_zero else 1) <= value <= 65535:
        raise ConfigError(f"{name}={value!r} must be a TCP port ({0 if allow_zero else 1}..65535)")


@dataclass(frozen=True)
class SubmgrConfig:
    """How the xApp talks to the subscription manager.

    Attributes
    ----------
    url : str
        submgr REST base (``/ric/v1`` included).
    client_host : str
        ``ClientEndpoint.Host``: this xApp's ``-http`` service name; submgr posts results to
        ``http://<client_host>:<client_http_port>/ric/v1/subscriptions/response`` and routes
        indications to ``<client_host with http->rmr>:<client_rmr_port>``. Empty: derived by
        :meth:`RicConfig.from_env`.
    client_http_port, client_rmr_port : int
        The ports submgr uses for this xApp (0: take :attr:`RicConfig.http_port` / ``rmr_port``).
    request_timeout_s : float
        HTTP timeout of one REST call.
    response_timeout_s : float
        How long ``subscribe`` waits for the result notification (submgr retries E2 twice, 2 s each).
    e2_timeout_timer_s, e2_retry_count : int or None
        ``E2SubscriptionDirectives`` (1..10 s, 0..10); None leaves submgr's defaults.
    rmr_routing_needed : bool or None
        ``E2SubscriptionDirectives.RMRRoutingNeeded``; None leaves submgr's default (true).
    """

    url: str = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1"
    client_host: str = ""
    client_http_port: int = 0
    client_rmr_port: int = 0
    request_timeout_s: float = 5.0
    response_timeout_s: float = 15.0
    e2_timeout_timer_s: int | None = None
    e2_retry_count: int | None = None
    rmr_routing_needed: bool | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith("http://"):
            raise ConfigError(f"submgr.url={self.url!r} must be an http:// URL")
        _port(self.client_http_port, "submgr.client_http_port", allow_zero=True)
        _port(self.client_rmr_port, "submgr.client_rmr_port", allow_zero=True)
        if self.request_timeout_s <= 0 or self.response_timeout_s <= 0:
            raise ConfigError("submgr timeouts must be > 0 s")
        if self.e2_timeout_timer_s is not None and not 1 <= self.e2_timeout_timer_s <= 10:
            raise ConfigError(f"submgr.e2_timeout_timer_s={self.e2_timeout_timer_s} must be in 1..10")
        if self.e2_retry_count is not None and not 0 <= self.e2_retry_count <= 10:
            raise ConfigError(f"submgr.e2_retry_count={self.e2_retry_count} must be in 0..10")


@dataclass(frozen=True)
class RicConfig:
    """Settings of a production (RMR) runtime.

    Attributes
    ----------
    xapp_name : str
        The xApp name (descriptor ``name``); SDL namespaces and A1 ``handler_id`` use it.
    rmr_port : int
        RMR data port: 4560 as in every OSC descriptor (ricxappframe's own default, 4562, is not used).
    http_port : int
        Port of the xApp's HTTP server (health probes, subscription results); 0 = ephemeral (tests).
    http_host : str
        Bind address of the HTTP server.
    rmr_wait_for_ready : bool
        Block at start until RMR has a route table (as ricxappframe does by default).
    use_fake_sdl : bool
        Keep SDL in process memory instead of Redis (development only).
    poll_interval_s : float
        How long the dispatch loop waits for a message before polling the config watcher (and how
        quickly :meth:`stop` is noticed).
    send_retries : int
        Immediate re-sends while RMR answers ``RMR_ERR_RETRY``.
    stop_timeout_s : float
        How long ``stop`` waits for ricxappframe's RMR receive thread.
    config_file : str or None
        Path of the descriptor (``CONFIG_FILE``); informational, ricxappframe watches it itself.
    submgr : SubmgrConfig
        Subscription manager settings.
    """

    xapp_name: str = "xapp"
    rmr_port: int = 4560
    http_port: int = 8080
    http_host: str = "0.0.0.0"
    rmr_wait_for_ready: bool = True
    use_fake_sdl: bool = False
    poll_interval_s: float = 1.0
    send_retries: int = 10
    stop_timeout_s: float = 10.0
    config_file: str | None = None
    submgr: SubmgrConfig = field(default_factory=SubmgrConfig)

    def __post_init__(self) -> None:
        if not self.xapp_name or not isinstance(self.xapp_name, str):
            raise ConfigError(f"xapp_name={self.xapp_name!r} must be a non-empty string")
        _port(self.rmr_port, "rmr_port")
        _port(self.http_port, "http_port", allow_zero=True)
        if self.poll_interval_s <= 0 or self.stop_timeout_s <= 0:
            raise ConfigError("poll_interval_s and stop_timeout_s must be > 0 s")
        if self.send_retries < 1:
            raise ConfigError(f"send_retries={self.send_retries} must be >= 1")

    @property
    def client_host(self) -> str:
        """``ClientEndpoint.Host`` (``submgr.client_host`` or ``service-ricxapp-<name>-http.ricxapp``)."""
        return self.submgr.client_host or f"service-ricxapp-{self.xapp_name}-http.ricxapp"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, base: RicConfig | None = None) -> RicConfig:
        """``base`` (default: defaults) updated with what the platform environment and descriptor say.

        Raises
        ------
        ConfigError
            The descriptor cannot be read, or a variable is malformed.
        """
        env = os.environ if env is None else env
        cfg = base or cls()
        changes: dict[str, Any] = {}
        sub_changes: dict[str, Any] = {}
        path = env.get("CONFIG_FILE") or ""
        if not path and env.get("XAPP_DESCRIPTOR_PATH"):
            candidate = Path(env["XAPP_DESCRIPTOR_PATH"]) / "config-file.json"
            path = str(candidate) if candidate.is_file() else ""
        if path:
            desc = read_descriptor(path)
            changes["config_file"] = path
            name = desc.get("name") or desc.get("xapp_name")
            if isinstance(name, str) and name:
                changes["xapp_name"] = name
            http_port, rmr_port = descriptor_ports(desc)
            if http_port is not None:
                changes["http_port"] = http_port
            if rmr_port is not None:
                changes["rmr_port"] = rmr_port
        if "USE_FAKE_SDL" in env:
            changes["use_fake_sdl"] = parse_bool(env["USE_FAKE_SDL"], "USE_FAKE_SDL")
        src = env.get("RMR_SRC_ID", "")
        if src and not cfg.submgr.client_host and "-rmr" in src:
            sub_changes["client_host"] = src.split(":")[0].replace("-rmr", "-http", 1)
        plt = env.get("PLT_NAMESPACE", "").strip()
        if plt and cfg.submgr.url == SubmgrConfig.url:
            sub_changes["url"] = f"http://service-{plt}-submgr-http.{plt}:8088/ric/v1"
        if sub_changes:
            changes["submgr"] = dataclasses.replace(cfg.submgr, **sub_changes)
        return dataclasses.replace(cfg, **changes)


def read_descriptor(path: str | Path) -> dict[str, Any]:
    """Read the xApp descriptor (config-file.json).

    Raises
    ------
    ConfigError
        Unreadable, not JSON, or not an object.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the xApp descriptor {path}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"xApp descriptor {path} must be a JSON object")
    return data


def descriptor_ports(desc: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``(http port, rmr data port)`` from ``messaging.ports`` (names ``http``, ``rmrdata`` / ``rmr-data``)."""
    http_port = rmr_port = None
    ports = (desc.get("messaging") or {}).get("ports") or []
    for item in ports if isinstance(ports, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("port"), int):
            continue
        name = str(item.get("name", "")).lower().replace("-", "").replace("_", "")
        if name == "http":
            http_port = item["port"]
        elif name == "rmrdata":
            rmr_port = item["port"]
    return http_port, rmr_port
