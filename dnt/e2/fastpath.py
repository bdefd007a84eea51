"""Hand-written aligned-PER template codec for RIC INDICATION, the E2 hot path.

A RIC INDICATION (E2AP §9.1.1, procedure 5) is a fixed sequence of small IEs plus three octet
strings, so its APER encoding (ITU-T X.691) is a byte template (hex octets)::

    00 05 40                   E2AP-PDU CHOICE initiatingMessage, procedureCode 5, criticality ignore
    L                          open-type length of the RICindication value (X.691 §11.9.3.6: one
                               octet < 128; two octets 10xxxxxx xxxxxxxx < 16384)
    00 00 n                    SEQUENCE extension bit + padding; protocolIEs count (16-bit)
    00 1d 00 05 00 RRRR IIII   IE 29 RICrequestID (extension octet, requestor, instance)
    00 05 00 02 FFFF           IE 5 RANfunctionID (0..4095: two octets)
    00 0f 00 01 AA             IE 15 RICactionID
    00 1b 00 02 SSSS           IE 27 RICindicationSN (optional)
    00 1c 00 01 TT             IE 28 RICindicationType (00 report, 40 insert)
    00 19 00 L1 l H...         IE 25 RICindicationHeader: open-type length, octet-string length, octets
    00 1a 00 L2 l M...         IE 26 RICindicationMessage
    00 14 00 L3 l C...         IE 20 RICcallProcessID (optional)

Every IE has criticality ``reject`` (``00``). The encoder is byte-identical to the pycrate path of
:mod:`dnt.e2.e2ap` (checked on random inputs by ``tests/unit/e2/test_fastpath.py``); it hands
anything outside the template (lengths of 16384 octets or more, which need X.691 fragmentation, or a
message carrying non-standard criticalities) to that path. The decoder accepts exactly the template
and gives every other input to :func:`dnt.e2.e2ap.decode`, so it never accepts what the generic decoder
would reject and raises nothing but :class:`~dnt.errors.DecodeError`.

Entry points: :func:`encode_indication` / :func:`decode_indication` for RIC INDICATION, and
:func:`encode` / :func:`decode`, drop-in replacements for :func:`dnt.e2.e2ap.encode` /
:func:`dnt.e2.e2ap.decode` that take the template path for indications. All are thread-safe (the
template path holds no shared state; the fallback takes :mod:`dnt.e2.e2ap`'s lock).
"""

from __future__ import annotations

import struct

from dnt.e2 import e2ap
from dnt.e2.aper_template import length as _length
from dnt.e2.aper_template import octets_ie as _octets_ie
from dnt.e2.aper_template import read_length as _read_length
from dnt.e2.aper_template import read_octets_ie as _read_octets_ie
from dnt.e2.e2ap_ies import RicIndicationType, RicRequestId
from dnt.e2.e2ap_types import E2apMessage, RICcontrolRequest, RICindication
from dnt.e2.fastpath_control import encode_control_request, try_decode_control_request
from dnt.errors import DecodeError, EncodeError

__all__ = ["MAX_TEMPLATE_LENGTH", "decode", "decode_indication", "encode", "encode_indication", "try_decode_indication"]

MAX_TEMPLATE_LENGTH = 16383
"""Largest length the template writes (two-octet length determinant); longer goes to pycrate."""

_PDU_HEAD = b"\x00\x05\x40"
_U16 = struct.Struct(">H")
_HEAD = struct.Struct(">3x HH 4x H 4x B")  # IE 29 value after its ext octet, IE 5, IE 15 (prefixes are constant)
_IE29 = b"\x00\x1d\x00\x05\x00"
_IE5 = b"\x00\x05\x00\x02"
_IE15 = b"\x00\x0f\x00\x01"
_IE27 = b"\x00\x1b\x00\x02"
_IE28 = {"report": b"\x00\x1c\x00\x01\x00", "insert": b"\x00\x1c\x00\x01\x40"}
_IE25, _IE26, _IE20 = b"\x00\x19\x00", b"\x00\x1a\x00", b"\x00\x14\x00"
_TYPE_BY_OCTET: dict[int, RicIndicationType] = {0x00: "report", 0x40: "insert"}


