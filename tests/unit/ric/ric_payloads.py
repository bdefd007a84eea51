"""Real E2AP / E2SM bytes for the runtime tests, built with the project's codecs."""

from __future__ import annotations

from dnt.e2 import e2ap, kpm
from dnt.e2.e2ap_ies import RicAction, RicRequestId
from dnt.e2.e2ap_types import RICindication
from dnt.e2.kpm_types import KpmActionDefinition, KpmEventTrigger, KpmIndicationHeader, KpmIndicationMessage

MEAS = ("DRB.UEThpDl", "RRU.PrbUsedDl")


def indication(instance_id: int = 7, sn: int = 1, values: tuple[int | float, ...] = (12, 3.5)) -> RICindication:
    header = kpm.encode_indication_header(KpmIndicationHeader.from_unix_ms(1_700_000_000_000))
    message = kpm.encode_indication_message(KpmIndicationMessage(records=(values,), meas_names=MEAS,
                                                                 granul_period_ms=1000))
    return RICindication(request_id=RicRequestId(123, instance_id), ran_function_id=2, action_id=1, sn=sn,
                         indication_type="report", header=header, message=message)


def indication_bytes(instance_id: int = 7, sn: int = 1) -> bytes:
    return e2ap.encode(indication(instance_id, sn))


def kpm_trigger(period_ms: int = 1000) -> bytes:
    return kpm.encode_event_trigger(KpmEventTrigger(period_ms))


def kpm_actions() -> tuple[RicAction, ...]:
    definition = kpm.encode_action_definition(KpmActionDefinition(MEAS, 1000))
    return (RicAction(1, "report", definition),)
