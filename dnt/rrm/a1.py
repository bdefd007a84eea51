"""The ``dnt-rrm`` A1 policy type (``schemas/a1/dnt-rrm.json``, type :data:`RRM_POLICY_TYPE_ID`).

The vtwin rApp publishes an RRM policy bundle (``dnt.rl.policy.RrmPolicy.to_bytes()``) in its model
registry under the SHA-256 of the bytes, onboards this type on the near-RT RIC's A1 mediator and creates an
instance naming the version and digest (:mod:`dnt.rrm.publish`); the rrm xApp loads the model only when the
bytes hash to the digest. An instance without a model makes the xApp decide with its heuristic. Every
instance carries the safety thresholds (per-slice SLA floors of the min PRB ratio, the cap on the sum of the
guaranteed shares) and the decision period.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from dnt.errors import DataError, PolicyError
from dnt.ran.slices import SLICE_NAMES

__all__ = ["RRM_POLICY_TYPE_ID", "RRM_POLICY_TYPE_PATH", "rrm_policy_type", "validate_rrm_policy"]

RRM_POLICY_TYPE_ID = 20101
"""The ``dnt-rrm`` A1 policy type id (next to ``dnt-twin``'s 20100 in the project range)."""
RRM_POLICY_TYPE_PATH = Path(__file__).resolve().parents[2] / "schemas" / "a1" / "dnt-rrm.json"
"""The policy type body ``{name, description, policy_type_id, create_schema}``."""


def rrm_policy_type(path: str | Path | None = None) -> dict[str, Any]:
    """The ``dnt-rrm`` policy type body (``schemas/a1/dnt-rrm.json``).

    Raises
    ------
    DataError
        The file cannot be read or is not JSON.
    """
    p = Path(path) if path is not None else RRM_POLICY_TYPE_PATH
    try:
        return dict(json.loads(p.read_text()))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the dnt-rrm policy type {p}: {err}") from err


def validate_rrm_policy(body: Mapping[str, Any], policy_type: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return ``body`` as a dict when it is a valid ``dnt-rrm`` instance, else raise :class:`PolicyError`.

    Beyond the JSON Schema: the SLA floors must fit in the guaranteed budget (``sum(floors) <= 100 x
    max_cell_load``), else no quota could respect them.
    """
    schema = (policy_type or rrm_policy_type())["create_schema"]
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise PolicyError(f"dnt-rrm policy invalid at {where}: {error.message}")
    safety = body["safety"]
    floors = sum(int(safety["sla_floor_prb_ratio"][s]) for s in SLICE_NAMES)
    budget = int(100 * float(safety["max_cell_load"]) + 1e-9)
    if floors > budget:
        raise PolicyError(f"dnt-rrm policy: the SLA floors add up to {floors} % of the PRBs, more than the "
                          f"{budget} % that max_cell_load {safety['max_cell_load']} lets the slices guarantee")
    return dict(body)
