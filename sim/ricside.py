"""RIC-side E2AP messages the test receiver (and tests) send to simulated nodes.

Builders only: typed :mod:`dnt.e2.e2ap_types` messages with their E2SM payloads encoded by
:mod:`dnt.e2.kpm` / :mod:`dnt.e2.rc`. Per-cell KPM reports need one action per cell (action definition
format 1 with ``cellGlobalID``) and E2AP allows at most 16 actions per subscription
(``maxofRICactionID``), so :func:`kpm_subscriptions` splits a node's cells into subscriptions of ≤ 16.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dnt.e2 import kpm, rc
from dnt.e2.e2ap_ies import Cause, PlmnId, RicAction, RicRequestId
from dnt.e2.e2ap_types import (
    ResetRequest,
    RICcontrolRequest,
    RICsubscriptionDeleteRequest,
    RICsubscriptionRequest,
)
from dnt.ran import SLICES
from sim.topology import control_target, nci

__all__ = ["MAX_ACTIONS", "KpmSubscription", "kpm_subscriptions", "slice_quota_control", "subscription_delete",
           "reset_request"]

MAX_ACTIONS = 16
"""E2AP ``maxofRICactionID``: actions per RIC subscription."""


@dataclass(frozen=True)
class KpmSubscription:
    """A subscription request and which square each of its action ids reports."""

    request: RICsubscriptionRequest
    cells_by_action: dict[int, int]


def kpm_subscriptions(plmn: PlmnId, gnb_id: int, cells: Sequence[int], *, requestor_id: int, first_instance: int,
                      period_ms: int, meas_names: Sequence[str], granul_period_ms: int | None = None,
                      ran_function_id: int = 2) -> list[KpmSubscription]:
    """Per-cell KPM periodic reports for ``cells`` of one gNB, ≤ 16 actions (cells) per subscription.

    Instance ids run from ``first_instance``; action ids from 1 within each subscription.
    """
    trigger = kpm.encode_event_trigger(kpm.KpmEventTrigger(period_ms))
    granul = granul_period_ms or period_ms
    out = []
    for k in range(0, len(cells), MAX_ACTIONS):
        chunk = list(cells[k:k + MAX_ACTIONS])
        actions = tuple(
            RicAction(i + 1, "report", kpm.encode_action_definition(
                kpm.KpmActionDefinition(tuple(meas_names), granul, kpm.NrCgi(plmn, nci(gnb_id, sq)))))
            for i, sq in enumerate(chunk))
        req = RICsubscriptionRequest(request_id=RicRequestId(requestor_id, first_instance + k // MAX_ACTIONS),
                                     ran_function_id=ran_function_id, event_trigger=trigger, actions=actions)
        out.append(KpmSubscription(req, {i + 1: sq for i, sq in enumerate(chunk)}))
    return out


def slice_quota_control(plmn: PlmnId, *, request_id: RicRequestId, slice_name: str, cell: int | None = None,
                        min_ratio: int = 0, max_ratio: int = 100, dedicated_ratio: int = 0,
                        ran_function_id: int = 3, ack: bool = True) -> RICcontrolRequest:
    """E2SM-RC style 2 action 6 control setting one slice's PRB ratios on one cell (None: all cells).

    Ratios outside 0..100 cannot be encoded (:class:`~dnt.errors.EncodeError`); combinations that break
    the policy rules (min or dedicated above max, guarantees over 100 %) encode and are refused by the node.
    """
    spec = next((s for s in SLICES if s.name == slice_name), None)
    if spec is None:
        raise ValueError(f"unknown slice {slice_name!r}; one of {[s.name for s in SLICES]}")
    quota = rc.SlicePrbQuota(plmn=plmn, sst=spec.sst, sd=spec.sd, min_prb_ratio=min_ratio, max_prb_ratio=max_ratio,
                             dedicated_prb_ratio=dedicated_ratio)
    header, message = rc.control_slice_prb_quota([quota], ue_id=control_target(cell))
    return RICcontrolRequest(request_id=request_id, ran_function_id=ran_function_id, header=header, message=message,
                             ack_request="ack" if ack else None)


def subscription_delete(request_id: RicRequestId, ran_function_id: int = 2) -> RICsubscriptionDeleteRequest:
    return RICsubscriptionDeleteRequest(request_id=request_id, ran_function_id=ran_function_id)


def reset_request(transaction_id: int, cause: Cause | None = None) -> ResetRequest:
    return ResetRequest(transaction_id=transaction_id, cause=cause or Cause("misc", "om-intervention"))
