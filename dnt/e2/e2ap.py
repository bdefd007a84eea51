"""E2AP codec: typed messages (:mod:`dnt.e2.e2ap_types`) <-> aligned-PER bytes, via pycrate.

Spec: O-RAN.WG3.E2AP-v03.01, §9.3 (ASN.1, ``E2AP-PDU`` of module ``E2AP-PDU-Descriptions``), encoded
with ITU-T X.691 aligned PER. The pycrate module ``pycrate_asn1dir.E2AP`` holds E2AP v3.01; setup,
subscription, indication, control and delete are wire-identical to v2.0x (OSC e2term), see
``shared/reference/e2-codecs.md``. Procedures 14-17 (subscription modification, query, audit) are
valid v3 messages this codec does not model: decoding one raises :class:`~dnt.errors.DecodeError`.

Entry points: :func:`encode` (message -> bytes, raises :class:`~dnt.errors.EncodeError`) and
:func:`decode` (bytes -> message, raises :class:`~dnt.errors.DecodeError` and nothing else).
Helpers (from :mod:`dnt.e2.e2ap_setup`): :func:`ran_name` (the OSC e2term RAN name of an E2 node),
:func:`known_ran_functions` and :func:`e2_setup_response` (accept the RAN functions the RIC knows,
reject the others).

Criticality and presence of every IE are read from pycrate's ASN.1 object sets, so they follow the
specification. Decoding is strict where pycrate is lax: unknown procedure codes, bytes after the PDU,
missing mandatory IEs, duplicated IEs, unknown IEs of criticality ``reject`` and malformed items are
rejected; unknown IEs of criticality ``ignore``/``notify`` are skipped (E2AP §10).

Thread safety: pycrate's PDU object and its PER offset stack are process-wide singletons, so every
pycrate call runs under one module lock. For throughput use one worker process per core; the RIC
indication hot path has a pycrate-free codec in :mod:`dnt.e2.fastpath`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pycrate_asn1dir import E2AP
from pycrate_asn1rt.codecs import ASN1CodecPER
from pycrate_core.charpy import Charpy

from dnt.e2 import e2ap_asn as asn
from dnt.e2.e2ap_setup import e2_setup_response, known_ran_functions, ran_name
from dnt.e2.e2ap_types import (
    E2apMessage,
    E2connectionUpdate,
    E2connectionUpdateAcknowledge,
    E2connectionUpdateFailure,
    E2nodeConfigurationUpdate,
    E2nodeConfigurationUpdateAcknowledge,
    E2nodeConfigurationUpdateFailure,
    E2RemovalFailure,
    E2RemovalRequest,
    E2RemovalResponse,
    E2setupFailure,
    E2setupRequest,
    E2setupResponse,
    ErrorIndication,
    ResetRequest,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICcontrolRequest,
    RICindication,
    RICserviceQuery,
    RICserviceUpdate,
    RICserviceUpdateAcknowledge,
    RICserviceUpdateFailure,
    RICsubscriptionDeleteFailure,
    RICsubscriptionDeleteRequest,
    RICsubscriptionDeleteRequired,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
    WireInfo,
)
from dnt.errors import DecodeError, EncodeError

__all__ = [
    "PROCEDURE_NAMES",
    "decode",
    "e2_setup_response",
    "encode",
    "known_ran_functions",
    "ran_name",
]

logger = logging.getLogger(__name__)

_PDU = E2AP.E2AP_PDU_Descriptions.E2AP_PDU
_LOCK = threading.Lock()


INIT, SUCC, UNSUCC = "initiatingMessage", "successfulOutcome", "unsuccessfulOutcome"

PROCEDURE_NAMES: dict[int, str] = {
    1: "E2setup",
    2: "ErrorIndication",
    3: "Reset",
    4: "RICcontrol",
    5: "RICindication",
    6: "RICserviceQuery",
    7: "RICserviceUpdate",
    8: "RICsubscription",
    9: "RICsubscriptionDelete",
    10: "E2nodeConfigurationUpdate",
    11: "E2connectionUpdate",
    12: "RICsubscriptionDeleteRequired",
    13: "E2removal",
    14: "RICsubscriptionModification",
    15: "RICsubscriptionModificationRequired",
    16: "RICquery",
    17: "RICsubscriptionAudit",
}
"""E2AP elementary procedure codes (E2AP §9.3, ``E2AP-Constants``)."""

# procedure code -> procedure criticality, from E2AP-ELEMENTARY-PROCEDURES
_PROC_CRIT: dict[int, str] = {
    r["procedureCode"]: r["criticality"] for r in E2AP.E2AP_PDU_Descriptions.E2AP_ELEMENTARY_PROCEDURES._val.root
}

_Enc = Callable[[Any], Any]
_Dec = Callable[[Any], Any]


@dataclass(frozen=True)
class _IeSpec:
    ie_id: int
    fields: tuple[str, ...]  # message attributes this IE carries (IE 30 carries two)
    name: str  # open-type alternative = ASN.1 type name of the IE value
    criticality: str
    mandatory: bool
    enc: _Enc  # tuple of field values -> pycrate value
    dec: _Dec  # pycrate value -> tuple of field values


@dataclass(frozen=True)
class _MsgSpec:
    cls: type[E2apMessage]
    procedure: int
    kind: str
    ies: tuple[_IeSpec, ...]

    @property
    def by_id(self) -> dict[int, _IeSpec]:
        return {ie.ie_id: ie for ie in self.ies}


def _one(enc: _Enc, dec: _Dec) -> tuple[_Enc, _Dec]:
    """Adapt a one-field converter pair to the tuple-of-fields convention."""
    return (lambda vals: enc(vals[0])), (lambda v: (dec(v),))


def _ident(x: Any) -> Any:
    return x


_IE_CODECS: dict[int, tuple[_Enc, _Dec]] = {
    1: _one(asn.cause_enc, asn.cause_dec),
    2: _one(asn.crit_diag_enc, asn.crit_diag_dec),
    3: _one(asn.node_enc, asn.node_dec),
    4: _one(asn.ric_id_enc, asn.ric_id_dec),
    5: _one(_ident, _ident),  # RANfunctionID
    9: _one(*asn.RAN_FUNCTION_IDS),
    10: _one(*asn.RAN_FUNCTIONS),
    11: _one(*asn.RAN_FUNCTION_IDS),
    12: _one(*asn.RAN_FUNCTIONS),
    13: _one(*asn.RAN_FUNCTION_CAUSES),
    15: _one(_ident, _ident),  # RICactionID
    17: _one(*asn.ADMITTED),
    18: _one(*asn.NOT_ADMITTED),
    20: _one(_ident, _ident),  # RICcallProcessID
    21: _one(_ident, _ident),  # RICcontrolAckRequest
    22: _one(_ident, _ident),  # RICcontrolHeader
    23: _one(_ident, _ident),  # RICcontrolMessage
    25: _one(_ident, _ident),  # RICindicationHeader
    26: _one(_ident, _ident),  # RICindicationMessage
    27: _one(_ident, _ident),  # RICindicationSN
    28: _one(_ident, _ident),  # RICindicationType
    29: _one(asn.req_id_enc, asn.req_id_dec),
    30: (  # RICsubscriptionDetails -> (event_trigger, actions)
        lambda vals: {"ricEventTriggerDefinition": vals[0], "ricAction-ToBeSetup-List": asn.ACTIONS[0](vals[1])},
        lambda v: (v["ricEventTriggerDefinition"], asn.ACTIONS[1](v["ricAction-ToBeSetup-List"])),
    ),
    31: _one(_ident, _ident),  # TimeToWait
    32: _one(_ident, _ident),  # RICcontrolOutcome
    33: _one(*asn.CONFIG_UPDATES),
    35: _one(*asn.CONFIG_UPDATE_ACKS),
    39: _one(*asn.CONN_UPDATES),
    40: _one(*asn.CONN_FAILED),
    44: _one(*asn.CONN_UPDATES),
    45: _one(*asn.CONN_UPDATES),
    46: _one(*asn.CONN_REMOVALS),
    48: _one(asn.tnl_enc, asn.tnl_dec),
    49: _one(_ident, _ident),  # TransactionID
    50: _one(*asn.CONFIG_ADDITIONS),
    52: _one(*asn.CONFIG_ADDITION_ACKS),
    54: _one(*asn.CONFIG_REMOVALS),
    56: _one(*asn.CONFIG_REMOVAL_ACKS),
    58: _one(*asn.TNL_REMOVALS),
    60: _one(*asn.SUBS_WITH_CAUSE),
}


def _msg(cls: type[E2apMessage], procedure: int, kind: str, ie_set: str, *ies: tuple[int, str]) -> _MsgSpec:
    """Bind a message class to its IE set; ``ies`` are ``(ie_id, "field[,field]")`` in ASN.1 order."""
    table = asn.ie_table(ie_set)
    specs = []
    for ie_id, fields in ies:
        crit, name, presence = table[ie_id]
        enc, dec = _IE_CODECS[ie_id]
        specs.append(_IeSpec(ie_id, tuple(fields.split(",")), name, crit, presence == "mandatory", enc, dec))
    missing = set(table) - {s.ie_id for s in specs}
    if missing:  # a programming error in the table below, caught at import
        raise RuntimeError(f"{cls.__name__}: IEs {sorted(missing)} of {ie_set} not mapped")
    return _MsgSpec(cls, procedure, kind, tuple(specs))


_RID, _RF, _TX, _CAUSE, _CD, _TTW = (
    (29, "request_id"),
    (5, "ran_function_id"),
    (49, "transaction_id"),
    (1, "cause"),
    (2, "criticality_diagnostics"),
    (31, "time_to_wait"),
)
_SPECS: tuple[_MsgSpec, ...] = (
    _msg(RICsubscriptionRequest, 8, INIT, "RICsubscriptionRequest-IEs", _RID, _RF, (30, "event_trigger,actions")),
    _msg(
        RICsubscriptionResponse,
        8,
        SUCC,
        "RICsubscriptionResponse-IEs",
        _RID,
        _RF,
        (17, "admitted"),
        (18, "not_admitted"),
    ),
    _msg(RICsubscriptionFailure, 8, UNSUCC, "RICsubscriptionFailure-IEs", _RID, _RF, _CAUSE, _CD),
    _msg(RICsubscriptionDeleteRequest, 9, INIT, "RICsubscriptionDeleteRequest-IEs", _RID, _RF),
    _msg(RICsubscriptionDeleteResponse, 9, SUCC, "RICsubscriptionDeleteResponse-IEs", _RID, _RF),
    _msg(RICsubscriptionDeleteFailure, 9, UNSUCC, "RICsubscriptionDeleteFailure-IEs", _RID, _RF, _CAUSE, _CD),
    _msg(RICsubscriptionDeleteRequired, 12, INIT, "RICsubscriptionDeleteRequired-IEs", (60, "subscriptions")),
    _msg(
        RICindication,
        5,
        INIT,
        "RICindication-IEs",
        _RID,
        _RF,
        (15, "action_id"),
        (27, "sn"),
        (28, "indication_type"),
        (25, "header"),
        (26, "message"),
        (20, "call_process_id"),
    ),
    _msg(
        RICcontrolRequest,
        4,
        INIT,
        "RICcontrolRequest-IEs",
        _RID,
        _RF,
        (20, "call_process_id"),
        (22, "header"),
        (23, "message"),
        (21, "ack_request"),
    ),
    _msg(
        RICcontrolAcknowledge, 4, SUCC, "RICcontrolAcknowledge-IEs", _RID, _RF, (20, "call_process_id"), (32, "outcome")
    ),
    _msg(
        RICcontrolFailure,
        4,
        UNSUCC,
        "RICcontrolFailure-IEs",
        _RID,
        _RF,
        (20, "call_process_id"),
        _CAUSE,
        (32, "outcome"),
    ),
    _msg(ErrorIndication, 2, INIT, "ErrorIndication-IEs", _TX, _RID, _RF, _CAUSE, _CD),
    _msg(
        E2setupRequest,
        1,
        INIT,
        "E2setupRequestIEs",
        _TX,
        (3, "global_e2node_id"),
        (10, "ran_functions"),
        (50, "component_configs"),
    ),
    _msg(
        E2setupResponse,
        1,
        SUCC,
        "E2setupResponseIEs",
        _TX,
        (4, "global_ric_id"),
        (9, "accepted"),
        (13, "rejected"),
        (52, "component_config_acks"),
    ),
    _msg(E2setupFailure, 1, UNSUCC, "E2setupFailureIEs", _TX, _CAUSE, _TTW, _CD, (48, "tnl_information")),
    _msg(ResetRequest, 3, INIT, "ResetRequestIEs", _TX, _CAUSE),
    _msg(ResetResponse, 3, SUCC, "ResetResponseIEs", _TX, _CD),
    _msg(RICserviceUpdate, 7, INIT, "RICserviceUpdate-IEs", _TX, (10, "added"), (12, "modified"), (11, "deleted")),
    _msg(
        RICserviceUpdateAcknowledge, 7, SUCC, "RICserviceUpdateAcknowledge-IEs", _TX, (9, "accepted"), (13, "rejected")
    ),
    _msg(RICserviceUpdateFailure, 7, UNSUCC, "RICserviceUpdateFailure-IEs", _TX, _CAUSE, _TTW, _CD),
    _msg(RICserviceQuery, 6, INIT, "RICserviceQuery-IEs", _TX, (9, "accepted")),
    _msg(
        E2nodeConfigurationUpdate,
        10,
        INIT,
        "E2nodeConfigurationUpdate-IEs",
        _TX,
        (3, "global_e2node_id"),
        (50, "additions"),
        (33, "updates"),
        (54, "removals"),
        (58, "tnl_removals"),
    ),
    _msg(
        E2nodeConfigurationUpdateAcknowledge,
        10,
        SUCC,
        "E2nodeConfigurationUpdateAcknowledge-IEs",
        _TX,
        (52, "addition_acks"),
        (35, "update_acks"),
        (56, "removal_acks"),
    ),
    _msg(E2nodeConfigurationUpdateFailure, 10, UNSUCC, "E2nodeConfigurationUpdateFailure-IEs", _TX, _CAUSE, _TTW, _CD),
    _msg(E2connectionUpdate, 11, INIT, "E2connectionUpdate-IEs", _TX, (44, "add"), (46, "remove"), (45, "modify")),
    _msg(E2connectionUpdateAcknowledge, 11, SUCC, "E2connectionUpdateAck-IEs", _TX, (39, "setup"), (40, "failed")),
    _msg(E2connectionUpdateFailure, 11, UNSUCC, "E2connectionUpdateFailure-IEs", _TX, _CAUSE, _TTW, _CD),
    _msg(E2RemovalRequest, 13, INIT, "E2RemovalRequestIEs", _TX),
    _msg(E2RemovalResponse, 13, SUCC, "E2RemovalResponseIEs", _TX, _CD),
    _msg(E2RemovalFailure, 13, UNSUCC, "E2RemovalFailureIEs", _TX, _CAUSE, _CD),
)
_BY_CLASS: dict[type[E2apMessage], _MsgSpec] = {s.cls: s for s in _SPECS}
_BY_KEY: dict[tuple[str, int], _MsgSpec] = {(s.kind, s.procedure): s for s in _SPECS}
_IES_BY_ID: dict[type[E2apMessage], dict[int, _IeSpec]] = {s.cls: s.by_id for s in _SPECS}


# === value tree <-> typed message =================================================================
def _absent(value: Any) -> bool:
    return value is None or value == ()


def _to_val(msg: E2apMessage, spec: _MsgSpec) -> Any:
    ies = []
    for ie in spec.ies:
        vals = tuple(getattr(msg, f) for f in ie.fields)
        if all(_absent(v) for v in vals):
            if ie.mandatory:
                raise EncodeError(
                    f"{spec.cls.E2AP_NAME}: mandatory IE {ie.ie_id} ({ie.name}) is missing "
                    f"(field {'/'.join(ie.fields)} is empty)"
                )
            continue
        try:
            value = ie.enc(vals)
        except (ValueError, TypeError, AttributeError, KeyError) as err:
            raise EncodeError(f"{spec.cls.E2AP_NAME}: IE {ie.ie_id} ({ie.name}): {err}") from err
        ies.append({"id": ie.ie_id, "criticality": ie.criticality, "value": (ie.name, value)})
    body = {
        "procedureCode": spec.procedure,
        "criticality": _PROC_CRIT[spec.procedure],
        "value": (spec.cls.E2AP_NAME, {"protocolIEs": ies}),
    }
    return (spec.kind, body)


def _criticalities(node: Any, out: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """Every ``criticality`` field of a value tree, depth first, keyed by its IE id / procedure code."""
    if isinstance(node, dict):
        crit = node.get("criticality")
        if isinstance(crit, str):
            out.append((node["id"] if "id" in node else ("procedure", node.get("procedureCode")), crit))
        for key, child in node.items():
            if key != "criticality" and isinstance(child, (dict, list, tuple)):
                _criticalities(child, out)
    elif isinstance(node, (list, tuple)):
        for child in node:
            if isinstance(child, (dict, list, tuple)):
                _criticalities(child, out)
    return out


def _set_criticalities(node: Any, it: Iterator[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("criticality"), str):
            node["criticality"] = next(it)
        for key, child in node.items():
            if key != "criticality" and isinstance(child, (dict, list, tuple)):
                _set_criticalities(child, it)
    elif isinstance(node, (list, tuple)):
        for child in node:
            if isinstance(child, (dict, list, tuple)):
                _set_criticalities(child, it)


def encode(msg: E2apMessage) -> bytes:
    """Encode a typed E2AP message as an aligned-PER ``E2AP-PDU``.

    Parameters
    ----------
    msg : E2apMessage
        Any message class of :mod:`dnt.e2.e2ap_types`. IE criticalities are the specification's,
        or those in ``msg.wire`` when it came from :func:`decode` and has the same IE structure.

    Returns
    -------
    bytes
        The PDU, ready for SCTP (PPID 70) or an RMR payload.

    Raises
    ------
    EncodeError
        Not an E2AP message class, a mandatory IE missing, or a value outside its ASN.1 constraint
        (the message names the IE).
    """
    spec = _BY_CLASS.get(type(msg))
    if spec is None:
        raise EncodeError(f"cannot encode {type(msg).__name__}: not an E2AP message class of dnt.e2.e2ap_types")
    val = _to_val(msg, spec)
    if msg.wire is not None:
        n = len(_criticalities(val, []))
        if len(msg.wire.criticalities) == n:
            _set_criticalities(val, iter(msg.wire.criticalities))
    with _LOCK:
        depth = len(ASN1CodecPER._off)
        try:
            return bytes(_PDU.to_aper(val))
        except Exception as err:  # pycrate raises many types (ASN1ObjErr, ASN1PEREncodeErr, ValueError, ...)
            raise EncodeError(f"{spec.cls.E2AP_NAME}: value rejected by the E2AP ASN.1 constraints: {err}") from err
        finally:
            del ASN1CodecPER._off[depth:]


def decode(data: bytes | bytearray | memoryview) -> E2apMessage:
    """Decode an aligned-PER ``E2AP-PDU`` into its typed message.

    Parameters
    ----------
    data : bytes-like
        Exactly one PDU (an SCTP message or RMR payload).

    Returns
    -------
    E2apMessage
        An instance of one of the 30 message classes of :mod:`dnt.e2.e2ap_types`.

    Raises
    ------
    DecodeError
        For anything that is not one valid, supported PDU: truncated or malformed bytes, bytes after
        the PDU, an unknown or unsupported procedure code, a missing mandatory or duplicated IE, an
        unknown IE with criticality ``reject``, a malformed list item or a non-BCD PLMN. The message
        says which procedure and IE. No other exception escapes.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"E2AP decode expects bytes, got {type(data).__name__}")
    buf = bytes(data)
    if not buf:
        raise DecodeError("E2AP: empty input (no PDU)")
    with _LOCK:
        depth = len(ASN1CodecPER._off)
        try:
            char = Charpy(buf)
            _PDU.from_aper(char)
            left = char.len_bit()
            val = _PDU.get_val()
        except Exception as err:  # ASN1PERDecodeErr, CharpyErr, ASN1ObjErr, IndexError, ... on bad bytes
            raise DecodeError(_undecodable(buf, err)) from err
        finally:
            del ASN1CodecPER._off[depth:]
    if left >= 8:
        raise DecodeError(
            f"E2AP: {left // 8} trailing byte(s) after the PDU ({len(buf) - left // 8} bytes "
            f"decoded of {len(buf)}); pass exactly one PDU per call"
        )
    try:
        return _from_val(val)
    except DecodeError:
        raise
    except Exception as err:  # a value tree the converters did not expect
        raise DecodeError(f"E2AP: malformed PDU content: {err}") from err


