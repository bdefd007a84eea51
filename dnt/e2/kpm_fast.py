"""Hand-written aligned PER for E2SM-KPM-IndicationMessage format 1 (the per-cell report hot path).

O-RAN.WG3.E2SM-KPM-v03.00 §9.2.1.4 (ASN.1 in ``schemas/e2sm/e2sm-kpm-v03.00-subset.asn``); encoding
rules ITU-T X.691 (aligned variant). The layout written here, bit by bit:

* ``E2SM-KPM-IndicationMessage``: extension bit, ``indicationMessage-formats`` extension bit, 1-bit
  index (0 = format 1); format 1: extension bit, presence bits of ``measInfoList`` and ``granulPeriod``.
* ``measData`` SIZE(1..65535): octet-aligned 16-bit count - 1. Each ``MeasurementDataItem``: extension
  bit, ``incompleteFlag`` presence bit, ``measRecord`` count as an aligned unconstrained length (one or
  two octets); each ``MeasurementRecordItem``: extension bit and 2-bit index, then ``integer``
  (0..2^32-1: 2-bit octet count - 1, aligned value octets), ``real`` (aligned length + X.690 contents in
  the shortest form) or ``noValue`` (nothing); ``incompleteFlag`` is one extension bit.
* ``measInfoList`` starts octet-aligned (16-bit count) and ends the message with ``granulPeriod``: that
  tail is the same for every report of a subscription, so it is encoded once by asn1tools and appended.

The decoder handles the same shape (measurements by name, each with the single label ``noLabel``) and
returns ``None`` for anything else (extensions, measID, other labels, fragmented lengths, malformed or
trailing data) so that the caller falls back to asn1tools. Both directions are checked byte-for-byte and
value-for-value against asn1tools on randomized inputs (tests/unit/e2/test_kpm.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1tools.codecs.ber import decode_real as _asn1tools_decode_real

from dnt.e2.e2sm_asn import encode_real
from dnt.errors import EncodeError

__all__ = ["Tail", "decode_format1", "encode_format1", "make_tail"]

_UINT32_MAX = 0xFFFFFFFF
_TAIL_CACHE: dict[tuple[bool, bytes], tuple[tuple[str, ...], int | None]] = {}
_TAIL_CACHE_SIZE = 1024
_PRINTABLE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


class Tail:
    """The per-subscription part of a format 1 message: presence bits and the constant tail octets."""

    __slots__ = ("first_octet", "suffix", "granul_period")

    def __init__(self, first_octet: int, suffix: bytes, granul_period: int | None) -> None:
        self.first_octet = first_octet
        self.suffix = suffix  # measInfoList (+ granulPeriod), octet-aligned; empty without measInfoList
        self.granul_period = granul_period  # written bit-wise only when there is no measInfoList


def make_tail(encoded_reference: bytes | None, has_info: bool, granul_period: int | None) -> Tail:
    """Build a :class:`Tail`.

    ``encoded_reference`` is the asn1tools encoding of a format 1 message whose ``measData`` is one record
    holding one ``noValue`` (exactly 6 octets: presence octet, 16-bit count, data-item octet, record
    length, ``noValue`` bits); everything after those 6 octets is the constant tail.
    """
    first = (0x08 if has_info else 0) | (0x04 if granul_period is not None else 0)
    if has_info:
        if encoded_reference is None or len(encoded_reference) <= 6:
            raise EncodeError("KPM indication message: reference encoding for the measInfoList tail is missing")
        return Tail(first, bytes(encoded_reference[6:]), None)
    return Tail(first, b"", granul_period)


def _as_number(value: object) -> int | float | None:
    """Coerce numpy and other numeric scalars; ``None`` stays ``None``; bool and others are refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise EncodeError("KPM measurement value: bool is not a measurement value (use int 0/1)")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    index = getattr(value, "__index__", None)
    if index is not None:
        return int(index())
    if hasattr(value, "__float__"):
        return float(value)  # type: ignore[arg-type]
    raise EncodeError(f"KPM measurement value: expected int, float or None, got {type(value).__name__}")


