"""Resource decisions of the rrm xApp: features, slice PRB quotas, the ``dnt-rrm`` A1 policy, the service.

* :mod:`dnt.rrm.a1` — the ``dnt-rrm`` policy type (20101) and its validation;
* :mod:`dnt.rrm.features` — per-cell node features and the cell graph from KPI records and twin forecasts;
* :mod:`dnt.rrm.quota` — shares → PRB quota ratios within the safety thresholds → RC control requests;
* :mod:`dnt.rrm.service` — :class:`RrmService`, the xApp's runtime-free logic and SDL state;
* :mod:`dnt.rrm.publish` — the rApp side: train or load, publish and name an RRM policy over A1.
"""

from dnt.rrm.a1 import RRM_POLICY_TYPE_ID, rrm_policy_type, validate_rrm_policy
from dnt.rrm.features import FEATURES, KPM_MEASUREMENTS, adjacency, node_features, observation
from dnt.rrm.quota import proportional_shares, quota_ratios
from dnt.rrm.service import DEFAULT_POLICY, Control, RrmService, RrmServiceConfig

__all__ = ["RRM_POLICY_TYPE_ID", "rrm_policy_type", "validate_rrm_policy", "FEATURES", "KPM_MEASUREMENTS",
           "adjacency", "node_features", "observation", "proportional_shares", "quota_ratios", "DEFAULT_POLICY",
           "Control", "RrmService", "RrmServiceConfig"]