def _undecodable(buf: bytes, err: Exception) -> str:
    """Say which message pycrate failed on (from the first two octets) and why."""
    what = f"{len(buf)}-byte PDU"
    if len(buf) >= 2 and not buf[0] & 0x80:
        kind = (INIT, SUCC, UNSUCC, "?")[(buf[0] >> 5) & 3]
        spec = _BY_KEY.get((kind, buf[1]))
        proc = spec.cls.E2AP_NAME if spec else PROCEDURE_NAMES.get(buf[1], f"unknown procedure {buf[1]}")
        what = f"{what} ({proc}, procedure {buf[1]}, {kind})"
    hint = "truncated or corrupted bytes, or not E2AP v2/v3 APER"
    if "invalid character" in str(err):
        hint = "a PrintableString IE holds characters outside its alphabet (X.680 §41.4): the sender is not conformant"
    return f"E2AP: cannot decode {what}: {hint}: {err}"


def _from_val(val: Any) -> E2apMessage:
    kind, body = val
    code = body["procedureCode"]
    spec = _BY_KEY.get((kind, code))
    if spec is None:
        if code in PROCEDURE_NAMES:
            raise DecodeError(
                f"E2AP: procedure {code} ({PROCEDURE_NAMES[code]}) {kind} is valid E2AP v3 but not "
                "supported by dnt.e2.e2ap"
            )
        raise DecodeError(
            f"E2AP: unknown procedure code {code} in {kind}: not an O-RAN E2AP message "
            "(a pre-standard or vendor draft?); reject it and answer with an ErrorIndication"
        )
    name = spec.cls.E2AP_NAME
    value_name, content = body["value"]
    if value_name != name:
        raise DecodeError(f"E2AP: procedure {code} {kind} carries {value_name!r}, expected {name}")
    ies = _IES_BY_ID[spec.cls]
    fields: dict[str, Any] = {}
    seen: set[int] = set()
    for ie in content["protocolIEs"]:
        ie_id, crit = ie["id"], ie["criticality"]
        ie_spec = ies.get(ie_id)
        if ie_spec is None:
            if crit == "reject":
                raise DecodeError(f"{name}: unknown IE {ie_id} with criticality reject (E2AP §10)")
            logger.debug("%s: skipping unknown IE %d (criticality %s)", name, ie_id, crit)
            continue
        if ie_id in seen:
            raise DecodeError(f"{name}: IE {ie_id} ({ie_spec.name}) appears twice")
        seen.add(ie_id)
        got_name, got = ie["value"]
        if got_name != ie_spec.name:
            raise DecodeError(f"{name}: IE {ie_id} holds {got_name!r}, expected {ie_spec.name}")
        try:
            values = ie_spec.dec(got)
        except Exception as err:
            raise DecodeError(f"{name}: IE {ie_id} ({ie_spec.name}) is malformed: {err}") from err
        fields.update(zip(ie_spec.fields, values, strict=True))
    for ie_spec in spec.ies:
        if ie_spec.mandatory and ie_spec.ie_id not in seen:
            raise DecodeError(f"{name}: mandatory IE {ie_spec.ie_id} ({ie_spec.name}) is missing")
    msg = spec.cls(**fields)
    # keep non-standard criticalities so that the message re-encodes byte-identically
    got_crits = _criticalities(val, [])
    if any(crit != _standard_criticality(spec, key) for key, crit in got_crits):
        std_crits = _criticalities(_to_val(msg, spec), [])
        if [k for k, _ in got_crits] == [k for k, _ in std_crits]:
            msg = replace(msg, wire=WireInfo(tuple(c for _, c in got_crits)))  # type: ignore[misc]
    return msg


def _standard_criticality(spec: _MsgSpec, key: Any) -> str | None:
    if isinstance(key, tuple):
        return _PROC_CRIT.get(key[1])
    ie = _IES_BY_ID[spec.cls].get(key)
    return ie.criticality if ie is not None else asn.ITEM_CRITICALITY.get(key)
