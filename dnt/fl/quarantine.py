"""Quarantine of clients whose updates the aggregation rule keeps trimming or rejecting.

A robust rule (median, trimmed mean, Krum …) already limits what one bad update does to one
aggregation, but a poisoning client keeps sending. :class:`Quarantine` watches each client's fate over
its last ``window`` aggregations: in an aggregation the client is *flagged* when one of its updates was
rejected by the rule (``Aggregated.rejected``) or got a weight below ``min_weight`` times the equal
share ``1/n`` of the ``n`` updates aggregated (trimmed). A client flagged in at least ``threshold`` of
its observed aggregations (and observed at least ``min_observations`` times) is quarantined: the
aggregator drops its later updates before they reach the server. With ``cooldown_s > 0`` it is released
after that many seconds, with a fresh history; with 0 only :meth:`Quarantine.release` frees it.

The weight test is relative to the equal share so that one setting works for any buffer size: with
``min_weight=0.05`` an update weighing less than 5 % of an average one counts as trimmed. Under a
sample-weighted mean a client with very few samples can fall below it; raise ``min_observations`` or
lower ``min_weight`` there.

Quarantine by client id is only meaningful for authenticated clients (:mod:`dnt.fl.auth`): otherwise
anyone can send junk under a victim's id to have it quarantined.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from dnt.errors import ConfigError, DecodeError

__all__ = ["QuarantineConfig", "Quarantine"]


@dataclass(frozen=True)
class QuarantineConfig:
    """Settings of a :class:`Quarantine` (see the module docstring)."""

    window: int = 10
    """Aggregations remembered per client."""
    threshold: float = 0.6
    """Fraction of the remembered aggregations in which the client was flagged that quarantines it, in (0, 1]."""
    min_weight: float = 0.05
    """An update weighing less than ``min_weight / n`` (n updates aggregated) counts as trimmed, in [0, 1]."""
    min_observations: int = 5
    """Aggregations a client must have been in before it can be quarantined (capped at ``window``)."""
    cooldown_s: float = 0.0
    """Seconds after which a quarantined client is released (0 = never automatically)."""

    def __post_init__(self) -> None:
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ConfigError(f"quarantine.window must be an integer >= 1, got {self.window!r}")
        if not (isinstance(self.threshold, int | float) and 0.0 < self.threshold <= 1.0):
            raise ConfigError(f"quarantine.threshold must be in (0, 1], got {self.threshold!r}")
        if not (isinstance(self.min_weight, int | float) and 0.0 <= self.min_weight <= 1.0):
            raise ConfigError(f"quarantine.min_weight must be in [0, 1], got {self.min_weight!r}")
        if isinstance(self.min_observations, bool) or not isinstance(self.min_observations, int) \
                or self.min_observations < 1:
            raise ConfigError(f"quarantine.min_observations must be an integer >= 1, got {self.min_observations!r}")
        if not (isinstance(self.cooldown_s, int | float) and math.isfinite(self.cooldown_s) and self.cooldown_s >= 0):
            raise ConfigError(f"quarantine.cooldown_s must be >= 0, got {self.cooldown_s!r}")


@dataclass
class _Client:
    history: deque[bool] = field(default_factory=deque)
    since: float | None = None
    reason: str = ""
    dropped: int = 0


class Quarantine:
    """Tracks clients' flagged aggregations and quarantines repeat offenders (see the module docstring).

    Parameters
    ----------
    window, threshold, min_weight, min_observations, cooldown_s : :class:`QuarantineConfig`.
    clock : ``() -> seconds`` (default ``time.time``; the release time survives a restart).
    """

    def __init__(self, window: int = 10, threshold: float = 0.6, min_weight: float = 0.05,
                 min_observations: int = 5, cooldown_s: float = 0.0, *,
                 clock: Callable[[], float] | None = None) -> None:
        self.cfg = QuarantineConfig(window, threshold, min_weight, min_observations, cooldown_s)
        self.clock = clock or time.time
        self._clients: dict[str, _Client] = {}

    @classmethod
    def from_config(cls, cfg: QuarantineConfig, clock: Callable[[], float] | None = None) -> Quarantine:
        return cls(**asdict(cfg), clock=clock)

    def configure(self, **changes: Any) -> None:
        """Change settings (e.g. from an A1 policy), keeping the histories (cut to the new window)."""
        self.cfg = replace(self.cfg, **changes)
        for c in self._clients.values():
            c.history = deque(list(c.history)[-self.cfg.window:])

    # --- observing -------------------------------------------------------------------------------------
    def observe(self, client_ids: Sequence[str], weights: Sequence[float] | np.ndarray,
                rejected: Sequence[int] = ()) -> list[str]:
        """Record one aggregation; the clients quarantined by it.

        Parameters
        ----------
        client_ids : the aggregated updates' clients, in the rule's input order (a client may repeat).
        weights : the rule's final weight of each update (``Aggregated.weights``).
        rejected : indices of the updates the rule left out (``Aggregated.rejected``).
        """
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        n = len(client_ids)
        if w.size != n:
            raise ValueError(f"{n} client ids but {w.size} weights")
        if n == 0:
            return []
        bar = self.cfg.min_weight / n
        out = set(int(i) for i in rejected)
        flagged: dict[str, bool] = {}
        for i, cid in enumerate(client_ids):
            bad = i in out or not np.isfinite(w[i]) or w[i] < bar
            flagged[cid] = flagged.get(cid, False) or bool(bad)
        newly: list[str] = []
        for cid, bad in flagged.items():
            c = self._clients.setdefault(cid, _Client())
            if c.since is not None:  # already quarantined (a buffered update from before): no new evidence
                continue
            c.history.append(bad)
            while len(c.history) > self.cfg.window:
                c.history.popleft()
            count, seen = sum(c.history), len(c.history)
            if seen >= min(self.cfg.min_observations, self.cfg.window) and count >= self.cfg.threshold * seen:
                c.since = float(self.clock())
                c.reason = f"trimmed or rejected in {count} of the last {seen} aggregations"
                newly.append(cid)
        return newly

    def reason(self, client_id: str) -> str | None:
        """Why the client is quarantined, or None when it is not (releasing it once its cooldown passed)."""
        c = self._clients.get(client_id)
        if c is None or c.since is None:
            return None
        if self.cfg.cooldown_s > 0 and self.clock() - c.since >= self.cfg.cooldown_s:
            self.release(client_id)
            return None
        return c.reason

    def check(self, client_id: str) -> str | None:
        """:meth:`reason`, counting a dropped update when the client is quarantined."""
        why = self.reason(client_id)
        if why is not None:
            self._clients[client_id].dropped += 1
        return why

    def release(self, client_id: str) -> bool:
        """Free a quarantined client with a fresh history; False when it was not quarantined."""
        c = self._clients.get(client_id)
        if c is None or c.since is None:
            return False
        self._clients[client_id] = _Client()
        return True

    @property
    def quarantined(self) -> dict[str, str]:
        """Quarantined client id -> reason (after applying any due release)."""
        return {cid: r for cid in sorted(self._clients) if (r := self.reason(cid)) is not None}

    def metrics(self) -> dict[str, Any]:
        """``{"quarantined": count, "clients": {id: {"quarantined", "flagged", "observed", "dropped", "reason"}}}``."""
        q = self.quarantined
        return {"quarantined": len(q),
                "clients": {cid: {"quarantined": cid in q, "flagged": int(sum(c.history)), "observed": len(c.history),
                                  "dropped": c.dropped, "reason": q.get(cid, "")}
                            for cid, c in sorted(self._clients.items())}}

    # --- persistence -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Settings and per-client state as JSON-ready data (for SDL)."""
        return {"cfg": asdict(self.cfg),
                "clients": {cid: {"history": [int(b) for b in c.history], "since": c.since, "reason": c.reason,
                                  "dropped": c.dropped} for cid, c in sorted(self._clients.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], cfg: QuarantineConfig | None = None,
                  clock: Callable[[], float] | None = None) -> Quarantine:
        """Rebuild what :meth:`to_dict` saved; ``cfg`` replaces the saved settings.

        Raises
        ------
        DecodeError
            corrupt data.
        """
        try:
            q = cls.from_config(cfg or QuarantineConfig(**data["cfg"]), clock)
            for cid, c in data["clients"].items():
                since = c.get("since")
                q._clients[str(cid)] = _Client(deque((bool(b) for b in c["history"]), maxlen=None),
                                               None if since is None else float(since), str(c.get("reason", "")),
                                               int(c.get("dropped", 0)))
            q.configure()  # cut histories to the window
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DecodeError(f"quarantine state is corrupt: {err}") from err
        return q
