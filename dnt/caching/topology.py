"""Who covers whom: BSs on a ring, clients homed at one BS, some also covered by the next BS.

Each BS ``b`` has ``clients_per_bs`` clients. The first ``shared_per_bs`` of them sit at the cell edge
towards BS ``(b + 1) mod B`` and are covered by both; the others only by ``b``. So a client is covered by
one or two BSs (never more), and each BS shares clients with its two ring neighbours.

Clients with the same coverage form a *group* (``2·B`` groups when ``0 < shared_per_bs < clients_per_bs``);
the shield and the load prediction work per group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnt.errors import ConfigError

__all__ = ["Topology", "ring_topology"]


@dataclass(frozen=True)
class Topology:
    """Coverage of clients by BSs.

    Attributes
    ----------
    n_bs : number of BSs B.
    client_home : (U,) home BS of each client.
    client_cover : (U, 2) covering BSs of each client; the second column is -1 for a single-BS client.
    client_group : (U,) group index of each client.
    group_cover : (G, 2) covering BSs of each group (-1 padded).
    """

    n_bs: int
    client_home: np.ndarray
    client_cover: np.ndarray
    client_group: np.ndarray
    group_cover: np.ndarray

    @property
    def n_clients(self) -> int:
        return int(self.client_home.size)

    def neighbours(self, b: int) -> list[int]:
        """BSs that share at least one client with ``b``."""
        rows = self.group_cover[(self.group_cover == b).any(axis=1)]
        return sorted({int(x) for x in rows.ravel() if x >= 0 and x != b})


def ring_topology(n_bs: int, clients_per_bs: int, shared_per_bs: int) -> Topology:
    """The ring coverage described in the module docstring."""
    if n_bs < 1 or clients_per_bs < 1 or not 0 <= shared_per_bs <= clients_per_bs:
        raise ConfigError(f"need n_bs ≥ 1, clients_per_bs ≥ 1 and 0 ≤ shared_per_bs ≤ clients_per_bs, got "
                          f"{n_bs}, {clients_per_bs}, {shared_per_bs}")
    home = np.repeat(np.arange(n_bs), clients_per_bs)
    pos = np.tile(np.arange(clients_per_bs), n_bs)
    second = np.where((pos < shared_per_bs) & (n_bs > 1), (home + 1) % n_bs, -1)
    cover = np.stack([home, second], axis=1).astype(np.int64)
    groups, client_group = np.unique(cover, axis=0, return_inverse=True)
    return Topology(n_bs, home.astype(np.int64), cover, client_group.reshape(-1).astype(np.int64),
                    groups.astype(np.int64))