def encode_format1(records: Sequence[Sequence[object]], incomplete: Sequence[bool], tail: Tail) -> bytes:
    """Encode ``E2SM-KPM-IndicationMessage`` format 1 (see the module docstring for the layout)."""
    count = len(records)
    if not 1 <= count <= 65535:
        raise EncodeError(f"KPM indication message: measData needs 1..65535 records, got {count}")
    if incomplete and len(incomplete) != count:
        raise EncodeError(f"KPM indication message: {len(incomplete)} incomplete flags for {count} records")
    out = bytearray((tail.first_octet, (count - 1) >> 8, (count - 1) & 0xFF))
    acc = 0  # pending bits, fewer than 8 after each step
    nb = 0
    for rec_index, record in enumerate(records):
        flag = bool(incomplete[rec_index]) if incomplete else False
        # MeasurementDataItem: extension bit 0 and the incompleteFlag presence bit, then align (length)
        acc = (acc << 2) | (1 if flag else 0)
        nb += 2
        if nb >= 8:
            nb -= 8
            out.append(acc >> nb)
            acc &= (1 << nb) - 1
        if nb:
            out.append((acc << (8 - nb)) & 0xFF)
        acc = nb = 0
        n_values = len(record)
        if n_values == 0:
            raise EncodeError(f"KPM indication message: record {rec_index} is empty (measRecord needs >= 1 value)")
        if n_values < 128:
            out.append(n_values)
        elif n_values < 16384:
            out += (0x8000 | n_values).to_bytes(2, "big")
        else:
            raise EncodeError(f"KPM indication message: {n_values} values in one record (at most 16383 here)")
        for value in record:
            kind = type(value)
            if kind is not int and kind is not float and value is not None:
                value = _as_number(value)
                kind = type(value)
            if value is None:  # noValue: extension bit 0, index 2
                acc = (acc << 3) | 0b010
                nb += 3
                if nb >= 8:
                    nb -= 8
                    out.append(acc >> nb)
                    acc &= (1 << nb) - 1
            elif kind is int:
                if value < 0 or value > _UINT32_MAX:  # type: ignore[operator]
                    raise EncodeError(f"KPM measurement value {value} outside INTEGER (0..4294967295)")
                n_octets = 1 if value < 0x100 else 2 if value < 0x10000 else 3 if value < 0x1000000 else 4  # type: ignore[operator]
                acc = (acc << 5) | (n_octets - 1)  # extension bit 0, index 0, 2-bit octet count - 1
                nb += 5
                if nb >= 8:
                    nb -= 8
                    out.append(acc >> nb)
                    acc &= (1 << nb) - 1
                if nb:
                    out.append((acc << (8 - nb)) & 0xFF)
                    acc = nb = 0
                out += value.to_bytes(n_octets, "big")  # type: ignore[union-attr]
            else:  # float → REAL
                acc = (acc << 3) | 0b001
                nb += 3
                if nb >= 8:
                    nb -= 8
                    out.append(acc >> nb)
                    acc &= (1 << nb) - 1
                if nb:
                    out.append((acc << (8 - nb)) & 0xFF)
                    acc = nb = 0
                contents = encode_real(value)  # type: ignore[arg-type]
                out.append(len(contents))
                out += contents
        if flag:  # incompleteFlag ENUMERATED {true, ...}: extension bit 0, no index bits
            acc <<= 1
            nb += 1
            if nb >= 8:
                nb -= 8
                out.append(acc >> nb)
                acc &= (1 << nb) - 1
    if tail.suffix:
        if nb:
            out.append((acc << (8 - nb)) & 0xFF)
        out += tail.suffix
        return bytes(out)
    granul = tail.granul_period
    if granul is not None:
        value = granul - 1
        n_octets = 1 if value < 0x100 else 2 if value < 0x10000 else 3 if value < 0x1000000 else 4
        acc = (acc << 2) | (n_octets - 1)
        nb += 2
        if nb >= 8:
            nb -= 8
            out.append(acc >> nb)
            acc &= (1 << nb) - 1
        if nb:
            out.append((acc << (8 - nb)) & 0xFF)
        out += value.to_bytes(n_octets, "big")
        return bytes(out)
    if nb:
        out.append((acc << (8 - nb)) & 0xFF)
    return bytes(out)