def encode_indication(msg: RICindication) -> bytes:
    """Encode a RIC INDICATION with the template (falls back to pycrate outside it).

    Parameters
    ----------
    msg : RICindication
        The indication; header and message are the already-encoded E2SM octets.

    Returns
    -------
    bytes
        The ``E2AP-PDU``, byte-identical to :func:`dnt.e2.e2ap.encode`.

    Raises
    ------
    EncodeError
        A value outside its ASN.1 range (request ids and SN 0..65535, RAN function id 0..4095,
        action id 0..255, indication type report/insert) or a field of the wrong type.
    """
    if type(msg) is not RICindication:
        raise EncodeError(f"encode_indication expects a RICindication, got {type(msg).__name__}")
    if msg.wire is not None:
        return e2ap.encode(msg)
    rid, header, message, cpid, sn = msg.request_id, msg.header, msg.message, msg.call_process_id, msg.sn
    try:
        if not (
            0 <= rid.requestor_id <= 0xFFFF
            and 0 <= rid.instance_id <= 0xFFFF
            and 0 <= msg.ran_function_id <= 4095
            and 0 <= msg.action_id <= 255
            and (sn is None or 0 <= sn <= 0xFFFF)
        ):
            raise EncodeError(
                f"RICindication: value out of range (request id {rid}, RAN function "
                f"{msg.ran_function_id}, action {msg.action_id}, SN {sn})"
            )
        ie28 = _IE28.get(msg.indication_type)
        if ie28 is None:
            raise EncodeError(f"RICindication: indication type {msg.indication_type!r} is not report/insert")
        if not (isinstance(header, bytes) and isinstance(message, bytes) and (cpid is None or isinstance(cpid, bytes))):
            raise EncodeError("RICindication: header, message and call process id must be bytes")
        # 2-octet length form for the octets, plus 2 for the IE's open type: stay under 16384 everywhere
        big = len(header) + len(message) + (len(cpid) if cpid is not None else 0) + 64 > MAX_TEMPLATE_LENGTH
        if big:
            return e2ap.encode(msg)
        parts = [
            _IE29,
            _U16.pack(rid.requestor_id),
            _U16.pack(rid.instance_id),
            _IE5,
            _U16.pack(msg.ran_function_id),
            _IE15,
            bytes((msg.action_id,)),
        ]
        count = 6
        if sn is not None:
            parts += (_IE27, _U16.pack(sn))
            count += 1
        parts += (ie28, _octets_ie(_IE25, header), _octets_ie(_IE26, message))
        if cpid is not None:
            parts.append(_octets_ie(_IE20, cpid))
            count += 1
    except (TypeError, AttributeError) as err:
        raise EncodeError(f"RICindication: field of the wrong type: {err}") from err
    body = b"\x00\x00" + bytes((count,)) + b"".join(parts)
    return _PDU_HEAD + _length(len(body)) + body


def try_decode_indication(data: bytes | bytearray | memoryview) -> RICindication | None:
    """Decode a RIC INDICATION that matches the template exactly; ``None`` for anything else.

    Never raises: ``None`` means "not the template" (another message, an IE the template lacks, a
    fragmented length, non-standard criticality, bad bytes); pass such input to :func:`dnt.e2.e2ap.decode`.
    """
    try:
        buf = bytes(data)
        if buf[:3] != _PDU_HEAD:
            return None
        length, pos = _read_length(buf, 3)
        if length < 0 or pos + length != len(buf) or buf[pos : pos + 2] != b"\x00\x00":
            return None
        count = buf[pos + 2]
        if count not in (6, 7, 8) or buf[pos + 3 : pos + 8] != _IE29:
            return None
        requestor, instance, ran_function_id, action_id = _HEAD.unpack_from(buf, pos + 5)
        if buf[pos + 12 : pos + 16] != _IE5 or buf[pos + 18 : pos + 22] != _IE15 or ran_function_id > 4095:
            return None
        pos += 23
        found = 6
        sn = None
        if buf[pos : pos + 4] == _IE27:
            sn = _U16.unpack_from(buf, pos + 4)[0]
            pos += 6
            found += 1
        if buf[pos : pos + 4] != b"\x00\x1c\x00\x01":
            return None
        indication_type = _TYPE_BY_OCTET.get(buf[pos + 4])
        if indication_type is None:
            return None
        got = _read_octets_ie(buf, pos + 5, _IE25)
        if got is None:
            return None
        header, pos = got
        got = _read_octets_ie(buf, pos, _IE26)
        if got is None:
            return None
        message, pos = got
        cpid = None
        if pos < len(buf):
            got = _read_octets_ie(buf, pos, _IE20)
            if got is None:
                return None
            cpid, pos = got
            found += 1
        if pos != len(buf) or found != count:
            return None
    except (IndexError, TypeError, struct.error):
        return None
    return RICindication(
        request_id=RicRequestId(requestor, instance),
        ran_function_id=ran_function_id,
        action_id=action_id,
        sn=sn,
        indication_type=indication_type,
        header=header,
        message=message,
        call_process_id=cpid,
    )


def decode_indication(data: bytes | bytearray | memoryview) -> RICindication:
    """Decode a RIC INDICATION: the template when it matches, else :func:`dnt.e2.e2ap.decode`.

    Parameters
    ----------
    data : bytes-like
        One ``E2AP-PDU``.

    Returns
    -------
    RICindication

    Raises
    ------
    DecodeError
        Bad bytes (see :func:`dnt.e2.e2ap.decode`), or a valid PDU that is not a RIC INDICATION.
    """
    msg = try_decode_indication(data)
    if msg is not None:
        return msg
    other = e2ap.decode(data)
    if not isinstance(other, RICindication):
        raise DecodeError(f"expected a RICindication, got {type(other).__name__}")
    return other


def encode(msg: E2apMessage) -> bytes:
    """:func:`dnt.e2.e2ap.encode`, with the templates for RIC INDICATION and RIC CONTROL REQUEST."""
    if type(msg) is RICindication:
        return encode_indication(msg)
    if type(msg) is RICcontrolRequest:
        return encode_control_request(msg)
    return e2ap.encode(msg)


def decode(data: bytes | bytearray | memoryview) -> E2apMessage:
    """:func:`dnt.e2.e2ap.decode`, with the templates for RIC INDICATION and RIC CONTROL REQUEST."""
    msg: E2apMessage | None = try_decode_indication(data)
    if msg is None:
        msg = try_decode_control_request(data)
    return msg if msg is not None else e2ap.decode(data)
