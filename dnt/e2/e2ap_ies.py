"""Typed E2AP information elements (IEs): small frozen dataclasses, no codec logic.

Spec: O-RAN.WG3.E2AP-v03.01 ("E2AP"), §9.2 (information element definitions) and §9.3 (ASN.1,
module ``E2AP-IEs``); E2AP v2.0x is wire-identical for every IE here. Each class names the ASN.1 type
it models. Values are not checked on construction: :func:`dnt.e2.e2ap.encode` checks them (range,
size, alphabet) and raises :class:`~dnt.errors.EncodeError`.

Enumerated values are the ASN.1 identifiers as plain strings (``"reject"``, ``"report"``,
``"ran-function-id-invalid"``); the ``Literal`` aliases below list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "Cause",
    "CauseGroup",
    "ComponentIdE1",
    "ComponentIdF1",
    "ComponentIdNG",
    "ComponentIdS1",
    "ComponentIdW1",
    "ComponentIdX2",
    "ComponentIdXn",
    "ControlAckRequest",
    "Criticality",
    "CriticalityDiagnostics",
    "CriticalityDiagnosticsItem",
    "E2connectionFailedItem",
    "E2connectionItem",
    "E2nodeComponentConfig",
    "E2nodeComponentConfigAck",
    "E2nodeComponentId",
    "E2nodeComponentRef",
    "E2nodeEnGnb",
    "E2nodeEnb",
    "E2nodeGnb",
    "E2nodeNgEnb",
    "EnbIdKind",
    "GlobalE2nodeId",
    "GlobalEnbId",
    "GlobalGnbId",
    "GlobalRicId",
    "InterfaceType",
    "PlmnId",
    "RanFunction",
    "RanFunctionIdCause",
    "RanFunctionIdItem",
    "RicAction",
    "RicActionNotAdmitted",
    "RicActionType",
    "RicIndicationType",
    "RicRequestId",
    "RicSubscriptionWithCause",
    "RicSubsequentAction",
    "RicTimeToWait",
    "TimeToWait",
    "TnlAssociationRemoval",
    "TnlInformation",
    "TnlUsage",
    "UpdateOutcome",
]

Criticality: TypeAlias = Literal["reject", "ignore", "notify"]
CauseGroup: TypeAlias = Literal["ricRequest", "ricService", "e2Node", "transport", "protocol", "misc"]
RicActionType: TypeAlias = Literal["report", "insert", "policy"]
RicIndicationType: TypeAlias = Literal["report", "insert"]
ControlAckRequest: TypeAlias = Literal["noAck", "ack"]
TimeToWait: TypeAlias = Literal["v1s", "v2s", "v5s", "v10s", "v20s", "v60s"]
RicTimeToWait: TypeAlias = Literal[
    "w1ms",
    "w2ms",
    "w5ms",
    "w10ms",
    "w20ms",
    "w30ms",
    "w40ms",
    "w50ms",
    "w100ms",
    "w200ms",
    "w500ms",
    "w1s",
    "w2s",
    "w5s",
    "w10s",
    "w20s",
    "w60s",
]
InterfaceType: TypeAlias = Literal["ng", "xn", "e1", "f1", "w1", "s1", "x2"]
TnlUsage: TypeAlias = Literal["ric-service", "support-function", "both"]
UpdateOutcome: TypeAlias = Literal["success", "failure"]
EnbIdKind: TypeAlias = Literal["macro", "home", "short-macro", "long-macro"]


# --- identities --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlmnId:
    """PLMN identity (``PLMN-Identity``, E2AP §9.2 "PLMN Identity"; 3GPP TS 38.413 §9.3.3.5).

    On the wire: 3 octets of BCD digits, ``MCC2|MCC1``, ``MNC3|MCC3``, ``MNC2|MNC1`` (high|low
    nibble), with ``MNC3 = F`` for a 2-digit MNC.

    Parameters
    ----------
    mcc : str
        Mobile country code, 3 decimal digits (``"001"``).
    mnc : str
        Mobile network code, 2 or 3 decimal digits (``"01"`` and ``"001"`` are different PLMNs).
    """

    mcc: str
    mnc: str

    def to_bytes(self) -> bytes:
        """Return the 3-octet BCD encoding; raise ``ValueError`` for non-digit or wrong-length codes."""
        if len(self.mcc) != 3 or not self.mcc.isdigit() or not self.mcc.isascii():
            raise ValueError(f"PLMN: MCC must be 3 decimal digits, got {self.mcc!r}")
        if len(self.mnc) not in (2, 3) or not self.mnc.isdigit() or not self.mnc.isascii():
            raise ValueError(f"PLMN: MNC must be 2 or 3 decimal digits, got {self.mnc!r}")
        c = [int(d) for d in self.mcc]
        n = [int(d) for d in self.mnc]
        mnc3 = n[2] if len(n) == 3 else 0xF
        return bytes(((c[1] << 4) | c[0], (mnc3 << 4) | c[2], (n[1] << 4) | n[0]))

    @classmethod
    def from_bytes(cls, data: bytes) -> PlmnId:
        """Parse the 3-octet BCD encoding; raise ``ValueError`` for a non-BCD nibble or a wrong length."""
        if len(data) != 3:
            raise ValueError(f"PLMN: expected 3 octets, got {len(data)}")
        nib = (data[0] & 0xF, data[0] >> 4, data[1] & 0xF, data[1] >> 4, data[2] & 0xF, data[2] >> 4)
        mcc1, mcc2, mcc3, mnc3, mnc1, mnc2 = nib
        if max(mcc1, mcc2, mcc3, mnc1, mnc2) > 9 or (mnc3 > 9 and mnc3 != 0xF):
            raise ValueError(f"PLMN: octets {data.hex()} are not BCD digits (TS 38.413 §9.3.3.5)")
        mnc = f"{mnc1}{mnc2}" if mnc3 == 0xF else f"{mnc1}{mnc2}{mnc3}"
        return cls(f"{mcc1}{mcc2}{mcc3}", mnc)


@dataclass(frozen=True)
class GlobalGnbId:
    """Global gNB identity (``GlobalgNB-ID``, and ``GlobalenGNB-ID`` for an en-gNB; E2AP §9.2).

    Parameters
    ----------
    plmn : PlmnId
        PLMN of the gNB.
    gnb_id : int
        gNB identifier, the value of the ``gNB-ID`` BIT STRING (right-aligned integer).
    gnb_id_bits : int
        Length of the ``gNB-ID`` BIT STRING, 22..32 bits (TS 38.413 §9.3.1.6).
    """

    plmn: PlmnId
    gnb_id: int
    gnb_id_bits: int = 22


@dataclass(frozen=True)
class GlobalEnbId:
    """Global eNB / ng-eNB identity (``GlobalENB-ID``, ``GlobalngeNB-ID``; E2AP §9.2).

    Parameters
    ----------
    plmn : PlmnId
        PLMN of the eNB.
    enb_id : int
        eNB identifier (right-aligned integer value of the BIT STRING).
    kind : {"macro", "home", "short-macro", "long-macro"}
        Which ``eNB-ID`` alternative: 20, 28, 18 or 21 bits. ``"home"`` exists for an eNB only,
        not for an ng-eNB.
    """

    plmn: PlmnId
    enb_id: int
    kind: EnbIdKind = "macro"


@dataclass(frozen=True)
class E2nodeGnb:
    """E2 node that is a gNB (``GlobalE2node-gNB-ID``, E2AP §9.2 "Global E2 Node ID").

    Parameters
    ----------
    global_gnb_id : GlobalGnbId
        The gNB identity.
    global_en_gnb_id : GlobalGnbId or None
        Optional en-gNB identity of the same node.
    gnb_cu_up_id : int or None
        ``gNB-CU-UP-ID`` (0..2**36-1) when the E2 node is a CU-UP.
    gnb_du_id : int or None
        ``gNB-DU-ID`` (0..2**36-1) when the E2 node is a DU.
    """

    global_gnb_id: GlobalGnbId
    global_en_gnb_id: GlobalGnbId | None = None
    gnb_cu_up_id: int | None = None
    gnb_du_id: int | None = None

    @classmethod
    def build(
        cls,
        mcc: str,
        mnc: str,
        gnb_id: int,
        gnb_id_bits: int = 22,
        *,
        cu_up_id: int | None = None,
        du_id: int | None = None,
    ) -> E2nodeGnb:
        """Shorthand: ``E2nodeGnb.build("001", "01", 411)``."""
        return cls(GlobalGnbId(PlmnId(mcc, mnc), gnb_id, gnb_id_bits), None, cu_up_id, du_id)


@dataclass(frozen=True)
class E2nodeEnGnb:
    """E2 node that is an en-gNB (``GlobalE2node-en-gNB-ID``).

    Parameters
    ----------
    global_en_gnb_id : GlobalGnbId
        The en-gNB identity.
    en_gnb_cu_up_id, en_gnb_du_id : int or None
        Optional CU-UP / DU identifiers.
    """

    global_en_gnb_id: GlobalGnbId
    en_gnb_cu_up_id: int | None = None
    en_gnb_du_id: int | None = None


@dataclass(frozen=True)
class E2nodeNgEnb:
    """E2 node that is an ng-eNB (``GlobalE2node-ng-eNB-ID``).

    Parameters
    ----------
    global_ng_enb_id : GlobalEnbId
        The ng-eNB identity (kind macro, short-macro or long-macro).
    global_enb_id : GlobalEnbId or None
        Optional eNB identity of the same node.
    ng_enb_du_id : int or None
        Optional ``NGENB-DU-ID``.
    """

    global_ng_enb_id: GlobalEnbId
    global_enb_id: GlobalEnbId | None = None
    ng_enb_du_id: int | None = None


@dataclass(frozen=True)
class E2nodeEnb:
    """E2 node that is an eNB (``GlobalE2node-eNB-ID``).

    Parameters
    ----------
    global_enb_id : GlobalEnbId
        The eNB identity.
    """

    global_enb_id: GlobalEnbId


GlobalE2nodeId: TypeAlias = E2nodeGnb | E2nodeEnGnb | E2nodeNgEnb | E2nodeEnb
"""``GlobalE2node-ID`` (E2AP §9.2 "Global E2 Node ID"): one of the four node kinds."""


@dataclass(frozen=True)
class GlobalRicId:
    """Global RIC identity (``GlobalRIC-ID``, E2AP §9.2 "Global RIC ID").

    Parameters
    ----------
    plmn : PlmnId
        PLMN of the near-RT RIC.
    ric_id : int
        Near-RT RIC identifier, a 20-bit BIT STRING value (0..2**20-1).
    """

    plmn: PlmnId
    ric_id: int


@dataclass(frozen=True)
class RicRequestId:
    """RIC request identity (``RICrequestID``, E2AP §9.2 "RIC Request ID").

    Parameters
    ----------
    requestor_id : int
        ``ricRequestorID`` (0..65535), chosen by the requesting xApp / subscription manager.
    instance_id : int
        ``ricInstanceID`` (0..65535).
    """

    requestor_id: int
    instance_id: int


# --- cause and diagnostics ---------------------------------------------------------------------
@dataclass(frozen=True)
class Cause:
    """Cause (``Cause`` CHOICE, E2AP §9.2 "Cause").

    Parameters
    ----------
    group : {"ricRequest", "ricService", "e2Node", "transport", "protocol", "misc"}
        The CHOICE alternative.
    value : str
        The ENUMERATED value of that group, e.g. ``"ran-function-id-invalid"`` (ricRequest),
        ``"ran-function-not-supported"`` (ricService), ``"unspecified"`` (misc).
    """

    group: CauseGroup
    value: str


@dataclass(frozen=True)
class CriticalityDiagnosticsItem:
    """One ``CriticalityDiagnostics-IE-Item``: which IE was not understood or missing.

    Parameters
    ----------
    ie_criticality : {"reject", "ignore", "notify"}
        Criticality of the offending IE.
    ie_id : int
        Its protocol IE id (0..65535).
    type_of_error : {"not-understood", "missing"}
        What went wrong.
    """

    ie_criticality: Criticality
    ie_id: int
    type_of_error: Literal["not-understood", "missing"]


@dataclass(frozen=True)
class CriticalityDiagnostics:
    """Criticality diagnostics (``CriticalityDiagnostics``, E2AP §9.2 "Criticality Diagnostics").

    Parameters
    ----------
    procedure_code : int or None
        Procedure code of the message the diagnostics refer to.
    triggering_message : {"initiating-message", "successful-outcome", "unsuccessfull-outcome"} or None
        Which message of that procedure (spelling as in the ASN.1, including "unsuccessfull").
    procedure_criticality : {"reject", "ignore", "notify"} or None
        Criticality of that procedure.
    request_id : RicRequestId or None
        The RIC request the diagnostics refer to.
    items : tuple of CriticalityDiagnosticsItem
        Per-IE diagnostics (empty = absent).
    """

    procedure_code: int | None = None
    triggering_message: Literal["initiating-message", "successful-outcome", "unsuccessfull-outcome"] | None = None
    procedure_criticality: Criticality | None = None
    request_id: RicRequestId | None = None
    items: tuple[CriticalityDiagnosticsItem, ...] = ()


# --- RAN functions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RanFunction:
    """A RAN function an E2 node offers (``RANfunction-Item``, E2AP §9.2 "RAN Function Definition").

    Parameters
    ----------
    ran_function_id : int
        ``RANfunctionID`` (0..4095).
    definition : bytes
        ``RANfunctionDefinition``: the E2SM's RAN function description, opaque at this layer.
    revision : int
        ``RANfunctionRevision`` (0..4095).
    oid : str
        ``RANfunctionOID``: the E2SM's object identifier as a printable string
        (KPM ``1.3.6.1.4.1.53148.1.2.2.2``, RC ``1.3.6.1.4.1.53148.1.1.2.3``).
    """

    ran_function_id: int
    definition: bytes
    revision: int
    oid: str


@dataclass(frozen=True)
class RanFunctionIdItem:
    """A RAN function reference (``RANfunctionID-Item``): accepted / deleted / queried functions.

    Parameters
    ----------
    ran_function_id : int
        ``RANfunctionID`` (0..4095).
    revision : int
        ``RANfunctionRevision`` (0..4095).
    """

    ran_function_id: int
    revision: int


@dataclass(frozen=True)
class RanFunctionIdCause:
    """A rejected RAN function (``RANfunctionIDcause-Item``).

    Parameters
    ----------
    ran_function_id : int
        ``RANfunctionID`` (0..4095).
    cause : Cause
        Why it was rejected (typically ricService / ran-function-not-supported).
    """

    ran_function_id: int
    cause: Cause


# --- subscription ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RicSubsequentAction:
    """``RICsubsequentAction`` (E2AP §9.2 "RIC Subsequent Action").

    Parameters
    ----------
    action_type : {"continue", "wait"}
        ``ricSubsequentActionType``.
    time_to_wait : str
        ``ricTimeToWait``, ``"w1ms"`` .. ``"w60s"``.
    """

    action_type: Literal["continue", "wait"]
    time_to_wait: RicTimeToWait


@dataclass(frozen=True)
class RicAction:
    """An action to set up (``RICaction-ToBeSetup-Item``, E2AP §9.2 "RIC Action ID/Type/Definition").

    Parameters
    ----------
    action_id : int
        ``RICactionID`` (0..255).
    action_type : {"report", "insert", "policy"}
        ``RICactionType``.
    definition : bytes or None
        ``RICactionDefinition``: E2SM action definition, opaque here.
    subsequent_action : RicSubsequentAction or None
        ``RICsubsequentAction`` (insert actions).
    execution_order : int or None
        ``RICactionExecutionOrder`` (0..255; E2AP v3 extension).
    """

    action_id: int
    action_type: RicActionType = "report"
    definition: bytes | None = None
    subsequent_action: RicSubsequentAction | None = None
    execution_order: int | None = None


@dataclass(frozen=True)
class RicActionNotAdmitted:
    """An action the E2 node refused (``RICaction-NotAdmitted-Item``).

    Parameters
    ----------
    action_id : int
        ``RICactionID`` (0..255).
    cause : Cause
        Why it was not admitted.
    """

    action_id: int
    cause: Cause


@dataclass(frozen=True)
class RicSubscriptionWithCause:
    """A subscription the E2 node wants deleted (``RICsubscription-withCause-Item``).

    Parameters
    ----------
    request_id : RicRequestId
        The subscription's RIC request id.
    ran_function_id : int
        Its RAN function id.
    cause : Cause
        Why it must be deleted.
    """

    request_id: RicRequestId
    ran_function_id: int
    cause: Cause


# --- E2 node components ------------------------------------------------------------------------
@dataclass(frozen=True)
class ComponentIdNG:
    """``E2nodeComponentInterfaceNG``: the component is identified by its AMF name (1..150 chars)."""

    amf_name: str


@dataclass(frozen=True)
class ComponentIdXn:
    """``E2nodeComponentInterfaceXn``: the peer NG-RAN node (gNB or ng-eNB)."""

    node: GlobalGnbId | GlobalEnbId


@dataclass(frozen=True)
class ComponentIdE1:
    """``E2nodeComponentInterfaceE1``: a ``gNB-CU-UP-ID`` (0..2**36-1)."""

    gnb_cu_up_id: int


@dataclass(frozen=True)
class ComponentIdF1:
    """``E2nodeComponentInterfaceF1``: a ``gNB-DU-ID`` (0..2**36-1)."""

    gnb_du_id: int


@dataclass(frozen=True)
class ComponentIdW1:
    """``E2nodeComponentInterfaceW1``: an ``NGENB-DU-ID`` (0..2**36-1)."""

    ng_enb_du_id: int


@dataclass(frozen=True)
class ComponentIdS1:
    """``E2nodeComponentInterfaceS1``: the component is identified by its MME name (1..150 chars)."""

    mme_name: str


@dataclass(frozen=True)
class ComponentIdX2:
    """``E2nodeComponentInterfaceX2``: the peer eNB and/or en-gNB (both optional)."""

    global_enb_id: GlobalEnbId | None = None
    global_en_gnb_id: GlobalGnbId | None = None


E2nodeComponentId: TypeAlias = (
    ComponentIdNG | ComponentIdXn | ComponentIdE1 | ComponentIdF1 | ComponentIdW1 | ComponentIdS1 | ComponentIdX2
)
"""``E2nodeComponentID`` (E2AP §9.2 "E2 Node Component ID")."""


@dataclass(frozen=True)
class E2nodeComponentConfig:
    """An E2 node component configuration (``E2nodeComponentConfigAddition-Item`` /
    ``E2nodeComponentConfigUpdate-Item``; E2AP §9.2 "E2 Node Component Configuration").

    Parameters
    ----------
    interface_type : {"ng", "xn", "e1", "f1", "w1", "s1", "x2"}
        ``E2nodeComponentInterfaceType``; normally matches ``component_id``'s kind.
    component_id : E2nodeComponentId
        Which component.
    request_part : bytes
        ``e2nodeComponentRequestPart``: the interface's setup request PDU (e.g. NGAP NG Setup), opaque.
    response_part : bytes
        ``e2nodeComponentResponsePart``: the matching response PDU, opaque.
    """

    interface_type: InterfaceType
    component_id: E2nodeComponentId
    request_part: bytes
    response_part: bytes


@dataclass(frozen=True)
class E2nodeComponentConfigAck:
    """Outcome for one component (``E2nodeComponentConfigAdditionAck-Item`` / ``...UpdateAck-Item`` /
    ``...RemovalAck-Item``; E2AP §9.2 "E2 Node Component Configuration Acknowledge").

    Parameters
    ----------
    interface_type : {"ng", "xn", "e1", "f1", "w1", "s1", "x2"}
        ``E2nodeComponentInterfaceType``.
    component_id : E2nodeComponentId
        Which component.
    outcome : {"success", "failure"}
        ``updateOutcome``.
    failure_cause : Cause or None
        ``failureCause`` (with a failure outcome).
    """

    interface_type: InterfaceType
    component_id: E2nodeComponentId
    outcome: UpdateOutcome = "success"
    failure_cause: Cause | None = None


@dataclass(frozen=True)
class E2nodeComponentRef:
    """A component to remove (``E2nodeComponentConfigRemoval-Item``): interface type and id."""

    interface_type: InterfaceType
    component_id: E2nodeComponentId


# --- transport network layer -------------------------------------------------------------------
@dataclass(frozen=True)
class TnlInformation:
    """Transport layer address and port (``TNLinformation``, E2AP §9.2 "TNL Information").

    Parameters
    ----------
    address : int
        ``tnlAddress`` BIT STRING value (right-aligned); an IPv4 address is 32 bits, IPv6 128.
    address_bits : int
        Its length in bits (1..160).
    port : int or None
        ``tnlPort`` (16-bit), optional.
    """

    address: int
    address_bits: int = 32
    port: int | None = None

    @classmethod
    def from_ip(cls, ip: str, port: int | None = None) -> TnlInformation:
        """Build from a dotted IPv4 or IPv6 text address (``TnlInformation.from_ip("10.0.2.10", 36422)``)."""
        import ipaddress

        addr = ipaddress.ip_address(ip)
        return cls(int(addr), addr.max_prefixlen, port)


@dataclass(frozen=True)
class E2connectionItem:
    """A TNL association and its usage (``E2connectionUpdate-Item``).

    Parameters
    ----------
    tnl : TnlInformation
        ``tnlInformation``.
    usage : {"ric-service", "support-function", "both"}
        ``tnlUsage``.
    """

    tnl: TnlInformation
    usage: TnlUsage = "both"


@dataclass(frozen=True)
class E2connectionFailedItem:
    """A TNL association the E2 node could not set up (``E2connectionSetupFailed-Item``)."""

    tnl: TnlInformation
    cause: Cause


@dataclass(frozen=True)
class TnlAssociationRemoval:
    """A TNL association to remove (``E2nodeTNLassociationRemoval-Item``): node side and RIC side."""

    tnl: TnlInformation
    tnl_ric: TnlInformation
