"""Converters between the typed E2AP IEs (:mod:`dnt.e2.e2ap_ies`) and pycrate's value trees.

Internal to :mod:`dnt.e2.e2ap`. pycrate represents an INTEGER as ``int``, an ENUMERATED as ``str``,
an OCTET STRING as ``bytes``, a BIT STRING as ``(value, length_in_bits)``, a SEQUENCE as a ``dict``
(absent optional components are missing keys), a CHOICE as ``(alternative, value)``, and a
``ProtocolIE-SingleContainer`` list item as ``{"id", "criticality", "value": (type_name, value)}``.

Encoders raise ``ValueError`` for values pycrate would silently mangle (a BIT STRING value wider than
its length, a non-BCD PLMN); decoders raise ``ValueError`` / ``KeyError`` on structures that do not
match; :mod:`dnt.e2.e2ap` turns both into ``EncodeError`` / ``DecodeError`` naming the IE.

Importing this module also fixes a pycrate 0.8.1 aligned-PER decoding bug for fragmented (>= 16384
octets) values, see :func:`_decode_fragbytes`.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

from pycrate_asn1dir import E2AP
from pycrate_asn1rt.codecs import ASN1CodecPER
from pycrate_asn1rt.err import ASN1PERDecodeErr

from dnt.e2.e2ap_ies import (
    Cause,
    ComponentIdE1,
    ComponentIdF1,
    ComponentIdNG,
    ComponentIdS1,
    ComponentIdW1,
    ComponentIdX2,
    ComponentIdXn,
    CriticalityDiagnostics,
    CriticalityDiagnosticsItem,
    E2connectionFailedItem,
    E2connectionItem,
    E2nodeComponentConfig,
    E2nodeComponentConfigAck,
    E2nodeComponentId,
    E2nodeComponentRef,
    E2nodeEnb,
    E2nodeEnGnb,
    E2nodeGnb,
    E2nodeNgEnb,
    GlobalE2nodeId,
    GlobalEnbId,
    GlobalGnbId,
    GlobalRicId,
    PlmnId,
    RanFunction,
    RanFunctionIdCause,
    RanFunctionIdItem,
    RicAction,
    RicActionNotAdmitted,
    RicRequestId,
    RicSubscriptionWithCause,
    RicSubsequentAction,
    TnlAssociationRemoval,
    TnlInformation,
)

Val = Any  # a pycrate value tree
Enc = Callable[[Any], Val]
Dec = Callable[[Val], Any]


def _decode_fragbytes(cla: Any, char: Any, ldet: int, bits: bool = False) -> tuple[bytes, int]:
    """pycrate 0.8.1's ``ASN1CodecPER.decode_fragbytes`` with its offset bug fixed.

    X.691 §11.9.3.8 fragments a length >= 16384 into 16K-unit blocks plus a remainder. pycrate 0.8.1
    advances its aligned-PER bit offset by the remainder's *octet* count instead of 8x that, so whatever
    follows a fragmented octet string or open type (an IE after a >= 16 KiB indication message) is read
    misaligned: wrong values or a decode error. The encoder is correct. Only the marked line differs.
    """
    chunks, total = [], 0
    while ldet in (65536, 49152, 32768, 16384):
        chunks.append(char.get_bytes(ldet if bits else 8 * ldet))
        if cla.ALIGNED:
            cla._off[-1] += ldet if bits else 8 * ldet
        ldet = cla.decode_count(char)
        total += ldet
        if total > cla.DEC_MAXL:
            raise ASN1PERDecodeErr(f"too much fragments, {total!r}")
    chunks.append(char.get_bytes(ldet if bits else 8 * ldet))
    if cla.ALIGNED:
        cla._off[-1] += ldet if bits else 8 * ldet  # the fix: pycrate 0.8.1 adds ldet for octets too
    total += ldet
    return b"".join(chunks), total


if importlib.metadata.version("pycrate") == "0.8.1":
    ASN1CodecPER.decode_fragbytes = classmethod(_decode_fragbytes)


def ie_table(set_name: str) -> dict[int, tuple[str, str, str]]:
    """``{ie_id: (criticality, open-type name, presence)}`` of a pycrate ``E2AP-PROTOCOL-IES`` set."""
    obj = getattr(E2AP.E2AP_PDU_Contents, set_name.replace("-", "_"))
    return {r["id"]: (r["criticality"], r["Value"]._tr._name, r["presence"]) for r in obj._val.root}


def _single(set_name: str) -> tuple[int, str, str]:
    ((ie_id, (crit, name, _)),) = ie_table(set_name).items()
    return ie_id, crit, name


# --- primitives --------------------------------------------------------------------------------
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def printable(s: str) -> str:
    """Check a decoded PrintableString against its alphabet (X.680 §41.4); pycrate checks only ASCII."""
    bad = set(s) - _PRINTABLE
    if bad:
        raise ValueError(f"PrintableString {s!r} holds characters outside its alphabet: {''.join(sorted(bad))!r}")
    return s


def bits(value: int, nbits: int) -> tuple[int, int]:
    """A BIT STRING ``(value, nbits)``; refuse values pycrate would truncate."""
    if not 0 <= value < (1 << nbits):
        raise ValueError(f"value {value} does not fit in a {nbits}-bit BIT STRING")
    return (value, nbits)


def unbits(v: Val, expected: int | None = None) -> tuple[int, int]:
    value, nbits = v
    if expected is not None and nbits != expected:
        raise ValueError(f"BIT STRING of {nbits} bits, expected {expected}")
    return int(value), int(nbits)


def plmn_enc(p: PlmnId) -> bytes:
    return p.to_bytes()


def plmn_dec(v: Val) -> PlmnId:
    return PlmnId.from_bytes(v)


def req_id_enc(r: RicRequestId) -> Val:
    return {"ricRequestorID": r.requestor_id, "ricInstanceID": r.instance_id}


def req_id_dec(v: Val) -> RicRequestId:
    return RicRequestId(v["ricRequestorID"], v["ricInstanceID"])


def cause_enc(c: Cause) -> Val:
    return (c.group, c.value)


def cause_dec(v: Val) -> Cause:
    group, value = v
    return Cause(group, value)


def crit_diag_enc(d: CriticalityDiagnostics) -> Val:
    out: dict[str, Val] = {}
    if d.procedure_code is not None:
        out["procedureCode"] = d.procedure_code
    if d.triggering_message is not None:
        out["triggeringMessage"] = d.triggering_message
    if d.procedure_criticality is not None:
        out["procedureCriticality"] = d.procedure_criticality
    if d.request_id is not None:
        out["ricRequestorID"] = req_id_enc(d.request_id)
    if d.items:
        out["iEsCriticalityDiagnostics"] = [
            {"iECriticality": i.ie_criticality, "iE-ID": i.ie_id, "typeOfError": i.type_of_error} for i in d.items
        ]
    return out


def crit_diag_dec(v: Val) -> CriticalityDiagnostics:
    rid = v.get("ricRequestorID")
    return CriticalityDiagnostics(
        procedure_code=v.get("procedureCode"),
        triggering_message=v.get("triggeringMessage"),
        procedure_criticality=v.get("procedureCriticality"),
        request_id=None if rid is None else req_id_dec(rid),
        items=tuple(
            CriticalityDiagnosticsItem(i["iECriticality"], i["iE-ID"], i["typeOfError"])
            for i in v.get("iEsCriticalityDiagnostics", ())
        ),
    )


# --- node identities ---------------------------------------------------------------------------
def gnb_enc(g: GlobalGnbId, *, en: bool = False) -> Val:
    """``GlobalgNB-ID`` (``en=False``) or ``GlobalenGNB-ID`` (``en=True``): same content, other names."""
    if en:
        return {"pLMN-Identity": plmn_enc(g.plmn), "gNB-ID": ("gNB-ID", bits(g.gnb_id, g.gnb_id_bits))}
    return {"plmn-id": plmn_enc(g.plmn), "gnb-id": ("gnb-ID", bits(g.gnb_id, g.gnb_id_bits))}


def gnb_dec(v: Val, *, en: bool = False) -> GlobalGnbId:
    plmn, choice = (v["pLMN-Identity"], v["gNB-ID"]) if en else (v["plmn-id"], v["gnb-id"])
    value, nbits = unbits(choice[1])
    return GlobalGnbId(plmn_dec(plmn), value, nbits)


# eNB-ID (GlobalENB-ID) and ENB-ID-Choice (GlobalngeNB-ID) alternatives: kind -> (name, bits)
_ENB_ALT = {
    "macro": ("macro-eNB-ID", 20),
    "home": ("home-eNB-ID", 28),
    "short-macro": ("short-Macro-eNB-ID", 18),
    "long-macro": ("long-Macro-eNB-ID", 21),
}
_NGENB_ALT = {
    "macro": ("enb-ID-macro", 20),
    "short-macro": ("enb-ID-shortmacro", 18),
    "long-macro": ("enb-ID-longmacro", 21),
}
_ENB_KIND = {name: kind for kind, (name, _) in _ENB_ALT.items()}
_NGENB_KIND = {name: kind for kind, (name, _) in _NGENB_ALT.items()}


def enb_enc(e: GlobalEnbId, *, ng: bool = False) -> Val:
    """``GlobalENB-ID`` (``ng=False``) or ``GlobalngeNB-ID`` (``ng=True``)."""
    table = _NGENB_ALT if ng else _ENB_ALT
    if e.kind not in table:
        raise ValueError(f"eNB id kind {e.kind!r} not allowed here (allowed: {sorted(table)})")
    alt, nbits = table[e.kind]
    if ng:
        return {"plmn-id": plmn_enc(e.plmn), "enb-id": (alt, bits(e.enb_id, nbits))}
    return {"pLMN-Identity": plmn_enc(e.plmn), "eNB-ID": (alt, bits(e.enb_id, nbits))}


def enb_dec(v: Val, *, ng: bool = False) -> GlobalEnbId:
    plmn, (alt, bs) = (v["plmn-id"], v["enb-id"]) if ng else (v["pLMN-Identity"], v["eNB-ID"])
    kind = (_NGENB_KIND if ng else _ENB_KIND)[alt]
    value, _ = unbits(bs, (_NGENB_ALT if ng else _ENB_ALT)[kind][1])
    return GlobalEnbId(plmn_dec(plmn), value, kind)  # type: ignore[arg-type]


def _put(out: dict[str, Val], key: str, value: Val) -> None:
    if value is not None:
        out[key] = value


def node_enc(n: GlobalE2nodeId) -> Val:
    """``GlobalE2node-ID`` CHOICE."""
    out: dict[str, Val]
    if isinstance(n, E2nodeGnb):
        out = {"global-gNB-ID": gnb_enc(n.global_gnb_id)}
        if n.global_en_gnb_id is not None:
            out["global-en-gNB-ID"] = gnb_enc(n.global_en_gnb_id, en=True)
        _put(out, "gNB-CU-UP-ID", n.gnb_cu_up_id)
        _put(out, "gNB-DU-ID", n.gnb_du_id)
        return ("gNB", out)
    if isinstance(n, E2nodeEnGnb):
        out = {"global-en-gNB-ID": gnb_enc(n.global_en_gnb_id, en=True)}
        _put(out, "en-gNB-CU-UP-ID", n.en_gnb_cu_up_id)
        _put(out, "en-gNB-DU-ID", n.en_gnb_du_id)
        return ("en-gNB", out)
    if isinstance(n, E2nodeNgEnb):
        out = {"global-ng-eNB-ID": enb_enc(n.global_ng_enb_id, ng=True)}
        if n.global_enb_id is not None:
            out["global-eNB-ID"] = enb_enc(n.global_enb_id)
        _put(out, "ngENB-DU-ID", n.ng_enb_du_id)
        return ("ng-eNB", out)
    if isinstance(n, E2nodeEnb):
        return ("eNB", {"global-eNB-ID": enb_enc(n.global_enb_id)})
    raise ValueError(f"not a GlobalE2node-ID: {type(n).__name__}")


def node_dec(v: Val) -> GlobalE2nodeId:
    alt, d = v
    if alt == "gNB":
        en = d.get("global-en-gNB-ID")
        return E2nodeGnb(
            gnb_dec(d["global-gNB-ID"]),
            None if en is None else gnb_dec(en, en=True),
            d.get("gNB-CU-UP-ID"),
            d.get("gNB-DU-ID"),
        )
    if alt == "en-gNB":
        return E2nodeEnGnb(gnb_dec(d["global-en-gNB-ID"], en=True), d.get("en-gNB-CU-UP-ID"), d.get("en-gNB-DU-ID"))
    if alt == "ng-eNB":
        enb = d.get("global-eNB-ID")
        return E2nodeNgEnb(
            enb_dec(d["global-ng-eNB-ID"], ng=True), None if enb is None else enb_dec(enb), d.get("ngENB-DU-ID")
        )
    if alt == "eNB":
        return E2nodeEnb(enb_dec(d["global-eNB-ID"]))
    raise ValueError(f"unknown GlobalE2node-ID alternative {alt!r}")


def ric_id_enc(r: GlobalRicId) -> Val:
    return {"pLMN-Identity": plmn_enc(r.plmn), "ric-ID": bits(r.ric_id, 20)}


def ric_id_dec(v: Val) -> GlobalRicId:
    return GlobalRicId(plmn_dec(v["pLMN-Identity"]), unbits(v["ric-ID"], 20)[0])


# --- E2 node components ------------------------------------------------------------------------
def component_id_enc(c: E2nodeComponentId) -> Val:
    """``E2nodeComponentID`` CHOICE."""
    if isinstance(c, ComponentIdNG):
        return ("e2nodeComponentInterfaceTypeNG", {"amf-name": c.amf_name})
    if isinstance(c, ComponentIdXn):
        node = c.node
        ran = ("gNB", gnb_enc(node)) if isinstance(node, GlobalGnbId) else ("ng-eNB", enb_enc(node, ng=True))
        return ("e2nodeComponentInterfaceTypeXn", {"global-NG-RAN-Node-ID": ran})
    if isinstance(c, ComponentIdE1):
        return ("e2nodeComponentInterfaceTypeE1", {"gNB-CU-UP-ID": c.gnb_cu_up_id})
    if isinstance(c, ComponentIdF1):
        return ("e2nodeComponentInterfaceTypeF1", {"gNB-DU-ID": c.gnb_du_id})
    if isinstance(c, ComponentIdW1):
        return ("e2nodeComponentInterfaceTypeW1", {"ng-eNB-DU-ID": c.ng_enb_du_id})
    if isinstance(c, ComponentIdS1):
        return ("e2nodeComponentInterfaceTypeS1", {"mme-name": c.mme_name})
    if isinstance(c, ComponentIdX2):
        out: dict[str, Val] = {}
        if c.global_enb_id is not None:
            out["global-eNB-ID"] = enb_enc(c.global_enb_id)
        if c.global_en_gnb_id is not None:
            out["global-en-gNB-ID"] = gnb_enc(c.global_en_gnb_id, en=True)
        return ("e2nodeComponentInterfaceTypeX2", out)
    raise ValueError(f"not an E2nodeComponentID: {type(c).__name__}")


def component_id_dec(v: Val) -> E2nodeComponentId:
    alt, d = v
    if alt == "e2nodeComponentInterfaceTypeNG":
        return ComponentIdNG(printable(d["amf-name"]))
    if alt == "e2nodeComponentInterfaceTypeXn":
        kind, node = d["global-NG-RAN-Node-ID"]
        if kind == "gNB":
            return ComponentIdXn(gnb_dec(node))
        if kind == "ng-eNB":
            return ComponentIdXn(enb_dec(node, ng=True))
        raise ValueError(f"unknown global-NG-RAN-Node-ID alternative {kind!r}")
    if alt == "e2nodeComponentInterfaceTypeE1":
        return ComponentIdE1(d["gNB-CU-UP-ID"])
    if alt == "e2nodeComponentInterfaceTypeF1":
        return ComponentIdF1(d["gNB-DU-ID"])
    if alt == "e2nodeComponentInterfaceTypeW1":
        return ComponentIdW1(d["ng-eNB-DU-ID"])
    if alt == "e2nodeComponentInterfaceTypeS1":
        return ComponentIdS1(printable(d["mme-name"]))
    if alt == "e2nodeComponentInterfaceTypeX2":
        enb, en = d.get("global-eNB-ID"), d.get("global-en-gNB-ID")
        return ComponentIdX2(None if enb is None else enb_dec(enb), None if en is None else gnb_dec(en, en=True))
    raise ValueError(f"unknown E2nodeComponentID alternative {alt!r}")


def component_config_enc(c: E2nodeComponentConfig) -> Val:
    return {
        "e2nodeComponentInterfaceType": c.interface_type,
        "e2nodeComponentID": component_id_enc(c.component_id),
        "e2nodeComponentConfiguration": {
            "e2nodeComponentRequestPart": c.request_part,
            "e2nodeComponentResponsePart": c.response_part,
        },
    }


def component_config_dec(v: Val) -> E2nodeComponentConfig:
    conf = v["e2nodeComponentConfiguration"]
    return E2nodeComponentConfig(
        v["e2nodeComponentInterfaceType"],
        component_id_dec(v["e2nodeComponentID"]),
        conf["e2nodeComponentRequestPart"],
        conf["e2nodeComponentResponsePart"],
    )


def component_ack_enc(a: E2nodeComponentConfigAck) -> Val:
    ack: dict[str, Val] = {"updateOutcome": a.outcome}
    if a.failure_cause is not None:
        ack["failureCause"] = cause_enc(a.failure_cause)
    return {
        "e2nodeComponentInterfaceType": a.interface_type,
        "e2nodeComponentID": component_id_enc(a.component_id),
        "e2nodeComponentConfigurationAck": ack,
    }


def component_ack_dec(v: Val) -> E2nodeComponentConfigAck:
    ack = v["e2nodeComponentConfigurationAck"]
    fc = ack.get("failureCause")
    return E2nodeComponentConfigAck(
        v["e2nodeComponentInterfaceType"],
        component_id_dec(v["e2nodeComponentID"]),
        ack["updateOutcome"],
        None if fc is None else cause_dec(fc),
    )


def component_ref_enc(r: E2nodeComponentRef) -> Val:
    return {"e2nodeComponentInterfaceType": r.interface_type, "e2nodeComponentID": component_id_enc(r.component_id)}


def component_ref_dec(v: Val) -> E2nodeComponentRef:
    return E2nodeComponentRef(v["e2nodeComponentInterfaceType"], component_id_dec(v["e2nodeComponentID"]))


# --- TNL ---------------------------------------------------------------------------------------
def tnl_enc(t: TnlInformation) -> Val:
    out: dict[str, Val] = {"tnlAddress": bits(t.address, t.address_bits)}
    if t.port is not None:
        out["tnlPort"] = bits(t.port, 16)
    return out


def tnl_dec(v: Val) -> TnlInformation:
    address, nbits = unbits(v["tnlAddress"])
    port = v.get("tnlPort")
    return TnlInformation(address, nbits, None if port is None else unbits(port, 16)[0])


def conn_item_enc(c: E2connectionItem) -> Val:
    return {"tnlInformation": tnl_enc(c.tnl), "tnlUsage": c.usage}


def conn_item_dec(v: Val) -> E2connectionItem:
    return E2connectionItem(tnl_dec(v["tnlInformation"]), v["tnlUsage"])


# --- RAN functions, actions, subscriptions -----------------------------------------------------
def ran_function_enc(f: RanFunction) -> Val:
    return {
        "ranFunctionID": f.ran_function_id,
        "ranFunctionDefinition": f.definition,
        "ranFunctionRevision": f.revision,
        "ranFunctionOID": f.oid,
    }


def ran_function_dec(v: Val) -> RanFunction:
    return RanFunction(
        v["ranFunctionID"], v["ranFunctionDefinition"], v["ranFunctionRevision"], printable(v["ranFunctionOID"])
    )


def action_enc(a: RicAction) -> Val:
    out: dict[str, Val] = {"ricActionID": a.action_id, "ricActionType": a.action_type}
    if a.definition is not None:
        out["ricActionDefinition"] = a.definition
    if a.subsequent_action is not None:
        out["ricSubsequentAction"] = {
            "ricSubsequentActionType": a.subsequent_action.action_type,
            "ricTimeToWait": a.subsequent_action.time_to_wait,
        }
    if a.execution_order is not None:
        out["ricActionExecutionOrder"] = a.execution_order
    return out


def action_dec(v: Val) -> RicAction:
    sub = v.get("ricSubsequentAction")
    return RicAction(
        v["ricActionID"],
        v["ricActionType"],
        v.get("ricActionDefinition"),
        None if sub is None else RicSubsequentAction(sub["ricSubsequentActionType"], sub["ricTimeToWait"]),
        v.get("ricActionExecutionOrder"),
    )


# --- list IEs: SEQUENCE OF ProtocolIE-SingleContainer ------------------------------------------
ITEM_CRITICALITY: dict[int, str] = {}
"""Criticality of every list-item IE id (item ids are distinct from message-level IE ids in E2AP)."""


def item_list(item_set: str, enc: Enc, dec: Dec) -> tuple[Enc, Dec]:
    """Encoder/decoder pair for a list whose items are single containers of the IE set ``item_set``."""
    ie_id, crit, name = _single(item_set)
    ITEM_CRITICALITY[ie_id] = crit

    def enc_list(items: tuple[Any, ...]) -> Val:
        return [{"id": ie_id, "criticality": crit, "value": (name, enc(i))} for i in items]

    def dec_list(v: Val) -> tuple[Any, ...]:
        out = []
        for n, item in enumerate(v):
            got_name, got = item["value"]
            if item["id"] != ie_id or got_name != name:
                raise ValueError(f"list item {n} is IE {item['id']} ({got_name}), expected IE {ie_id} ({name})")
            out.append(dec(got))
        return tuple(out)

    return enc_list, dec_list


ACTIONS = item_list("RICaction-ToBeSetup-ItemIEs", action_enc, action_dec)
ADMITTED = item_list("RICaction-Admitted-ItemIEs", lambda a: {"ricActionID": a}, lambda v: v["ricActionID"])
NOT_ADMITTED = item_list(
    "RICaction-NotAdmitted-ItemIEs",
    lambda a: {"ricActionID": a.action_id, "cause": cause_enc(a.cause)},
    lambda v: RicActionNotAdmitted(v["ricActionID"], cause_dec(v["cause"])),
)
SUBS_WITH_CAUSE = item_list(
    "RICsubscription-withCause-ItemIEs",
    lambda s: {
        "ricRequestID": req_id_enc(s.request_id),
        "ranFunctionID": s.ran_function_id,
        "cause": cause_enc(s.cause),
    },
    lambda v: RicSubscriptionWithCause(req_id_dec(v["ricRequestID"]), v["ranFunctionID"], cause_dec(v["cause"])),
)
RAN_FUNCTIONS = item_list("RANfunction-ItemIEs", ran_function_enc, ran_function_dec)
RAN_FUNCTION_IDS = item_list(
    "RANfunctionID-ItemIEs",
    lambda f: {"ranFunctionID": f.ran_function_id, "ranFunctionRevision": f.revision},
    lambda v: RanFunctionIdItem(v["ranFunctionID"], v["ranFunctionRevision"]),
)
RAN_FUNCTION_CAUSES = item_list(
    "RANfunctionIDcause-ItemIEs",
    lambda f: {"ranFunctionID": f.ran_function_id, "cause": cause_enc(f.cause)},
    lambda v: RanFunctionIdCause(v["ranFunctionID"], cause_dec(v["cause"])),
)
CONFIG_ADDITIONS = item_list("E2nodeComponentConfigAddition-ItemIEs", component_config_enc, component_config_dec)
CONFIG_UPDATES = item_list("E2nodeComponentConfigUpdate-ItemIEs", component_config_enc, component_config_dec)
CONFIG_REMOVALS = item_list("E2nodeComponentConfigRemoval-ItemIEs", component_ref_enc, component_ref_dec)
CONFIG_ADDITION_ACKS = item_list("E2nodeComponentConfigAdditionAck-ItemIEs", component_ack_enc, component_ack_dec)
CONFIG_UPDATE_ACKS = item_list("E2nodeComponentConfigUpdateAck-ItemIEs", component_ack_enc, component_ack_dec)
CONFIG_REMOVAL_ACKS = item_list("E2nodeComponentConfigRemovalAck-ItemIEs", component_ack_enc, component_ack_dec)
TNL_REMOVALS = item_list(
    "E2nodeTNLassociationRemoval-ItemIEs",
    lambda r: {"tnlInformation": tnl_enc(r.tnl), "tnlInformationRIC": tnl_enc(r.tnl_ric)},
    lambda v: TnlAssociationRemoval(tnl_dec(v["tnlInformation"]), tnl_dec(v["tnlInformationRIC"])),
)
CONN_UPDATES = item_list("E2connectionUpdate-ItemIEs", conn_item_enc, conn_item_dec)
CONN_REMOVALS = item_list(
    "E2connectionUpdateRemove-ItemIEs", lambda t: {"tnlInformation": tnl_enc(t)}, lambda v: tnl_dec(v["tnlInformation"])
)
CONN_FAILED = item_list(
    "E2connectionSetupFailed-ItemIEs",
    lambda f: {"tnlInformation": tnl_enc(f.tnl), "cause": cause_enc(f.cause)},
    lambda v: E2connectionFailedItem(tnl_dec(v["tnlInformation"]), cause_dec(v["cause"])),
)
