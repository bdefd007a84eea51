"""A rogue twin worker for tests against the live system: an attack's update as TwinUpdate bytes.

Only the payload builder: given the model a fake worker was served (flat vector, its
:class:`~dnt.fl.types.Layout` and version), :class:`RogueClient` crafts the attack's update and encodes it
with :func:`dnt.fl.messages.encode` exactly as an honest worker's update is encoded. Sending it (RMR,
the fabric) is the caller's business.
"""

from __future__ import annotations

import numpy as np

from dnt.attacks.base import Attack, AttackContext
from dnt.errors import ConfigError, DataError
from dnt.fl.messages import TwinUpdate, encode
from dnt.fl.types import Layout, Update

__all__ = ["RogueClient"]


class RogueClient:
    """Fake client ``index`` of ``attack``, speaking the twin update wire format.

    Parameters
    ----------
    attack : the attack crafting the delta.
    layout : the twin's tensor names and shapes (the aggregator refuses other layouts).
    index : which of the attack's fake clients this is (its id and, for some attacks, its delta).
    num_samples : sample count to claim (a plausible benign value).
    """

    def __init__(self, attack: Attack, layout: Layout, index: int = 0, num_samples: int = 1000) -> None:
        if index < 0 or num_samples < 1:
            raise ConfigError(f"rogue client needs index >= 0 and num_samples >= 1, got {index}, {num_samples}")
        self.attack, self.layout, self.index, self.num_samples = attack, layout, int(index), int(num_samples)

    @property
    def client_id(self) -> str:
        return self.attack.client_ids(self.index + 1)[self.index]

    def update(self, model: np.ndarray, version: int, cluster: int | None = None) -> Update:
        """The crafted :class:`~dnt.fl.types.Update` against the served ``model`` of ``version``."""
        vec = np.asarray(model, dtype=np.float32).reshape(-1)
        if vec.size != self.layout.size:
            raise DataError(f"served model has {vec.size} weights, the layout {self.layout.size}")
        ctx = AttackContext(vec, int(version), cluster, self.num_samples)
        return self.attack.fakes(1, ctx, first=self.index)[0]

    def payload(self, model: np.ndarray, version: int, cluster: int | None = None, created_ms: int = 0) -> bytes:
        """The encoded TwinUpdate bytes of :meth:`update` (unsigned: empty nonce and tag)."""
        return encode(TwinUpdate(self.update(model, version, cluster), self.layout, int(created_ms)))
