"""Poisoning attacks on federated twins: fake clients (fake base stations) sending crafted updates.

One module per attack behind :class:`~dnt.attacks.base.Attack` (``poison(benign, ctx) -> updates``):
:class:`MPAF` (Cao & Gong 2022), :class:`TPI` / FTI (Zhang et al. 2024, reconstructed), :class:`Noise`.
:data:`ATTACKS` maps names to classes; :class:`RogueClient` turns an attack into TwinUpdate bytes.
"""

from dnt.attacks.base import Attack, AttackContext, apportion, fake_client_ids
from dnt.attacks.mpaf import MPAF
from dnt.attacks.noise import Noise
from dnt.attacks.rogue import RogueClient
from dnt.attacks.tpi import FABRICATIONS, FTI, TPI, fabricate_series, fabricated_windows, train_base_model

ATTACKS: dict[str, type[Attack]] = {"mpaf": MPAF, "tpi": TPI, "noise": Noise}

__all__ = ["ATTACKS", "FABRICATIONS", "FTI", "MPAF", "TPI", "Attack", "AttackContext", "Noise", "RogueClient",
           "apportion", "fabricate_series", "fabricated_windows", "fake_client_ids", "train_base_model"]
