"""E2SM-KPM v03.00 subset codec: RAN function definition, event trigger, action definition, indication.

Spec: O-RAN.WG3.E2SM-KPM-v03.00 ("KPM"), clause numbers per IE below; ASN.1 subset in
``schemas/e2sm/e2sm-kpm-v03.00-subset.asn``, aligned PER (X.691). RAN function OID
``1.3.6.1.4.1.53148.1.2.2.2``, short name ``ORAN-E2SM-KPM`` (usually RAN function id 2).

Codec convention: ``encode_<ie>(msg) -> bytes``, ``decode_<ie>(data) -> msg``; messages are frozen
dataclasses; bad bytes raise :class:`~dnt.errors.DecodeError`, invalid values
:class:`~dnt.errors.EncodeError`. Measurements are addressed by name (3GPP TS 28.552 names such as
``DRB.UEThpDl``, ``RRU.PrbUsedDl``, ``RRU.PrbAvailDl``) with the single label ``noLabel``; measID and
other labels are outside the subset and decode to a ``DecodeError`` that says so.

The indication message (format 1, one per cell report) is encoded and decoded by hand-written APER
(:mod:`dnt.e2.kpm_fast`), checked byte-identical to asn1tools; use :class:`KpmIndicationEncoder` for a
subscription's reports (its constant tail is encoded once).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from dnt.e2 import e2sm_asn, kpm_fast
from dnt.e2.e2ap_ies import PlmnId
from dnt.e2.kpm_types import (
    KPM_OID,
    KPM_SHORT_NAME,
    NTP_UNIX_OFFSET_S,
    KpmActionDefinition,
    KpmEventTrigger,
    KpmEventTriggerStyle,
    KpmIndicationHeader,
    KpmIndicationMessage,
    KpmRanFunctionDefinition,
    KpmReportStyle,
    MeasValue,
    NrCgi,
    default_kpm_ran_function_definition,
)
from dnt.errors import DecodeError, EncodeError

__all__ = [
    "KPM_OID",
    "KPM_SHORT_NAME",
    "MeasValue",
    "NTP_UNIX_OFFSET_S",
    "KpmActionDefinition",
    "KpmEventTrigger",
    "KpmEventTriggerStyle",
    "KpmIndicationEncoder",
    "KpmIndicationHeader",
    "KpmIndicationMessage",
    "KpmRanFunctionDefinition",
    "KpmReportStyle",
    "NrCgi",
    "PlmnId",
    "decode_action_definition",
    "decode_event_trigger",
    "decode_indication_header",
    "decode_indication_message",
    "decode_ran_function_definition",
    "default_kpm_ran_function_definition",
    "encode_action_definition",
    "encode_event_trigger",
    "encode_indication_header",
    "encode_indication_message",
    "encode_ran_function_definition",
]


_NO_LABEL = ({"measLabel": {"noLabel": "true"}},)


# --- NR CGI and labels ----------------------------------------------------------------------------
def _bits_from_int(value: int, nbits: int, what: str) -> tuple[bytes, int]:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << nbits):
        raise EncodeError(f"{what}: {value!r} is not a {nbits}-bit unsigned integer")
    shift = (8 - nbits % 8) % 8
    return (value << shift).to_bytes((nbits + 7) // 8, "big"), nbits


def _int_from_bits(value: tuple[bytes, int]) -> int:
    data, nbits = value
    return int.from_bytes(data, "big") >> ((8 - nbits % 8) % 8)


def _plmn_bytes(plmn: PlmnId) -> bytes:
    try:
        return plmn.to_bytes()
    except (ValueError, AttributeError) as err:
        raise EncodeError(f"PLMN identity: {err}") from err


def _plmn(data: bytes) -> PlmnId:
    try:
        return PlmnId.from_bytes(data)
    except ValueError as err:
        raise DecodeError(str(err)) from err


def _cgi_value(cell: NrCgi) -> tuple[str, dict[str, Any]]:
    return (
        "nR-CGI",
        {"pLMNIdentity": _plmn_bytes(cell.plmn), "nRCellIdentity": _bits_from_int(cell.nr_cell_id, 36, "NR cell id")},
    )


def _cgi_from(value: tuple[str, dict[str, Any]]) -> NrCgi:
    kind, body = value
    if kind != "nR-CGI":  # eUTRA-CGI, or an unknown extension (None)
        raise DecodeError(f"KPM cellGlobalID: {kind} is outside the DNT-RIC KPM subset (NR CGI only)")
    return NrCgi(_plmn(body["pLMNIdentity"]), _int_from_bits(body["nRCellIdentity"]))


def _info_list(names: Sequence[str]) -> list[dict[str, Any]]:
    return [{"measType": ("measName", name), "labelInfoList": list(_NO_LABEL)} for name in names]


def _names_from(items: list[dict[str, Any]], where: str) -> tuple[str, ...]:
    names = []
    for item in items:
        kind, name = item["measType"]
        if kind != "measName":
            raise DecodeError(f"KPM {where}: measType {kind} is outside the DNT-RIC KPM subset (measName only)")
        labels = item["labelInfoList"]
        if any(label.get("measLabel") != {"noLabel": "true"} for label in labels):
            raise DecodeError(f"KPM {where}: measurement {name!r} has labels other than noLabel (outside the subset)")
        names.append(name)
    return tuple(names)


def _format1(value: Any, field: str, where: str) -> Any:
    kind, body = value[field]
    if not isinstance(kind, str) or not kind.endswith("Format1"):
        raise DecodeError(f"KPM {where}: {kind or 'an unknown extension format'} is outside the DNT-RIC KPM subset")
    return body


# --- RAN function definition (§9.2.2) --------------------------------------------------------------
def encode_ran_function_definition(msg: KpmRanFunctionDefinition) -> bytes:
    """Encode ``E2SM-KPM-RANfunction-Description``."""
    name: dict[str, Any] = {
        "ranFunction-ShortName": msg.short_name,
        "ranFunction-E2SM-OID": msg.oid,
        "ranFunction-Description": msg.description,
    }
    if msg.instance is not None:
        name["ranFunction-Instance"] = msg.instance
    value: dict[str, Any] = {"ranFunction-Name": name}
    if msg.event_trigger_styles:
        value["ric-EventTriggerStyle-List"] = [
            {
                "ric-EventTriggerStyle-Type": s.style_type,
                "ric-EventTriggerStyle-Name": s.name,
                "ric-EventTriggerFormat-Type": s.format_type,
            }
            for s in msg.event_trigger_styles
        ]
    if msg.report_styles:
        styles = []
        for s in msg.report_styles:
            if s.meas_ids and len(s.meas_ids) != len(s.meas_names):
                raise EncodeError(
                    f"KPM report style {s.style_type}: {len(s.meas_ids)} ids for {len(s.meas_names)} names"
                )
            actions = []
            for i, meas in enumerate(s.meas_names):
                item: dict[str, Any] = {"measName": meas}
                if s.meas_ids and s.meas_ids[i] is not None:
                    item["measID"] = s.meas_ids[i]
                actions.append(item)
            styles.append(
                {
                    "ric-ReportStyle-Type": s.style_type,
                    "ric-ReportStyle-Name": s.name,
                    "ric-ActionFormat-Type": s.action_format_type,
                    "measInfo-Action-List": actions,
                    "ric-IndicationHeaderFormat-Type": s.indication_header_format_type,
                    "ric-IndicationMessageFormat-Type": s.indication_message_format_type,
                }
            )
        value["ric-ReportStyle-List"] = styles
    return e2sm_asn.encode("kpm", "E2SM-KPM-RANfunction-Description", value)


def decode_ran_function_definition(data: bytes) -> KpmRanFunctionDefinition:
    """Decode ``E2SM-KPM-RANfunction-Description``."""
    value = e2sm_asn.decode("kpm", "E2SM-KPM-RANfunction-Description", data)
    name = value["ranFunction-Name"]
    triggers = tuple(
        KpmEventTriggerStyle(
            s["ric-EventTriggerStyle-Type"], s["ric-EventTriggerStyle-Name"], s["ric-EventTriggerFormat-Type"]
        )
        for s in value.get("ric-EventTriggerStyle-List", ())
    )
    reports = []
    for s in value.get("ric-ReportStyle-List", ()):
        actions = s["measInfo-Action-List"]
        ids = tuple(a.get("measID") for a in actions)
        reports.append(
            KpmReportStyle(
                style_type=s["ric-ReportStyle-Type"],
                name=s["ric-ReportStyle-Name"],
                meas_names=tuple(a["measName"] for a in actions),
                meas_ids=ids if any(i is not None for i in ids) else (),
                action_format_type=s["ric-ActionFormat-Type"],
                indication_header_format_type=s["ric-IndicationHeaderFormat-Type"],
                indication_message_format_type=s["ric-IndicationMessageFormat-Type"],
            )
        )
    return KpmRanFunctionDefinition(
        short_name=name["ranFunction-ShortName"],
        oid=name["ranFunction-E2SM-OID"],
        description=name["ranFunction-Description"],
        instance=name.get("ranFunction-Instance"),
        event_trigger_styles=triggers,
        report_styles=tuple(reports),
    )


# --- event trigger (§9.2.1.1) and action definition (§9.2.1.2) ------------------------------------
def encode_event_trigger(msg: KpmEventTrigger) -> bytes:
    """Encode ``E2SM-KPM-EventTriggerDefinition`` format 1 (``reportingPeriod`` in ms)."""
    value = {"eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": msg.period_ms})}
    return e2sm_asn.encode("kpm", "E2SM-KPM-EventTriggerDefinition", value)


def decode_event_trigger(data: bytes) -> KpmEventTrigger:
    """Decode ``E2SM-KPM-EventTriggerDefinition`` format 1."""
    value = e2sm_asn.decode("kpm", "E2SM-KPM-EventTriggerDefinition", data)
    return KpmEventTrigger(_format1(value, "eventDefinition-formats", "event trigger")["reportingPeriod"])


def encode_action_definition(msg: KpmActionDefinition) -> bytes:
    """Encode ``E2SM-KPM-ActionDefinition`` format 1."""
    body: dict[str, Any] = {"measInfoList": _info_list(msg.meas_names), "granulPeriod": msg.granul_period_ms}
    if msg.cell is not None:
        body["cellGlobalID"] = _cgi_value(msg.cell)
    value = {"ric-Style-Type": msg.style_type, "actionDefinition-formats": ("actionDefinition-Format1", body)}
    return e2sm_asn.encode("kpm", "E2SM-KPM-ActionDefinition", value)


def decode_action_definition(data: bytes) -> KpmActionDefinition:
    """Decode ``E2SM-KPM-ActionDefinition`` format 1 (other formats raise ``DecodeError``)."""
    value = e2sm_asn.decode("kpm", "E2SM-KPM-ActionDefinition", data)
    body = _format1(value, "actionDefinition-formats", "action definition")
    cell = _cgi_from(body["cellGlobalID"]) if "cellGlobalID" in body else None
    return KpmActionDefinition(
        _names_from(body["measInfoList"], "action definition"), body["granulPeriod"], cell, value["ric-Style-Type"]
    )


# --- indication header (§9.2.1.3) ----------------------------------------------------------------------
_HEADER_FIELDS = (
    ("fileFormatversion", "file_format_version"),
    ("senderName", "sender_name"),
    ("senderType", "sender_type"),
    ("vendorName", "vendor_name"),
)


def encode_indication_header(msg: KpmIndicationHeader) -> bytes:
    """Encode ``E2SM-KPM-IndicationHeader`` format 1 (8-octet ``colletStartTime``)."""
    body: dict[str, Any] = {"colletStartTime": msg.collet_start_time}
    for asn_name, attr in _HEADER_FIELDS:
        if getattr(msg, attr) is not None:
            body[asn_name] = getattr(msg, attr)
    return e2sm_asn.encode(
        "kpm", "E2SM-KPM-IndicationHeader", {"indicationHeader-formats": ("indicationHeader-Format1", body)}
    )


def decode_indication_header(data: bytes) -> KpmIndicationHeader:
    """Decode ``E2SM-KPM-IndicationHeader`` format 1.

    KPM v2.0x headers (4-octet TimeStamp, plus ``kpmNodeID``) do not decode: they raise ``DecodeError``.
    """
    try:
        value = e2sm_asn.decode("kpm", "E2SM-KPM-IndicationHeader", data)
    except DecodeError as err:
        raise DecodeError(f"{err} (a KPM v03.00 header has an 8-octet TimeStamp; KPM v2.0x is not decoded)") from err
    body = _format1(value, "indicationHeader-formats", "indication header")
    return KpmIndicationHeader(body["colletStartTime"], *(body.get(asn_name) for asn_name, _ in _HEADER_FIELDS))


# --- indication message (§9.2.1.4) -----------------------------------------------------------------
class KpmIndicationEncoder:
    """Fast encoder of ``E2SM-KPM-IndicationMessage`` format 1 for one subscription.

    The ``measInfoList`` and ``granulPeriod`` tail is encoded once (by asn1tools); each call writes only
    ``measData``. ``encode([v1, v2, ...])`` sends one record; ``encode_records`` several.
    """

    __slots__ = ("meas_names", "granul_period_ms", "_tail")

    def __init__(self, meas_names: Sequence[str] = (), granul_period_ms: int | None = None) -> None:
        self.meas_names = tuple(meas_names)
        self.granul_period_ms = granul_period_ms
        self._tail = _tail(self.meas_names, granul_period_ms)

    def encode(self, values: Sequence[MeasValue]) -> bytes:
        """Encode one record (one value per measurement)."""
        if self.meas_names and len(values) != len(self.meas_names):
            raise EncodeError(f"KPM indication message: {len(values)} values for {len(self.meas_names)} measurements")
        return kpm_fast.encode_format1((values,), (), self._tail)

    def encode_records(self, records: Sequence[Sequence[MeasValue]], incomplete: Sequence[bool] = ()) -> bytes:
        """Encode several records (one per granularity period)."""
        width = len(self.meas_names)
        if width and any(len(r) != width for r in records):
            raise EncodeError(f"KPM indication message: every record needs {width} values")
        return kpm_fast.encode_format1(records, incomplete, self._tail)


@functools.lru_cache(maxsize=256)
def _tail(meas_names: tuple[str, ...], granul_period_ms: int | None) -> kpm_fast.Tail:
    if granul_period_ms is not None and (
        isinstance(granul_period_ms, bool)
        or not isinstance(granul_period_ms, int)
        or not 1 <= granul_period_ms <= 0xFFFFFFFF
    ):
        raise EncodeError(f"KPM granulPeriod: {granul_period_ms!r} outside 1..4294967295")
    if not meas_names:
        return kpm_fast.make_tail(None, False, granul_period_ms)
    reference = _encode_message_asn1tools(((None,),), meas_names, granul_period_ms, ())
    return kpm_fast.make_tail(reference, True, granul_period_ms)


def _encode_message_asn1tools(
    records: Sequence[Sequence[MeasValue]], names: Sequence[str], granul: int | None, incomplete: Sequence[bool]
) -> bytes:
    data = []
    for i, record in enumerate(records):
        items = [
            ("noValue", None) if v is None else ("real", v) if isinstance(v, float) else ("integer", v) for v in record
        ]
        item: dict[str, Any] = {"measRecord": items}
        if incomplete and incomplete[i]:
            item["incompleteFlag"] = "true"
        data.append(item)
    body: dict[str, Any] = {"measData": data}
    if names:
        body["measInfoList"] = _info_list(names)
    if granul is not None:
        body["granulPeriod"] = granul
    value = {"indicationMessage-formats": ("indicationMessage-Format1", body)}
    return e2sm_asn.encode("kpm", "E2SM-KPM-IndicationMessage", value)


def encode_indication_message(msg: KpmIndicationMessage) -> bytes:
    """Encode ``E2SM-KPM-IndicationMessage`` format 1 (hand-written APER, tail cached per subscription)."""
    width = len(msg.meas_names)
    if width and any(len(r) != width for r in msg.records):
        raise EncodeError(f"KPM indication message: every record needs {width} values ({width} meas_names)")
    return kpm_fast.encode_format1(msg.records, msg.incomplete, _tail(msg.meas_names, msg.granul_period_ms))


def decode_indication_message(data: bytes) -> KpmIndicationMessage:
    """Decode ``E2SM-KPM-IndicationMessage`` format 1 (fast path, asn1tools for anything unusual)."""
    if isinstance(data, bytes | bytearray | memoryview):
        fast = kpm_fast.decode_format1(bytes(data))
        if fast is not None:
            records, flags, names, granul = fast
            return KpmIndicationMessage(records, names or (), granul, flags)
    return _decode_message_asn1tools(data)


def _decode_message_asn1tools(data: bytes) -> KpmIndicationMessage:
    try:
        value = e2sm_asn.decode("kpm", "E2SM-KPM-IndicationMessage", data)
    except DecodeError as err:
        raise DecodeError(f"{err} (KPM v03.00 layout; KPM v2.0x indication messages are not decoded)") from err
    body = _format1(value, "indicationMessage-formats", "indication message")
    records = []
    flags = []
    for item in body["measData"]:
        record = []
        for kind, v in item["measRecord"]:
            if kind == "integer":
                record.append(v)
            elif kind == "real":
                record.append(float(v))
            elif kind == "noValue":
                record.append(None)
            else:  # an extension alternative (e.g. KPM v4 notSatisfied)
                raise DecodeError(f"KPM measRecord item {kind} is outside the DNT-RIC KPM subset")
        records.append(tuple(record))
        flags.append("incompleteFlag" in item)
    names = _names_from(body["measInfoList"], "indication message") if "measInfoList" in body else ()
    return KpmIndicationMessage(tuple(records), names, body.get("granulPeriod"), tuple(flags))
