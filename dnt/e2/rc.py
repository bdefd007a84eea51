"""E2SM-RC v01.03 subset codec: RAN function definition, control header/message, slice PRB quota.

Spec: O-RAN.WG3.E2SM-RC-v01.03 ("RC"; the covered messages are byte-identical in v05.00), clause numbers
per IE below; ASN.1 subset in ``schemas/e2sm/e2sm-rc-v01.03-subset.asn``, aligned PER via asn1tools.
RAN function OID ``1.3.6.1.4.1.53148.1.1.2.3``, short name ``ORAN-E2SM-RC``; the RAN function id varies
by node (3 is common): read it from E2 Setup.

Codec convention: ``encode_<ie>(msg) -> bytes``, ``decode_<ie>(data) -> msg``; frozen dataclasses; bad
bytes raise :class:`~dnt.errors.DecodeError`, invalid values :class:`~dnt.errors.EncodeError`.

RAN parameters (RC §8.4) form a tree: a :class:`RanParameter` holds a :class:`RanElement` (a value,
``ranP-Choice-ElementTrue`` when ``key_flag`` else ``ElementFalse``), a :class:`RanStructure` (a
sequence of parameters) or a :class:`RanList` (a list of structures). Control style 2 action 6,
"Slice-level PRB quota" (RC §8.4.3.6, parameters after TS 28.541 RRMPolicyRatio), has the builders
:func:`rc_control_style2_action6` (alias :func:`control_slice_prb_quota`) and
:func:`parse_slice_prb_quota`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dnt.e2 import e2sm_asn
from dnt.e2.e2ap_ies import GlobalGnbId, PlmnId
from dnt.e2.rc_params import (
    SLICE_PRB_QUOTA_PARAMS,
    BitString,
    RanElement,
    RanList,
    RanParameter,
    RanStructure,
    RanValue,
    SliceParam,
    param_from_asn,
    param_to_asn,
)
from dnt.e2.rc_ranfunc import (
    RC_OID,
    RC_SHORT_NAME,
    RcControlAction,
    RcControlStyle,
    RcRanFunctionDefinition,
    decode_ran_function_definition,
    default_rc_ran_function_definition,
    encode_ran_function_definition,
)
from dnt.e2.rc_ueid import Guami, UeId, UeIdGnb, UeIdGnbCuUp, UeIdGnbDu, ueid_from_asn, ueid_to_asn
from dnt.errors import DecodeError, EncodeError

__all__ = [
    "RC_OID",
    "RC_SHORT_NAME",
    "SLICE_PRB_QUOTA_PARAMS",
    "BitString",
    "GlobalGnbId",
    "Guami",
    "PlmnId",
    "RanElement",
    "RanList",
    "RanParameter",
    "RanStructure",
    "RanValue",
    "RcControlAction",
    "RcControlHeader",
    "RcControlMessage",
    "RcControlStyle",
    "RcRanFunctionDefinition",
    "SlicePrbQuota",
    "SliceParam",
    "UeId",
    "UeIdGnb",
    "UeIdGnbCuUp",
    "UeIdGnbDu",
    "control_slice_prb_quota",
    "decode_control_header",
    "decode_control_message",
    "decode_ran_function_definition",
    "default_rc_ran_function_definition",
    "encode_control_header",
    "encode_control_message",
    "encode_ran_function_definition",
    "parse_slice_prb_quota",
    "rc_control_style2_action6",
    "slice_prb_quota_message",
]


# --- control header (§9.2.1.6) and message (§9.2.1.7) ------------------------------------------------
@dataclass(frozen=True)
class RcControlHeader:
    """``E2SM-RC-ControlHeader`` format 1 (RC §9.2.1.6.1).

    Parameters
    ----------
    ue_id : UeIdGnb | UeIdGnbDu | UeIdGnbCuUp
        ``ueID`` (E2SM common UEID). srsRAN sends ``gNB-DU-UEID`` with F1AP id 0 for slice controls.
    style_type : int
        ``ric-Style-Type`` (2 = radio resource allocation control, 3 = connected-mode mobility).
    action_id : int
        ``ric-ControlAction-ID`` (1..65535; 6 = slice-level PRB quota under style 2).
    decision : {"accept", "reject"} or None
        ``ric-ControlDecision`` (optional).
    """

    ue_id: UeId
    style_type: int
    action_id: int
    decision: Literal["accept", "reject"] | None = None


@dataclass(frozen=True)
class RcControlMessage:
    """``E2SM-RC-ControlMessage`` format 1 (RC §9.2.1.7.1): the ``ranP-List`` (0..65535 parameters)."""

    params: tuple[RanParameter, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))

    def get(self, param_id: int) -> RanParameter | None:
        """The first top-level parameter with ``param_id``, or None."""
        return next((p for p in self.params if p.param_id == param_id), None)


def encode_control_header(msg: RcControlHeader) -> bytes:
    """Encode ``E2SM-RC-ControlHeader`` format 1."""
    if isinstance(msg.action_id, bool) or not isinstance(msg.action_id, int) or not 1 <= msg.action_id <= 65535:
        raise EncodeError(f"RIC-ControlAction-ID must be an integer in 1..65535, got {msg.action_id!r}")
    body: dict[str, Any] = {
        "ueID": ueid_to_asn(msg.ue_id),
        "ric-Style-Type": msg.style_type,
        "ric-ControlAction-ID": msg.action_id,
    }
    if msg.decision is not None:
        body["ric-ControlDecision"] = msg.decision
    return e2sm_asn.encode(
        "rc", "E2SM-RC-ControlHeader", {"ric-controlHeader-formats": ("controlHeader-Format1", body)}
    )


def decode_control_header(data: bytes) -> RcControlHeader:
    """Decode ``E2SM-RC-ControlHeader`` format 1 (other formats and UEID kinds raise ``DecodeError``)."""
    value = e2sm_asn.decode("rc", "E2SM-RC-ControlHeader", data)
    kind, body = value["ric-controlHeader-formats"]
    if kind != "controlHeader-Format1":
        raise DecodeError(f"E2SM-RC control header {kind} is outside the DNT-RIC RC subset (format 1 only)")
    return RcControlHeader(
        ueid_from_asn(body["ueID"]),
        body["ric-Style-Type"],
        body["ric-ControlAction-ID"],
        body.get("ric-ControlDecision"),
    )


def encode_control_message(msg: RcControlMessage) -> bytes:
    """Encode ``E2SM-RC-ControlMessage`` format 1 (recursive RAN parameters)."""
    try:
        body = {"ranP-List": [param_to_asn(p) for p in msg.params]}
    except RecursionError as err:
        raise EncodeError("E2SM-RC control message: RAN parameter tree nested too deeply") from err
    return e2sm_asn.encode(
        "rc", "E2SM-RC-ControlMessage", {"ric-controlMessage-formats": ("controlMessage-Format1", body)}
    )


def decode_control_message(data: bytes) -> RcControlMessage:
    """Decode ``E2SM-RC-ControlMessage`` format 1 into the RAN parameter tree."""
    value = e2sm_asn.decode("rc", "E2SM-RC-ControlMessage", data)
    kind, body = value["ric-controlMessage-formats"]
    if kind != "controlMessage-Format1":
        raise DecodeError(f"E2SM-RC control message {kind} is outside the DNT-RIC RC subset (format 1 only)")
    try:
        return RcControlMessage(tuple(param_from_asn(p) for p in body["ranP-List"]))
    except RecursionError as err:
        raise DecodeError("E2SM-RC control message: RAN parameter tree nested too deeply") from err


# --- control style 2, action 6: slice-level PRB quota (§8.4.3.6) ----------------------------------------
@dataclass(frozen=True, kw_only=True)
class SlicePrbQuota:
    """One slice's PRB quota (RRMPolicyRatio, TS 28.541 §4.3.36): ratios in percent of the cell's PRBs.

    Parameters
    ----------
    plmn : PlmnId
        PLMN of the slice (RRM Policy Member → PLMN Identity).
    sst : int
        Slice/service type, 0..255.
    sd : int or None
        Slice differentiator, 24 bits, or None.
    min_prb_ratio, max_prb_ratio, dedicated_prb_ratio : int
        0..100. Defaults (0, 100, 0) are TS 28.541's and are used for ratios absent on the wire.
    """

    plmn: PlmnId
    sst: int
    sd: int | None = None
    min_prb_ratio: int = 0
    max_prb_ratio: int = 100
    dedicated_prb_ratio: int = 0


def _check_range(value: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise EncodeError(f"slice PRB quota: {what} must be an integer in {lo}..{hi}, got {value!r}")
    return value


def _leaf(param_id: int, value: RanValue) -> RanParameter:
    return RanParameter(param_id, RanElement(value))


def slice_prb_quota_message(quotas: Sequence[SlicePrbQuota]) -> RcControlMessage:
    """Control message format 1 for style 2 action 6: one RRM Policy Ratio Group per quota."""
    if not quotas:
        raise EncodeError("slice PRB quota: at least one SlicePrbQuota is needed")
    groups = []
    for q in quotas:
        snssai = [_leaf(SliceParam.SST, bytes((_check_range(q.sst, 0, 255, "sst"),)))]
        if q.sd is not None:
            snssai.append(_leaf(SliceParam.SD, _check_range(q.sd, 0, 0xFFFFFF, "sd").to_bytes(3, "big")))
        if not isinstance(q.plmn, PlmnId):
            raise EncodeError(f"slice PRB quota: plmn must be a PlmnId, got {type(q.plmn).__name__}")
        member = RanStructure(
            (
                RanParameter(
                    SliceParam.RRM_POLICY_MEMBER,
                    RanStructure(
                        (
                            _leaf(SliceParam.PLMN_IDENTITY, _plmn_octets(q.plmn)),
                            RanParameter(SliceParam.S_NSSAI, RanStructure(tuple(snssai))),
                        )
                    ),
                ),
            )
        )
        policy = RanStructure((RanParameter(SliceParam.RRM_POLICY_MEMBER_LIST, RanList((member,))),))
        groups.append(
            RanStructure(
                (
                    RanParameter(
                        SliceParam.RRM_POLICY_RATIO_GROUP,
                        RanStructure(
                            (
                                RanParameter(SliceParam.RRM_POLICY, policy),
                                _leaf(
                                    SliceParam.MIN_PRB_POLICY_RATIO,
                                    _check_range(q.min_prb_ratio, 0, 100, "min_prb_ratio"),
                                ),
                                _leaf(
                                    SliceParam.MAX_PRB_POLICY_RATIO,
                                    _check_range(q.max_prb_ratio, 0, 100, "max_prb_ratio"),
                                ),
                                _leaf(
                                    SliceParam.DEDICATED_PRB_POLICY_RATIO,
                                    _check_range(q.dedicated_prb_ratio, 0, 100, "dedicated_prb_ratio"),
                                ),
                            )
                        ),
                    ),
                )
            )
        )
    return RcControlMessage((RanParameter(SliceParam.RRM_POLICY_RATIO_LIST, RanList(tuple(groups))),))


def _plmn_octets(plmn: PlmnId) -> bytes:
    try:
        return plmn.to_bytes()
    except ValueError as err:
        raise EncodeError(f"slice PRB quota: {err}") from err


def rc_control_style2_action6(quotas: Sequence[SlicePrbQuota], *, ue_id: UeId | None = None) -> tuple[bytes, bytes]:
    """RC control style 2 action 6 (slice-level PRB quota): return ``(header octets, message octets)``.

    The header's UEID defaults to ``gNB-DU-UEID`` with F1AP id 0, as srsRAN's RIC test sends it; the
    octets go into the E2AP RICcontrolRequest ``RICcontrolHeader`` / ``RICcontrolMessage`` IEs.
    """
    header = RcControlHeader(UeIdGnbDu(0) if ue_id is None else ue_id, style_type=2, action_id=6)
    return encode_control_header(header), encode_control_message(slice_prb_quota_message(quotas))


control_slice_prb_quota = rc_control_style2_action6
"""Friendly alias of :func:`rc_control_style2_action6`."""


def _element(param: RanParameter | None, what: str) -> RanValue | None:
    if param is None:
        return None
    if not isinstance(param.value, RanElement):
        raise DecodeError(f"slice PRB quota: {what} (id {param.param_id}) is not an element")
    return param.value.value


def _structure(param: RanParameter | None, what: str) -> RanStructure:
    if param is None or not isinstance(param.value, RanStructure):
        raise DecodeError(f"slice PRB quota: {what} missing or not a structure")
    return param.value


def _list(param: RanParameter | None, what: str) -> RanList:
    if param is None or not isinstance(param.value, RanList):
        raise DecodeError(f"slice PRB quota: {what} missing or not a list")
    return param.value


def _ratio(group: RanStructure, param_id: int, default: int, what: str) -> int:
    value = _element(group.get(param_id), what)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise DecodeError(f"slice PRB quota: {what} must be an integer 0..100, got {value!r}")
    return value


def _octets_int(value: RanValue | None, size: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bytes) and len(value) == size:
        return int.from_bytes(value, "big")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << (8 * size):
        return value
    raise DecodeError(f"slice PRB quota: {what} must be {size} octet(s), got {value!r}")


def parse_slice_prb_quota(message: RcControlMessage | bytes) -> list[SlicePrbQuota]:
    """Read the slice PRB quotas of a style 2 action 6 control message (one per RRM policy member).

    Raises ``DecodeError`` when the tree does not have the RC §8.4.3.6 shape. Absent ratios take the
    TS 28.541 defaults (min 0, max 100, dedicated 0).
    """
    msg = message if isinstance(message, RcControlMessage) else decode_control_message(message)
    quotas: list[SlicePrbQuota] = []
    for entry in _list(msg.get(SliceParam.RRM_POLICY_RATIO_LIST), "RRM Policy Ratio List (1)").items:
        group = _structure(entry.get(SliceParam.RRM_POLICY_RATIO_GROUP), "RRM Policy Ratio Group (2)")
        ratios = (
            _ratio(group, SliceParam.MIN_PRB_POLICY_RATIO, 0, "Min PRB Policy Ratio (11)"),
            _ratio(group, SliceParam.MAX_PRB_POLICY_RATIO, 100, "Max PRB Policy Ratio (12)"),
            _ratio(group, SliceParam.DEDICATED_PRB_POLICY_RATIO, 0, "Dedicated PRB Policy Ratio (13)"),
        )
        policy = _structure(group.get(SliceParam.RRM_POLICY), "RRM Policy (3)")
        members = _list(policy.get(SliceParam.RRM_POLICY_MEMBER_LIST), "RRM Policy Member List (5)")
        for item in members.items:
            member = _structure(item.get(SliceParam.RRM_POLICY_MEMBER), "RRM Policy Member (6)")
            plmn_raw = _element(member.get(SliceParam.PLMN_IDENTITY), "PLMN Identity (7)")
            if not isinstance(plmn_raw, bytes):
                raise DecodeError(f"slice PRB quota: PLMN Identity (7) must be 3 octets, got {plmn_raw!r}")
            try:
                plmn = PlmnId.from_bytes(plmn_raw)
            except ValueError as err:
                raise DecodeError(f"slice PRB quota: {err}") from err
            snssai = _structure(member.get(SliceParam.S_NSSAI), "S-NSSAI (8)")
            sst = _octets_int(_element(snssai.get(SliceParam.SST), "SST (9)"), 1, "SST (9)")
            if sst is None:
                raise DecodeError("slice PRB quota: S-NSSAI (8) has no SST (9)")
            sd = _octets_int(_element(snssai.get(SliceParam.SD), "SD (10)"), 3, "SD (10)")
            quotas.append(
                SlicePrbQuota(
                    plmn=plmn,
                    sst=sst,
                    sd=sd,
                    min_prb_ratio=ratios[0],
                    max_prb_ratio=ratios[1],
                    dedicated_prb_ratio=ratios[2],
                )
            )
    return quotas
