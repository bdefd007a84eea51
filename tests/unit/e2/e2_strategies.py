"""Hypothesis strategies for every typed E2AP IE and message (shared by the e2 unit tests).

Enumerated values are read from pycrate's compiled E2AP ASN.1, so they track the specification.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from pycrate_asn1dir import E2AP

from dnt.e2 import e2ap_ies as ie
from dnt.e2 import e2ap_types as t

_IES = E2AP.E2AP_IEs


def _enum(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(list(getattr(_IES, name)._cont.keys()))


u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
ran_function_ids = st.integers(0, 4095)
u36 = st.integers(0, 2**36 - 1)
small_bytes = st.binary(max_size=40)
criticality = st.sampled_from(["reject", "ignore", "notify"])
_PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
printable = st.text(alphabet=_PRINTABLE, min_size=1, max_size=24)

plmns = st.builds(
    ie.PlmnId,
    st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.text(alphabet="0123456789", min_size=2, max_size=3),
)
gnb_ids = st.integers(22, 32).flatmap(lambda n: st.builds(ie.GlobalGnbId, plmns, st.integers(0, 2**n - 1), st.just(n)))
_ENB_BITS = {"macro": 20, "home": 28, "short-macro": 18, "long-macro": 21}


def _enb_ids(kinds: list[str]) -> st.SearchStrategy[ie.GlobalEnbId]:
    return st.sampled_from(kinds).flatmap(
        lambda k: st.builds(ie.GlobalEnbId, plmns, st.integers(0, 2 ** _ENB_BITS[k] - 1), st.just(k))
    )


enb_ids = _enb_ids(["macro", "home", "short-macro", "long-macro"])
ng_enb_ids = _enb_ids(["macro", "short-macro", "long-macro"])
nodes: st.SearchStrategy[Any] = st.one_of(
    st.builds(ie.E2nodeGnb, gnb_ids, st.none() | gnb_ids, st.none() | u36, st.none() | u36),
    st.builds(ie.E2nodeEnGnb, gnb_ids, st.none() | u36, st.none() | u36),
    st.builds(ie.E2nodeNgEnb, ng_enb_ids, st.none() | enb_ids, st.none() | u36),
    st.builds(ie.E2nodeEnb, enb_ids),
)
ric_ids = st.builds(ie.GlobalRicId, plmns, st.integers(0, 2**20 - 1))
request_ids = st.builds(ie.RicRequestId, u16, u16)
causes = st.one_of(
    *[st.builds(ie.Cause, st.just(group), _enum(enum)) for group, enum in [
        ("ricRequest", "CauseRICrequest"), ("ricService", "CauseRICservice"), ("e2Node", "CauseE2node"),
        ("transport", "CauseTransport"), ("protocol", "CauseProtocol"), ("misc", "CauseMisc"),
    ]]
)
crit_diags = st.builds(
    ie.CriticalityDiagnostics,
    st.none() | u8,
    st.none() | st.sampled_from(["initiating-message", "successful-outcome", "unsuccessfull-outcome"]),
    st.none() | criticality,
    st.none() | request_ids,
    st.lists(st.builds(ie.CriticalityDiagnosticsItem, criticality, u16, _enum("TypeOfError")), max_size=3).map(tuple),
)
time_to_wait = _enum("TimeToWait")
ran_functions = st.builds(ie.RanFunction, ran_function_ids, small_bytes, ran_function_ids, printable)
ran_function_id_items = st.builds(ie.RanFunctionIdItem, ran_function_ids, ran_function_ids)
ran_function_causes = st.builds(ie.RanFunctionIdCause, ran_function_ids, causes)
actions = st.builds(
    ie.RicAction, u8, _enum("RICactionType"), st.none() | small_bytes,
    st.none() | st.builds(ie.RicSubsequentAction, _enum("RICsubsequentActionType"), _enum("RICtimeToWait")),
    st.none() | u8,
)
component_ids: st.SearchStrategy[Any] = st.one_of(
    st.builds(ie.ComponentIdNG, printable),
    st.builds(ie.ComponentIdXn, gnb_ids | ng_enb_ids),
    st.builds(ie.ComponentIdE1, u36),
    st.builds(ie.ComponentIdF1, u36),
    st.builds(ie.ComponentIdW1, u36),
    st.builds(ie.ComponentIdS1, printable),
    st.builds(ie.ComponentIdX2, st.none() | enb_ids, st.none() | gnb_ids),
)
interface_types = _enum("E2nodeComponentInterfaceType")
component_configs = st.builds(ie.E2nodeComponentConfig, interface_types, component_ids, small_bytes, small_bytes)
component_acks = st.builds(
    ie.E2nodeComponentConfigAck, interface_types, component_ids, st.sampled_from(["success", "failure"]),
    st.none() | causes,
)
component_refs = st.builds(ie.E2nodeComponentRef, interface_types, component_ids)
tnls = st.integers(1, 160).flatmap(
    lambda n: st.builds(ie.TnlInformation, st.integers(0, 2**n - 1), st.just(n), st.none() | u16)
)
conn_items = st.builds(ie.E2connectionItem, tnls, _enum("TNLusage"))


def tuples(
    elements: st.SearchStrategy[Any], min_size: int = 0, max_size: int = 3
) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


def optional(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | elements


indications = st.builds(
    t.RICindication, request_id=request_ids, ran_function_id=ran_function_ids, action_id=u8, sn=optional(u16),
    indication_type=st.sampled_from(["report", "insert"]), header=small_bytes, message=st.binary(max_size=300),
    call_process_id=optional(small_bytes),
)

MESSAGES: dict[type[t.E2apMessage], st.SearchStrategy[Any]] = {
    t.RICsubscriptionRequest: st.builds(
        t.RICsubscriptionRequest, request_id=request_ids, ran_function_id=ran_function_ids, event_trigger=small_bytes,
        actions=tuples(actions, 1)),
    t.RICsubscriptionResponse: st.builds(
        t.RICsubscriptionResponse, request_id=request_ids, ran_function_id=ran_function_ids,
        admitted=tuples(u8, 1), not_admitted=tuples(st.builds(ie.RicActionNotAdmitted, u8, causes))),
    t.RICsubscriptionFailure: st.builds(
        t.RICsubscriptionFailure, request_id=request_ids, ran_function_id=ran_function_ids, cause=causes,
        criticality_diagnostics=optional(crit_diags)),
    t.RICsubscriptionDeleteRequest: st.builds(
        t.RICsubscriptionDeleteRequest, request_id=request_ids, ran_function_id=ran_function_ids),
    t.RICsubscriptionDeleteResponse: st.builds(
        t.RICsubscriptionDeleteResponse, request_id=request_ids, ran_function_id=ran_function_ids),
    t.RICsubscriptionDeleteFailure: st.builds(
        t.RICsubscriptionDeleteFailure, request_id=request_ids, ran_function_id=ran_function_ids, cause=causes,
        criticality_diagnostics=optional(crit_diags)),
    t.RICsubscriptionDeleteRequired: st.builds(
        t.RICsubscriptionDeleteRequired,
        subscriptions=tuples(st.builds(ie.RicSubscriptionWithCause, request_ids, ran_function_ids, causes), 1)),
    t.RICindication: indications,
    t.RICcontrolRequest: st.builds(
        t.RICcontrolRequest, request_id=request_ids, ran_function_id=ran_function_ids,
        call_process_id=optional(small_bytes), header=small_bytes, message=small_bytes,
        ack_request=optional(_enum("RICcontrolAckRequest"))),
    t.RICcontrolAcknowledge: st.builds(
        t.RICcontrolAcknowledge, request_id=request_ids, ran_function_id=ran_function_ids,
        call_process_id=optional(small_bytes), outcome=optional(small_bytes)),
    t.RICcontrolFailure: st.builds(
        t.RICcontrolFailure, request_id=request_ids, ran_function_id=ran_function_ids,
        call_process_id=optional(small_bytes), cause=causes, outcome=optional(small_bytes)),
    t.ErrorIndication: st.builds(
        t.ErrorIndication, transaction_id=optional(u8), request_id=optional(request_ids),
        ran_function_id=optional(ran_function_ids), cause=optional(causes),
        criticality_diagnostics=optional(crit_diags)),
    t.E2setupRequest: st.builds(
        t.E2setupRequest, transaction_id=u8, global_e2node_id=nodes, ran_functions=tuples(ran_functions, 1),
        component_configs=tuples(component_configs, 1)),
    t.E2setupResponse: st.builds(
        t.E2setupResponse, transaction_id=u8, global_ric_id=ric_ids, accepted=tuples(ran_function_id_items),
        rejected=tuples(ran_function_causes), component_config_acks=tuples(component_acks, 1)),
    t.E2setupFailure: st.builds(
        t.E2setupFailure, transaction_id=u8, cause=causes, time_to_wait=optional(time_to_wait),
        criticality_diagnostics=optional(crit_diags), tnl_information=optional(tnls)),
    t.ResetRequest: st.builds(t.ResetRequest, transaction_id=u8, cause=causes),
    t.ResetResponse: st.builds(t.ResetResponse, transaction_id=u8, criticality_diagnostics=optional(crit_diags)),
    t.RICserviceUpdate: st.builds(
        t.RICserviceUpdate, transaction_id=u8, added=tuples(ran_functions), modified=tuples(ran_functions),
        deleted=tuples(ran_function_id_items)),
    t.RICserviceUpdateAcknowledge: st.builds(
        t.RICserviceUpdateAcknowledge, transaction_id=u8, accepted=tuples(ran_function_id_items),
        rejected=tuples(ran_function_causes)),
    t.RICserviceUpdateFailure: st.builds(
        t.RICserviceUpdateFailure, transaction_id=u8, cause=causes, time_to_wait=optional(time_to_wait),
        criticality_diagnostics=optional(crit_diags)),
    t.RICserviceQuery: st.builds(t.RICserviceQuery, transaction_id=u8, accepted=tuples(ran_function_id_items)),
    t.E2nodeConfigurationUpdate: st.builds(
        t.E2nodeConfigurationUpdate, transaction_id=u8, global_e2node_id=optional(nodes),
        additions=tuples(component_configs), updates=tuples(component_configs), removals=tuples(component_refs),
        tnl_removals=tuples(st.builds(ie.TnlAssociationRemoval, tnls, tnls))),
    t.E2nodeConfigurationUpdateAcknowledge: st.builds(
        t.E2nodeConfigurationUpdateAcknowledge, transaction_id=u8, addition_acks=tuples(component_acks),
        update_acks=tuples(component_acks), removal_acks=tuples(component_acks)),
    t.E2nodeConfigurationUpdateFailure: st.builds(
        t.E2nodeConfigurationUpdateFailure, transaction_id=u8, cause=causes, time_to_wait=optional(time_to_wait),
        criticality_diagnostics=optional(crit_diags)),
    t.E2connectionUpdate: st.builds(
        t.E2connectionUpdate, transaction_id=u8, add=tuples(conn_items), remove=tuples(tnls),
        modify=tuples(conn_items)),
    t.E2connectionUpdateAcknowledge: st.builds(
        t.E2connectionUpdateAcknowledge, transaction_id=u8, setup=tuples(conn_items),
        failed=tuples(st.builds(ie.E2connectionFailedItem, tnls, causes))),
    t.E2connectionUpdateFailure: st.builds(
        t.E2connectionUpdateFailure, transaction_id=u8, cause=optional(causes), time_to_wait=optional(time_to_wait),
        criticality_diagnostics=optional(crit_diags)),
    t.E2RemovalRequest: st.builds(t.E2RemovalRequest, transaction_id=u8),
    t.E2RemovalResponse: st.builds(t.E2RemovalResponse, transaction_id=u8,
                                   criticality_diagnostics=optional(crit_diags)),
    t.E2RemovalFailure: st.builds(t.E2RemovalFailure, transaction_id=u8, cause=causes,
                                  criticality_diagnostics=optional(crit_diags)),
}
"""A strategy per message class; every class :func:`dnt.e2.e2ap.decode` can return is a key."""

messages: st.SearchStrategy[Any] = st.one_of(*MESSAGES.values())
