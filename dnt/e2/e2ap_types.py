"""Typed E2AP messages: one frozen, keyword-only dataclass per message, named as in the ASN.1.

Spec: O-RAN.WG3.E2AP-v03.01 ("E2AP"), §9.1.1 (near-RT RIC functional procedure messages), §9.1.2
(global procedure messages), §9.3 (ASN.1 module ``E2AP-PDU-Contents``). Each field is one protocol IE;
its docstring line names the IE. Optional IEs are ``None`` when absent; optional lists are an empty
tuple when absent (E2AP lists have at least one element).

Every message carries ``wire``: the criticalities found on the wire when they differ from the
specification's (some stacks send ``ignore`` where the ASN.1 says ``reject``). It lets a decoded
message re-encode byte-identically; it takes no part in equality and is ``None`` for messages built
in code (which are encoded with the specification's criticalities).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from dnt.e2.e2ap_ies import (
    Cause,
    ControlAckRequest,
    Criticality,
    CriticalityDiagnostics,
    E2connectionFailedItem,
    E2connectionItem,
    E2nodeComponentConfig,
    E2nodeComponentConfigAck,
    E2nodeComponentRef,
    GlobalE2nodeId,
    GlobalRicId,
    RanFunction,
    RanFunctionIdCause,
    RanFunctionIdItem,
    RicAction,
    RicActionNotAdmitted,
    RicIndicationType,
    RicRequestId,
    RicSubscriptionWithCause,
    TimeToWait,
    TnlAssociationRemoval,
    TnlInformation,
)

__all__ = [
    "E2RemovalFailure",
    "E2RemovalRequest",
    "E2RemovalResponse",
    "E2apMessage",
    "E2apMessageType",
    "E2connectionUpdate",
    "E2connectionUpdateAcknowledge",
    "E2connectionUpdateFailure",
    "E2nodeConfigurationUpdate",
    "E2nodeConfigurationUpdateAcknowledge",
    "E2nodeConfigurationUpdateFailure",
    "E2setupFailure",
    "E2setupRequest",
    "E2setupResponse",
    "ErrorIndication",
    "RICcontrolAcknowledge",
    "RICcontrolFailure",
    "RICcontrolRequest",
    "RICindication",
    "RICserviceQuery",
    "RICserviceUpdate",
    "RICserviceUpdateAcknowledge",
    "RICserviceUpdateFailure",
    "RICsubscriptionDeleteFailure",
    "RICsubscriptionDeleteRequest",
    "RICsubscriptionDeleteRequired",
    "RICsubscriptionDeleteResponse",
    "RICsubscriptionFailure",
    "RICsubscriptionRequest",
    "RICsubscriptionResponse",
    "ResetRequest",
    "ResetResponse",
    "WireInfo",
]


@dataclass(frozen=True)
class WireInfo:
    """Wire details a typed message does not model, kept so that decode -> encode is byte-identical.

    Parameters
    ----------
    criticalities : tuple of str
        Every ``criticality`` field of the PDU (procedure, then each IE and list item, depth first),
        as received. Used by the encoder only when the message still has the same number of them.
    """

    criticalities: tuple[Criticality, ...]


@dataclass(frozen=True, kw_only=True)
class E2apMessage:
    """Base of all typed E2AP messages. ``E2AP_NAME`` is the ASN.1 type name of the message."""

    E2AP_NAME: ClassVar[str] = ""
    wire: WireInfo | None = field(default=None, compare=False, repr=False)


# === near-RT RIC functional procedures (E2AP §9.1.1) ============================================
@dataclass(frozen=True, kw_only=True)
class RICsubscriptionRequest(E2apMessage):
    """RIC SUBSCRIPTION REQUEST (procedure 8, initiating; RIC -> E2 node).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29 RIC Request ID.
    ran_function_id : int
        IE 5 RAN Function ID (0..4095).
    event_trigger : bytes
        IE 30 RIC Subscription Details / ``ricEventTriggerDefinition`` (E2SM event trigger, opaque).
    actions : tuple of RicAction
        IE 30 RIC Subscription Details / ``ricAction-ToBeSetup-List`` (1..16 actions).
    """

    E2AP_NAME: ClassVar[str] = "RICsubscriptionRequest"
    request_id: RicRequestId
    ran_function_id: int
    event_trigger: bytes
    actions: tuple[RicAction, ...]


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionResponse(E2apMessage):
    """RIC SUBSCRIPTION RESPONSE (procedure 8, successful outcome).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29.
    ran_function_id : int
        IE 5.
    admitted : tuple of int
        IE 17 RIC Actions Admitted List: the admitted ``RICactionID`` values (1..16).
    not_admitted : tuple of RicActionNotAdmitted
        IE 18 RIC Actions Not Admitted List (optional).
    """

    E2AP_NAME: ClassVar[str] = "RICsubscriptionResponse"
    request_id: RicRequestId
    ran_function_id: int
    admitted: tuple[int, ...]
    not_admitted: tuple[RicActionNotAdmitted, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionFailure(E2apMessage):
    """RIC SUBSCRIPTION FAILURE (procedure 8, unsuccessful outcome).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29.
    ran_function_id : int
        IE 5.
    cause : Cause
        IE 1.
    criticality_diagnostics : CriticalityDiagnostics or None
        IE 2 (optional).
    """

    E2AP_NAME: ClassVar[str] = "RICsubscriptionFailure"
    request_id: RicRequestId
    ran_function_id: int
    cause: Cause
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionDeleteRequest(E2apMessage):
    """RIC SUBSCRIPTION DELETE REQUEST (procedure 9, initiating): IE 29 request id, IE 5 RAN function id."""

    E2AP_NAME: ClassVar[str] = "RICsubscriptionDeleteRequest"
    request_id: RicRequestId
    ran_function_id: int


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionDeleteResponse(E2apMessage):
    """RIC SUBSCRIPTION DELETE RESPONSE (procedure 9, successful outcome): IE 29, IE 5."""

    E2AP_NAME: ClassVar[str] = "RICsubscriptionDeleteResponse"
    request_id: RicRequestId
    ran_function_id: int


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionDeleteFailure(E2apMessage):
    """RIC SUBSCRIPTION DELETE FAILURE (procedure 9, unsuccessful): IE 29, IE 5, IE 1 cause, IE 2 (optional)."""

    E2AP_NAME: ClassVar[str] = "RICsubscriptionDeleteFailure"
    request_id: RicRequestId
    ran_function_id: int
    cause: Cause
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class RICsubscriptionDeleteRequired(E2apMessage):
    """RIC SUBSCRIPTION DELETE REQUIRED (procedure 12, E2 node -> RIC).

    Attributes
    ----------
    subscriptions : tuple of RicSubscriptionWithCause
        IE 60 RIC Subscription List with cause (1..1024).
    """

    E2AP_NAME: ClassVar[str] = "RICsubscriptionDeleteRequired"
    subscriptions: tuple[RicSubscriptionWithCause, ...]


@dataclass(frozen=True, kw_only=True)
class RICindication(E2apMessage):
    """RIC INDICATION (procedure 5, initiating; E2 node -> RIC). The hot path; see :mod:`dnt.e2.fastpath`.

    Attributes
    ----------
    request_id : RicRequestId
        IE 29 RIC Request ID of the subscription.
    ran_function_id : int
        IE 5 RAN Function ID (0..4095).
    action_id : int
        IE 15 RIC Action ID (0..255).
    sn : int or None
        IE 27 RIC Indication SN (0..65535, optional).
    indication_type : {"report", "insert"}
        IE 28 RIC Indication Type.
    header : bytes
        IE 25 RIC Indication Header (E2SM indication header, opaque).
    message : bytes
        IE 26 RIC Indication Message (E2SM indication message, opaque).
    call_process_id : bytes or None
        IE 20 RIC Call Process ID (optional; insert actions).
    """

    E2AP_NAME: ClassVar[str] = "RICindication"
    request_id: RicRequestId
    ran_function_id: int
    action_id: int
    sn: int | None = None
    indication_type: RicIndicationType = "report"
    header: bytes
    message: bytes
    call_process_id: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class RICcontrolRequest(E2apMessage):
    """RIC CONTROL REQUEST (procedure 4, initiating; RIC -> E2 node).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29.
    ran_function_id : int
        IE 5.
    call_process_id : bytes or None
        IE 20 RIC Call Process ID (optional).
    header : bytes
        IE 22 RIC Control Header (E2SM, opaque).
    message : bytes
        IE 23 RIC Control Message (E2SM, opaque).
    ack_request : {"noAck", "ack"} or None
        IE 21 RIC Control Ack Request (optional).
    """

    E2AP_NAME: ClassVar[str] = "RICcontrolRequest"
    request_id: RicRequestId
    ran_function_id: int
    call_process_id: bytes | None = None
    header: bytes
    message: bytes
    ack_request: ControlAckRequest | None = None


@dataclass(frozen=True, kw_only=True)
class RICcontrolAcknowledge(E2apMessage):
    """RIC CONTROL ACKNOWLEDGE (procedure 4, successful outcome).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29.
    ran_function_id : int
        IE 5.
    call_process_id : bytes or None
        IE 20 (optional).
    outcome : bytes or None
        IE 32 RIC Control Outcome (E2SM, opaque; optional).
    """

    E2AP_NAME: ClassVar[str] = "RICcontrolAcknowledge"
    request_id: RicRequestId
    ran_function_id: int
    call_process_id: bytes | None = None
    outcome: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class RICcontrolFailure(E2apMessage):
    """RIC CONTROL FAILURE (procedure 4, unsuccessful outcome).

    Attributes
    ----------
    request_id : RicRequestId
        IE 29.
    ran_function_id : int
        IE 5.
    call_process_id : bytes or None
        IE 20 (optional).
    cause : Cause
        IE 1.
    outcome : bytes or None
        IE 32 RIC Control Outcome (optional).
    """

    E2AP_NAME: ClassVar[str] = "RICcontrolFailure"
    request_id: RicRequestId
    ran_function_id: int
    call_process_id: bytes | None = None
    cause: Cause
    outcome: bytes | None = None


# === global procedures (E2AP §9.1.2) ============================================================
@dataclass(frozen=True, kw_only=True)
class ErrorIndication(E2apMessage):
    """ERROR INDICATION (procedure 2, either direction). Every IE is optional.

    Attributes
    ----------
    transaction_id : int or None
        IE 49 Transaction ID (0..255).
    request_id : RicRequestId or None
        IE 29.
    ran_function_id : int or None
        IE 5.
    cause : Cause or None
        IE 1.
    criticality_diagnostics : CriticalityDiagnostics or None
        IE 2.
    """

    E2AP_NAME: ClassVar[str] = "ErrorIndication"
    transaction_id: int | None = None
    request_id: RicRequestId | None = None
    ran_function_id: int | None = None
    cause: Cause | None = None
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class E2setupRequest(E2apMessage):
    """E2 SETUP REQUEST (procedure 1, initiating; E2 node -> RIC).

    Attributes
    ----------
    transaction_id : int
        IE 49 Transaction ID (0..255).
    global_e2node_id : GlobalE2nodeId
        IE 3 Global E2 Node ID.
    ran_functions : tuple of RanFunction
        IE 10 RAN Functions Added List (1..256).
    component_configs : tuple of E2nodeComponentConfig
        IE 50 E2 Node Component Configuration Addition List (1..1024).
    """

    E2AP_NAME: ClassVar[str] = "E2setupRequest"
    transaction_id: int
    global_e2node_id: GlobalE2nodeId
    ran_functions: tuple[RanFunction, ...]
    component_configs: tuple[E2nodeComponentConfig, ...]


@dataclass(frozen=True, kw_only=True)
class E2setupResponse(E2apMessage):
    """E2 SETUP RESPONSE (procedure 1, successful outcome; RIC -> E2 node).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    global_ric_id : GlobalRicId
        IE 4 Global RIC ID.
    accepted : tuple of RanFunctionIdItem
        IE 9 RAN Functions Accepted List (optional).
    rejected : tuple of RanFunctionIdCause
        IE 13 RAN Functions Rejected List (optional).
    component_config_acks : tuple of E2nodeComponentConfigAck
        IE 52 E2 Node Component Configuration Addition Acknowledge List (1..1024).
    """

    E2AP_NAME: ClassVar[str] = "E2setupResponse"
    transaction_id: int
    global_ric_id: GlobalRicId
    accepted: tuple[RanFunctionIdItem, ...] = ()
    rejected: tuple[RanFunctionIdCause, ...] = ()
    component_config_acks: tuple[E2nodeComponentConfigAck, ...]


@dataclass(frozen=True, kw_only=True)
class E2setupFailure(E2apMessage):
    """E2 SETUP FAILURE (procedure 1, unsuccessful outcome).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    cause : Cause
        IE 1.
    time_to_wait : {"v1s", "v2s", "v5s", "v10s", "v20s", "v60s"} or None
        IE 31 Time To Wait (optional).
    criticality_diagnostics : CriticalityDiagnostics or None
        IE 2 (optional).
    tnl_information : TnlInformation or None
        IE 48 TNL Information (optional).
    """

    E2AP_NAME: ClassVar[str] = "E2setupFailure"
    transaction_id: int
    cause: Cause
    time_to_wait: TimeToWait | None = None
    criticality_diagnostics: CriticalityDiagnostics | None = None
    tnl_information: TnlInformation | None = None


@dataclass(frozen=True, kw_only=True)
class ResetRequest(E2apMessage):
    """RESET REQUEST (procedure 3, initiating): IE 49 transaction id, IE 1 cause."""

    E2AP_NAME: ClassVar[str] = "ResetRequest"
    transaction_id: int
    cause: Cause


@dataclass(frozen=True, kw_only=True)
class ResetResponse(E2apMessage):
    """RESET RESPONSE (procedure 3, successful outcome): IE 49, IE 2 (optional)."""

    E2AP_NAME: ClassVar[str] = "ResetResponse"
    transaction_id: int
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class RICserviceUpdate(E2apMessage):
    """RIC SERVICE UPDATE (procedure 7, initiating; E2 node -> RIC).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    added : tuple of RanFunction
        IE 10 RAN Functions Added List (optional).
    modified : tuple of RanFunction
        IE 12 RAN Functions Modified List (optional).
    deleted : tuple of RanFunctionIdItem
        IE 11 RAN Functions Deleted List (optional).
    """

    E2AP_NAME: ClassVar[str] = "RICserviceUpdate"
    transaction_id: int
    added: tuple[RanFunction, ...] = ()
    modified: tuple[RanFunction, ...] = ()
    deleted: tuple[RanFunctionIdItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RICserviceUpdateAcknowledge(E2apMessage):
    """RIC SERVICE UPDATE ACKNOWLEDGE (procedure 7, successful): IE 49, IE 9 accepted, IE 13 rejected."""

    E2AP_NAME: ClassVar[str] = "RICserviceUpdateAcknowledge"
    transaction_id: int
    accepted: tuple[RanFunctionIdItem, ...] = ()
    rejected: tuple[RanFunctionIdCause, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RICserviceUpdateFailure(E2apMessage):
    """RIC SERVICE UPDATE FAILURE (procedure 7, unsuccessful): IE 49, IE 1, IE 31 (opt.), IE 2 (opt.)."""

    E2AP_NAME: ClassVar[str] = "RICserviceUpdateFailure"
    transaction_id: int
    cause: Cause
    time_to_wait: TimeToWait | None = None
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class RICserviceQuery(E2apMessage):
    """RIC SERVICE QUERY (procedure 6, initiating; RIC -> E2 node): IE 49, IE 9 accepted functions (opt.)."""

    E2AP_NAME: ClassVar[str] = "RICserviceQuery"
    transaction_id: int
    accepted: tuple[RanFunctionIdItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class E2nodeConfigurationUpdate(E2apMessage):
    """E2 NODE CONFIGURATION UPDATE (procedure 10, initiating; E2 node -> RIC).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    global_e2node_id : GlobalE2nodeId or None
        IE 3 (optional).
    additions : tuple of E2nodeComponentConfig
        IE 50 Component Configuration Addition List (optional).
    updates : tuple of E2nodeComponentConfig
        IE 33 Component Configuration Update List (optional).
    removals : tuple of E2nodeComponentRef
        IE 54 Component Configuration Removal List (optional).
    tnl_removals : tuple of TnlAssociationRemoval
        IE 58 TNL Association Removal List (optional).
    """

    E2AP_NAME: ClassVar[str] = "E2nodeConfigurationUpdate"
    transaction_id: int
    global_e2node_id: GlobalE2nodeId | None = None
    additions: tuple[E2nodeComponentConfig, ...] = ()
    updates: tuple[E2nodeComponentConfig, ...] = ()
    removals: tuple[E2nodeComponentRef, ...] = ()
    tnl_removals: tuple[TnlAssociationRemoval, ...] = ()


@dataclass(frozen=True, kw_only=True)
class E2nodeConfigurationUpdateAcknowledge(E2apMessage):
    """E2 NODE CONFIGURATION UPDATE ACKNOWLEDGE (procedure 10, successful).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    addition_acks, update_acks, removal_acks : tuple of E2nodeComponentConfigAck
        IEs 52, 35, 56 (each optional).
    """

    E2AP_NAME: ClassVar[str] = "E2nodeConfigurationUpdateAcknowledge"
    transaction_id: int
    addition_acks: tuple[E2nodeComponentConfigAck, ...] = ()
    update_acks: tuple[E2nodeComponentConfigAck, ...] = ()
    removal_acks: tuple[E2nodeComponentConfigAck, ...] = ()


@dataclass(frozen=True, kw_only=True)
class E2nodeConfigurationUpdateFailure(E2apMessage):
    """E2 NODE CONFIGURATION UPDATE FAILURE (procedure 10, unsuccessful): IE 49, 1, 31 (opt.), 2 (opt.)."""

    E2AP_NAME: ClassVar[str] = "E2nodeConfigurationUpdateFailure"
    transaction_id: int
    cause: Cause
    time_to_wait: TimeToWait | None = None
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class E2connectionUpdate(E2apMessage):
    """E2 CONNECTION UPDATE (procedure 11, initiating; RIC -> E2 node).

    Attributes
    ----------
    transaction_id : int
        IE 49.
    add : tuple of E2connectionItem
        IE 44 E2 Connection To Add List (optional).
    remove : tuple of TnlInformation
        IE 46 E2 Connection To Remove List (optional).
    modify : tuple of E2connectionItem
        IE 45 E2 Connection To Modify List (optional).
    """

    E2AP_NAME: ClassVar[str] = "E2connectionUpdate"
    transaction_id: int
    add: tuple[E2connectionItem, ...] = ()
    remove: tuple[TnlInformation, ...] = ()
    modify: tuple[E2connectionItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class E2connectionUpdateAcknowledge(E2apMessage):
    """E2 CONNECTION UPDATE ACKNOWLEDGE (procedure 11, successful): IE 49, IE 39 set up, IE 40 failed."""

    E2AP_NAME: ClassVar[str] = "E2connectionUpdateAcknowledge"
    transaction_id: int
    setup: tuple[E2connectionItem, ...] = ()
    failed: tuple[E2connectionFailedItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class E2connectionUpdateFailure(E2apMessage):
    """E2 CONNECTION UPDATE FAILURE (procedure 11, unsuccessful): IE 49, IE 1, 31, 2 (all optional but 49)."""

    E2AP_NAME: ClassVar[str] = "E2connectionUpdateFailure"
    transaction_id: int
    cause: Cause | None = None
    time_to_wait: TimeToWait | None = None
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class E2RemovalRequest(E2apMessage):
    """E2 REMOVAL REQUEST (procedure 13, initiating): IE 49."""

    E2AP_NAME: ClassVar[str] = "E2RemovalRequest"
    transaction_id: int


@dataclass(frozen=True, kw_only=True)
class E2RemovalResponse(E2apMessage):
    """E2 REMOVAL RESPONSE (procedure 13, successful): IE 49, IE 2 (optional)."""

    E2AP_NAME: ClassVar[str] = "E2RemovalResponse"
    transaction_id: int
    criticality_diagnostics: CriticalityDiagnostics | None = None


@dataclass(frozen=True, kw_only=True)
class E2RemovalFailure(E2apMessage):
    """E2 REMOVAL FAILURE (procedure 13, unsuccessful): IE 49, IE 1, IE 2 (optional)."""

    E2AP_NAME: ClassVar[str] = "E2RemovalFailure"
    transaction_id: int
    cause: Cause
    criticality_diagnostics: CriticalityDiagnostics | None = None


E2apMessageType: TypeAlias = (
    RICsubscriptionRequest
    | RICsubscriptionResponse
    | RICsubscriptionFailure
    | RICsubscriptionDeleteRequest
    | RICsubscriptionDeleteResponse
    | RICsubscriptionDeleteFailure
    | RICsubscriptionDeleteRequired
    | RICindication
    | RICcontrolRequest
    | RICcontrolAcknowledge
    | RICcontrolFailure
    | ErrorIndication
    | E2setupRequest
    | E2setupResponse
    | E2setupFailure
    | ResetRequest
    | ResetResponse
    | RICserviceUpdate
    | RICserviceUpdateAcknowledge
    | RICserviceUpdateFailure
    | RICserviceQuery
    | E2nodeConfigurationUpdate
    | E2nodeConfigurationUpdateAcknowledge
    | E2nodeConfigurationUpdateFailure
    | E2connectionUpdate
    | E2connectionUpdateAcknowledge
    | E2connectionUpdateFailure
    | E2RemovalRequest
    | E2RemovalResponse
    | E2RemovalFailure
)
"""Every message :func:`dnt.e2.e2ap.decode` can return."""