def decode_format1(
    data: bytes,
) -> tuple[tuple[tuple[int | float | None, ...], ...], tuple[bool, ...], tuple[str, ...] | None, int | None] | None:
    """Decode format 1 → ``(records, incomplete, meas_names | None, granul_period | None)``.

    Returns ``None`` whenever the input is outside the common shape or malformed; the caller then
    decodes with asn1tools (which gives the same value for every input this function accepts).
    """
    size = len(data)
    total = size * 8
    if size < 5:
        return None
    first = data[0]
    if first & 0xF0:  # any extension, or format 2
        return None
    has_info = bool(first & 0x08)
    has_granul = bool(first & 0x04)
    big = int.from_bytes(data, "big")
    n_items = ((data[1] << 8) | data[2]) + 1
    pos = 24
    records: list[tuple[int | float | None, ...]] = []
    flags: list[bool] = []
    try:
        for _ in range(n_items):
            if pos + 2 > total:
                return None
            head = (big >> (total - pos - 2)) & 0b11
            if head & 0b10:
                return None
            flag = bool(head & 1)
            pos = (pos + 2 + 7) & ~7
            octet = data[pos >> 3]
            if octet < 0x80:
                n_values = octet
                pos += 8
            elif octet < 0xC0:
                n_values = ((octet & 0x3F) << 8) | data[(pos >> 3) + 1]
                pos += 16
            else:
                return None
            if n_values == 0:
                return None
            values: list[int | float | None] = []
            for _ in range(n_values):
                if pos + 3 > total:
                    return None
                choice = (big >> (total - pos - 3)) & 0b111
                pos += 3
                if choice == 0:
                    if pos + 2 > total:
                        return None
                    n_octets = ((big >> (total - pos - 2)) & 0b11) + 1
                    pos = (pos + 2 + 7) & ~7
                    start = pos >> 3
                    if start + n_octets > size:
                        return None
                    values.append(int.from_bytes(data[start : start + n_octets], "big"))
                    pos += 8 * n_octets
                elif choice == 1:
                    pos = (pos + 7) & ~7
                    start = pos >> 3
                    if start >= size:
                        return None
                    length = data[start]
                    if length >= 0x80 or start + 1 + length > size:
                        return None
                    real = _asn1tools_decode_real(bytearray(data[start + 1 : start + 1 + length]))
                    if not isinstance(real, float):
                        return None
                    values.append(real)
                    pos += 8 * (1 + length)
                elif choice == 2:
                    values.append(None)
                else:
                    return None
            if flag:
                if pos + 1 > total or (big >> (total - pos - 1)) & 1:
                    return None
                pos += 1
            records.append(tuple(values))
            flags.append(flag)
        if has_info:
            pos = (pos + 7) & ~7
            key = (has_granul, data[pos >> 3 :])
            tail = _TAIL_CACHE.get(key)
            if tail is None:
                tail = _decode_tail(data, big, total, pos, has_granul)
                if tail is None:
                    return None
                if len(_TAIL_CACHE) >= _TAIL_CACHE_SIZE:
                    _TAIL_CACHE.clear()
                _TAIL_CACHE[key] = tail
            return tuple(records), tuple(flags), tail[0], tail[1]
        granul: int | None = None
        if has_granul:
            if pos + 2 > total:
                return None
            n_octets = ((big >> (total - pos - 2)) & 0b11) + 1
            pos = (pos + 2 + 7) & ~7
            start = pos >> 3
            if start + n_octets > size:
                return None
            granul = int.from_bytes(data[start : start + n_octets], "big") + 1
            pos += 8 * n_octets
        if total - pos >= 8:  # trailing octets: let the strict general decoder report them
            return None
        return tuple(records), tuple(flags), None, granul
    except Exception:  # malformed input (asn1tools' REAL decoder has its own error types): use the slow path
        return None


def _decode_tail(
    data: bytes, big: int, total: int, pos: int, has_granul: bool
) -> tuple[tuple[str, ...], int | None] | None:
    """Decode ``measInfoList`` (names, ``noLabel`` only) and ``granulPeriod`` from the aligned ``pos``."""
    size = len(data)
    start = pos >> 3
    if start + 2 > size:
        return None
    n_info = ((data[start] << 8) | data[start + 1]) + 1
    pos += 16
    found: list[str] = []
    for _ in range(n_info):
        # item ext, measType ext, measType index (0 = measName), string ext, 8-bit length - 1
        if pos + 12 > total:
            return None
        bits = (big >> (total - pos - 12)) & 0xFFF
        if bits & 0xF00:
            return None
        n_chars = (bits & 0xFF) + 1
        if n_chars > 150:
            return None
        pos = (pos + 12 + 7) & ~7
        start = pos >> 3
        raw = data[start : start + n_chars]
        if len(raw) != n_chars or not _PRINTABLE.issuperset(raw):
            return None
        found.append(raw.decode("ascii"))
        pos += 8 * n_chars
        # labelInfoList: aligned length 1, then exactly {noLabel true}: bits 0 0 1 0^20 0
        start = pos >> 3
        if start + 4 > size or data[start] != 1 or data[start + 1] != 0x20 or data[start + 2] or data[start + 3]:
            return None
        pos += 32
    granul: int | None = None
    if has_granul:
        if pos + 2 > total:
            return None
        n_octets = ((big >> (total - pos - 2)) & 0b11) + 1
        pos = (pos + 2 + 7) & ~7
        start = pos >> 3
        if start + n_octets > size:
            return None
        granul = int.from_bytes(data[start : start + n_octets], "big") + 1
        pos += 8 * n_octets
    if total - pos >= 8:
        return None
    return tuple(found), granul
