"""UE identifiers of the E2SM common IEs (``UEID``, O-RAN.WG3.E2SM v02.00+ §6.2.2.x) used by E2SM-RC.

Covered alternatives: ``gNB-UEID`` (``UEID-GNB``), ``gNB-DU-UEID`` (``UEID-GNB-DU``) and
``gNB-CU-UP-UEID`` (``UEID-GNB-CU-UP``). The LTE / ng-eNB alternatives decode to a ``DecodeError``
(outside the DNT-RIC subset). Converts between frozen dataclasses and asn1tools values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from dnt.e2.e2ap_ies import GlobalGnbId, PlmnId
from dnt.errors import DecodeError, EncodeError

__all__ = ["Guami", "UeId", "UeIdGnb", "UeIdGnbCuUp", "UeIdGnbDu", "ueid_from_asn", "ueid_to_asn"]


@dataclass(frozen=True)
class Guami:
    """``GUAMI`` (TS 38.413 §9.3.3.3): PLMN, AMF region (8 bits), AMF set (10 bits), AMF pointer (6 bits)."""

    plmn: PlmnId
    amf_region_id: int
    amf_set_id: int
    amf_pointer: int


@dataclass(frozen=True)
class UeIdGnb:
    """``UEID-GNB``: NGAP UE id + GUAMI, optional F1AP/E1AP id lists, RAN UE id, Xn id, global gNB id."""

    amf_ue_ngap_id: int
    guami: Guami
    cu_ue_f1ap_ids: tuple[int, ...] = ()
    cu_cp_ue_e1ap_ids: tuple[int, ...] = ()
    ran_ue_id: bytes | None = None
    m_ng_ran_ue_xnap_id: int | None = None
    global_gnb_id: GlobalGnbId | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cu_ue_f1ap_ids", tuple(self.cu_ue_f1ap_ids))
        object.__setattr__(self, "cu_cp_ue_e1ap_ids", tuple(self.cu_cp_ue_e1ap_ids))


@dataclass(frozen=True)
class UeIdGnbDu:
    """``UEID-GNB-DU``: gNB-CU UE F1AP id (0..2^32-1) and optional 8-octet RAN UE id."""

    cu_ue_f1ap_id: int
    ran_ue_id: bytes | None = None


@dataclass(frozen=True)
class UeIdGnbCuUp:
    """``UEID-GNB-CU-UP``: gNB-CU-CP UE E1AP id (0..2^32-1) and optional 8-octet RAN UE id."""

    cu_cp_ue_e1ap_id: int
    ran_ue_id: bytes | None = None


UeId: TypeAlias = UeIdGnb | UeIdGnbDu | UeIdGnbCuUp


def _bits(value: int, nbits: int, what: str) -> tuple[bytes, int]:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << nbits):
        raise EncodeError(f"UEID: {what} {value!r} is not a {nbits}-bit unsigned integer")
    shift = (8 - nbits % 8) % 8
    return (value << shift).to_bytes((nbits + 7) // 8, "big"), nbits


def _int(value: tuple[bytes, int]) -> int:
    data, nbits = value
    return int.from_bytes(data, "big") >> ((8 - nbits % 8) % 8)


def _plmn_to(plmn: PlmnId) -> bytes:
    try:
        return plmn.to_bytes()
    except (ValueError, AttributeError) as err:
        raise EncodeError(f"UEID: {err}") from err


def _plmn_from(data: bytes) -> PlmnId:
    try:
        return PlmnId.from_bytes(data)
    except ValueError as err:
        raise DecodeError(f"UEID: {err}") from err


def ueid_to_asn(ue: UeId) -> tuple[str, dict[str, Any]]:
    """Return the asn1tools value of ``UEID`` for ``ue``."""
    if isinstance(ue, UeIdGnbDu):
        body: dict[str, Any] = {"gNB-CU-UE-F1AP-ID": ue.cu_ue_f1ap_id}
        if ue.ran_ue_id is not None:
            body["ran-UEID"] = ue.ran_ue_id
        return "gNB-DU-UEID", body
    if isinstance(ue, UeIdGnbCuUp):
        body = {"gNB-CU-CP-UE-E1AP-ID": ue.cu_cp_ue_e1ap_id}
        if ue.ran_ue_id is not None:
            body["ran-UEID"] = ue.ran_ue_id
        return "gNB-CU-UP-UEID", body
    if isinstance(ue, UeIdGnb):
        g = ue.guami
        body = {
            "amf-UE-NGAP-ID": ue.amf_ue_ngap_id,
            "guami": {
                "pLMNIdentity": _plmn_to(g.plmn),
                "aMFRegionID": _bits(g.amf_region_id, 8, "AMF region id"),
                "aMFSetID": _bits(g.amf_set_id, 10, "AMF set id"),
                "aMFPointer": _bits(g.amf_pointer, 6, "AMF pointer"),
            },
        }
        if ue.cu_ue_f1ap_ids:
            body["gNB-CU-UE-F1AP-ID-List"] = [{"gNB-CU-UE-F1AP-ID": i} for i in ue.cu_ue_f1ap_ids]
        if ue.cu_cp_ue_e1ap_ids:
            body["gNB-CU-CP-UE-E1AP-ID-List"] = [{"gNB-CU-CP-UE-E1AP-ID": i} for i in ue.cu_cp_ue_e1ap_ids]
        if ue.ran_ue_id is not None:
            body["ran-UEID"] = ue.ran_ue_id
        if ue.m_ng_ran_ue_xnap_id is not None:
            body["m-NG-RAN-UE-XnAP-ID"] = ue.m_ng_ran_ue_xnap_id
        if ue.global_gnb_id is not None:
            gg = ue.global_gnb_id
            if not 22 <= gg.gnb_id_bits <= 32:
                raise EncodeError(f"UEID: gNB id length {gg.gnb_id_bits} outside 22..32 bits")
            body["globalGNB-ID"] = {
                "pLMNIdentity": _plmn_to(gg.plmn),
                "gNB-ID": ("gNB-ID", _bits(gg.gnb_id, gg.gnb_id_bits, "gNB id")),
            }
        return "gNB-UEID", body
    raise EncodeError(f"UEID: {type(ue).__name__} is not one of UeIdGnb, UeIdGnbDu, UeIdGnbCuUp")


def ueid_from_asn(value: tuple[str, Any]) -> UeId:
    """Build the dataclass for an asn1tools ``UEID`` value; other alternatives raise ``DecodeError``."""
    kind, body = value
    if kind == "gNB-DU-UEID":
        return UeIdGnbDu(body["gNB-CU-UE-F1AP-ID"], body.get("ran-UEID"))
    if kind == "gNB-CU-UP-UEID":
        return UeIdGnbCuUp(body["gNB-CU-CP-UE-E1AP-ID"], body.get("ran-UEID"))
    if kind == "gNB-UEID":
        g = body["guami"]
        guami = Guami(_plmn_from(g["pLMNIdentity"]), _int(g["aMFRegionID"]), _int(g["aMFSetID"]), _int(g["aMFPointer"]))
        gg = body.get("globalGNB-ID")
        global_id = None
        if gg is not None:
            gkind, gbits = gg["gNB-ID"]
            if gkind != "gNB-ID":  # an unknown extension alternative
                raise DecodeError(f"UEID: GNB-ID alternative {gkind} is outside the DNT-RIC RC subset")
            global_id = GlobalGnbId(_plmn_from(gg["pLMNIdentity"]), _int(gbits), gbits[1])
        return UeIdGnb(
            amf_ue_ngap_id=body["amf-UE-NGAP-ID"],
            guami=guami,
            cu_ue_f1ap_ids=tuple(i["gNB-CU-UE-F1AP-ID"] for i in body.get("gNB-CU-UE-F1AP-ID-List", ())),
            cu_cp_ue_e1ap_ids=tuple(i["gNB-CU-CP-UE-E1AP-ID"] for i in body.get("gNB-CU-CP-UE-E1AP-ID-List", ())),
            ran_ue_id=body.get("ran-UEID"),
            m_ng_ran_ue_xnap_id=body.get("m-NG-RAN-UE-XnAP-ID"),
            global_gnb_id=global_id,
        )
    raise DecodeError(f"UEID alternative {kind} is outside the DNT-RIC RC subset (gNB, gNB-DU, gNB-CU-UP only)")
