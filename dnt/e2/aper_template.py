"""Aligned-PER pieces shared by the template codecs (:mod:`dnt.e2.fastpath`, :mod:`dnt.e2.fastpath_control`).

Only the two short length-determinant forms of ITU-T X.691 §11.9.3.6/7 (one octet below 128, two octets
below 16384); longer values need fragmentation, which the templates leave to pycrate.
"""

from __future__ import annotations

__all__ = ["length", "octets_ie", "read_length", "read_octets_ie"]


def length(n: int) -> bytes:
    """Length determinant for ``n < 16384``."""
    return bytes((n,)) if n < 128 else bytes((0x80 | (n >> 8), n & 0xFF))


def octets_ie(prefix: bytes, data: bytes) -> bytes:
    """A protocol IE holding an OCTET STRING: ``prefix`` (id + criticality), open-type length, octets."""
    inner = length(len(data)) + data
    return prefix + length(len(inner)) + inner


def read_length(buf: bytes, pos: int) -> tuple[int, int]:
    """Length determinant at ``pos`` -> (length, next pos); -1 for the fragmented form."""
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    if first < 0xC0:
        return ((first & 0x3F) << 8) | buf[pos + 1], pos + 2
    return -1, pos


def read_octets_ie(buf: bytes, pos: int, prefix: bytes) -> tuple[bytes, int] | None:
    """An octet-string IE with ``prefix`` at ``pos`` -> (octets, next pos); None if it is not one."""
    if buf[pos : pos + 3] != prefix:
        return None
    outer, pos = read_length(buf, pos + 3)
    if outer < 0:
        return None
    end = pos + outer
    n, pos = read_length(buf, pos)
    if n < 0 or pos + n != end:
        return None
    return buf[pos:end], end
