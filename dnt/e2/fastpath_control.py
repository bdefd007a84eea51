"""Hand-written aligned-PER template codec for RIC CONTROL REQUEST, the rrm/xApp hot path.

The same idea as :mod:`dnt.e2.fastpath` for RIC INDICATION (read that module first). A RIC CONTROL
REQUEST (E2AP §9.1.1.9, procedure 4) encodes as (hex octets)::

    00 04 00                   E2AP-PDU CHOICE initiatingMessage, procedureCode 4, criticality reject
    L                          open-type length of the RICcontrolRequest value (X.691 §11.9.3.6)
    00 00 n                    SEQUENCE extension bit + padding; protocolIEs count (16-bit)
    00 1d 00 05 00 RRRR IIII   IE 29 RICrequestID
    00 05 00 02 FFFF           IE 5 RANfunctionID
    00 14 00 L1 l C...         IE 20 RICcallProcessID (optional)
    00 16 00 L2 l H...         IE 22 RICcontrolHeader
    00 17 00 L3 l M...         IE 23 RICcontrolMessage
    00 15 00 01 AA             IE 21 RICcontrolAckRequest (optional; 00 noAck, 40 ack)

Before this template, encoding a control with pycrate cost about 0.2 ms, which queued a gNB's burst of
25 per-cell controls behind one another in the xApp (``bench/latency.py``). The encoder is byte-identical
to :func:`dnt.e2.e2ap.encode` (``tests/unit/e2/test_fastpath_control.py``, random inputs) and hands
anything outside the template to it; the decoder accepts exactly the template and returns ``None`` for
everything else, so callers fall back to :func:`dnt.e2.e2ap.decode`.
"""

from __future__ import annotations

import struct

from dnt.e2 import e2ap
from dnt.e2.aper_template import length as _length
from dnt.e2.aper_template import octets_ie as _octets_ie
from dnt.e2.aper_template import read_length as _read_length
from dnt.e2.aper_template import read_octets_ie as _read_octets_ie
from dnt.e2.e2ap_ies import RicRequestId
from dnt.e2.e2ap_types import RICcontrolRequest
from dnt.errors import EncodeError

__all__ = ["encode_control_request", "try_decode_control_request"]

_PDU_HEAD = b"\x00\x04\x00"
_U16 = struct.Struct(">H")
_HEAD = struct.Struct(">HH4xH")  # requestor, instance, (IE 5 prefix), RAN function id
_IE29 = b"\x00\x1d\x00\x05\x00"
_IE5 = b"\x00\x05\x00\x02"
_IE20, _IE22, _IE23 = b"\x00\x14\x00", b"\x00\x16\x00", b"\x00\x17\x00"
_IE21 = {"noAck": b"\x00\x15\x00\x01\x00", "ack": b"\x00\x15\x00\x01\x40"}
_ACK_BY_OCTET = {0x00: "noAck", 0x40: "ack"}
_MAX = 16383


def encode_control_request(msg: RICcontrolRequest) -> bytes:
    """Encode a RIC CONTROL REQUEST with the template (pycrate outside it); same bytes as ``e2ap.encode``.

    Raises
    ------
    EncodeError
        A value outside its ASN.1 range or a field of the wrong type.
    """
    if type(msg) is not RICcontrolRequest:
        raise EncodeError(f"encode_control_request expects a RICcontrolRequest, got {type(msg).__name__}")
    if msg.wire is not None:
        return e2ap.encode(msg)
    rid, header, message, cpid = msg.request_id, msg.header, msg.message, msg.call_process_id
    try:
        if not (0 <= rid.requestor_id <= 0xFFFF and 0 <= rid.instance_id <= 0xFFFF
                and 0 <= msg.ran_function_id <= 4095):
            raise EncodeError(f"RICcontrolRequest: value out of range (request id {rid}, "
                              f"RAN function {msg.ran_function_id})")
        ack = None if msg.ack_request is None else _IE21.get(msg.ack_request)
        if msg.ack_request is not None and ack is None:
            raise EncodeError(f"RICcontrolRequest: ack request {msg.ack_request!r} is not noAck/ack")
        if not (isinstance(header, bytes) and isinstance(message, bytes) and (cpid is None or isinstance(cpid, bytes))):
            raise EncodeError("RICcontrolRequest: header, message and call process id must be bytes")
        if len(header) + len(message) + (len(cpid) if cpid is not None else 0) + 64 > _MAX:
            return e2ap.encode(msg)
        parts = [_IE29, _U16.pack(rid.requestor_id), _U16.pack(rid.instance_id), _IE5, _U16.pack(msg.ran_function_id)]
        count = 4
        if cpid is not None:
            parts.append(_octets_ie(_IE20, cpid))
            count += 1
        parts += (_octets_ie(_IE22, header), _octets_ie(_IE23, message))
        if ack is not None:
            parts.append(ack)
            count += 1
    except (TypeError, AttributeError) as err:
        raise EncodeError(f"RICcontrolRequest: field of the wrong type: {err}") from err
    body = b"\x00\x00" + bytes((count,)) + b"".join(parts)
    return _PDU_HEAD + _length(len(body)) + body


def try_decode_control_request(data: bytes | bytearray | memoryview) -> RICcontrolRequest | None:
    """Decode a RIC CONTROL REQUEST matching the template exactly; ``None`` for anything else (never raises)."""
    try:
        buf = bytes(data)
        if buf[:3] != _PDU_HEAD:
            return None
        length, pos = _read_length(buf, 3)
        if length < 0 or pos + length != len(buf) or buf[pos : pos + 2] != b"\x00\x00":
            return None
        count = buf[pos + 2]
        if count not in (4, 5, 6) or buf[pos + 3 : pos + 8] != _IE29 or buf[pos + 12 : pos + 16] != _IE5:
            return None
        requestor, instance, ran_function_id = _HEAD.unpack_from(buf, pos + 8)
        if ran_function_id > 4095:
            return None
        pos += 18
        found = 4
        cpid = None
        if buf[pos : pos + 3] == _IE20:
            got = _read_octets_ie(buf, pos, _IE20)
            if got is None:
                return None
            cpid, pos = got
            found += 1
        got = _read_octets_ie(buf, pos, _IE22)
        if got is None:
            return None
        header, pos = got
        got = _read_octets_ie(buf, pos, _IE23)
        if got is None:
            return None
        message, pos = got
        ack = None
        if pos < len(buf):
            if buf[pos : pos + 4] != b"\x00\x15\x00\x01" or buf[pos + 4] not in _ACK_BY_OCTET:
                return None
            ack = _ACK_BY_OCTET[buf[pos + 4]]
            pos += 5
            found += 1
        if pos != len(buf) or found != count:
            return None
    except (IndexError, TypeError, struct.error):
        return None
    return RICcontrolRequest(request_id=RicRequestId(requestor, instance), ran_function_id=ran_function_id,
                             call_process_id=cpid, header=header, message=message,
                             ack_request=ack)  # type: ignore[arg-type]
