"""The project's E2SM ASN.1 subsets, compiled once (lazily) with asn1tools aligned PER.

The ASN.1 lives in ``schemas/e2sm/`` at the repository root (see its README for the covered types and
spec clauses). It is found, in order, in:

1. the directory named by the environment variable ``DNT_E2SM_SCHEMA_DIR``;
2. ``<repository root>/schemas/e2sm``, located from this file: this works from a source checkout and
   from the editable install (``pip install -e .``, what ``make venv`` does), where ``dnt`` is imported
   from the checkout. A non-editable wheel does not ship ``schemas/``; set the variable then.

Two fixes over stock asn1tools 0.169.0 (see ``../shared/reference/e2-codecs.md``):

* REAL is written in the shortest (canonical, X.690 §11.3.1) binary form: asn1tools adds a leading
  ``00`` mantissa octet when the mantissa fills whole octets (163.0 → ``04 80 00 00 a3`` instead of
  ``03 80 00 a3``). Every ``REAL`` node of the compiled specs gets :func:`encode_real` as its encoder.
* Decoding is strict about length: whole trailing octets after the message raise ``DecodeError``
  (asn1tools ignores them), which also turns most KPM v2 bytes fed to the v3 decoder into a clear error.

Every asn1tools or Python error is wrapped: encoding raises :class:`~dnt.errors.EncodeError`, decoding
:class:`~dnt.errors.DecodeError`; nothing else escapes.
"""

from __future__ import annotations

import math
import os
import threading
import types
from pathlib import Path
from typing import Any, Literal

import asn1tools
from asn1tools.codecs import per

from dnt.errors import CodecError, DecodeError, EncodeError

__all__ = [
    "SCHEMA_DIR_ENV",
    "SCHEMA_FILES",
    "Spec",
    "compiled",
    "decode",
    "encode",
    "encode_real",
    "schema_dir",
]

SCHEMA_DIR_ENV = "DNT_E2SM_SCHEMA_DIR"
Spec = Literal["kpm", "rc"]
SCHEMA_FILES: dict[str, str] = {
    "kpm": "e2sm-kpm-v03.00-subset.asn",
    "rc": "e2sm-rc-v01.03-subset.asn",
}
_LABEL = {"kpm": "E2SM-KPM", "rc": "E2SM-RC"}

_lock = threading.Lock()
_compiled: dict[str, Any] = {}


def schema_dir() -> Path:
    """Return the directory holding the E2SM ASN.1 subsets; raise ``CodecError`` when none is found."""
    candidates: list[Path] = []
    env = os.environ.get(SCHEMA_DIR_ENV)
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[2] / "schemas" / "e2sm")
    for cand in candidates:
        if all((cand / name).is_file() for name in SCHEMA_FILES.values()):
            return cand
    tried = ", ".join(str(c) for c in candidates)
    raise CodecError(
        f"E2SM ASN.1 subsets ({', '.join(SCHEMA_FILES.values())}) not found in: {tried}. "
        f"Use a source checkout or editable install, or set {SCHEMA_DIR_ENV} to the schemas/e2sm directory."
    )


def encode_real(value: float) -> bytes:
    """Return the contents octets of a REAL in the canonical shortest binary form (X.690 §8.5, §11.3.1).

    Base 2, scaling factor 0, odd mantissa in the fewest octets, exponent in 1 or 2 octets; 0.0 has no
    contents octets, and -0.0, +inf, -inf and NaN use the special values 0x43, 0x40, 0x41 and 0x42.
    """
    value = float(value)
    if value == 0.0:
        return b"\x43" if math.copysign(1.0, value) < 0 else b""
    if math.isnan(value):
        return b"\x42"
    if math.isinf(value):
        return b"\x40" if value > 0 else b"\x41"
    sign = 0x40 if value < 0 else 0
    frac, exp2 = math.frexp(abs(value))
    mantissa = int(frac * (1 << 53))  # exact: a double has at most 53 significant bits
    exponent = exp2 - 53
    shift = (mantissa & -mantissa).bit_length() - 1  # make the mantissa odd
    mantissa >>= shift
    exponent += shift
    if -128 <= exponent <= 127:
        head = bytes((0x80 | sign,)) + exponent.to_bytes(1, "big", signed=True)
    else:  # a double's exponent always fits 2 octets
        head = bytes((0x81 | sign,)) + exponent.to_bytes(2, "big", signed=True)
    return head + mantissa.to_bytes((mantissa.bit_length() + 7) // 8, "big")


def _per_encode_real(self: per.Real, data: float, encoder: per.Encoder) -> None:
    encoded = encode_real(data)
    encoder.align()
    encoder.append_length_determinant(len(encoded))
    encoder.append_bytes(encoded)


def _patch_reals(spec: Any) -> int:
    """Give every REAL node reachable from the compiled types the shortest-form encoder."""
    stack: list[Any] = [ct._type for ct in spec.types.values()]
    seen: set[int] = set()
    patched = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, per.Real):
            node.encode = types.MethodType(_per_encode_real, node)
            patched += 1
        for attr in vars(node).values():
            if isinstance(attr, per.Type):
                stack.append(attr)
            elif isinstance(attr, list | tuple):
                stack.extend(x for x in attr if isinstance(x, per.Type))
            elif isinstance(attr, dict):
                stack.extend(x for x in attr.values() if isinstance(x, per.Type))
    return patched


def compiled(spec: Spec) -> Any:
    """Return the compiled asn1tools specification (``"kpm"`` or ``"rc"``), compiling it on first use."""
    found = _compiled.get(spec)
    if found is not None:
        return found
    with _lock:
        found = _compiled.get(spec)
        if found is None:
            path = schema_dir() / SCHEMA_FILES[spec]
            try:
                found = asn1tools.compile_files([str(path)], "per")
            except asn1tools.Error as err:
                raise CodecError(f"{_LABEL[spec]}: cannot compile {path}: {err}") from err
            _patch_reals(found)
            _compiled[spec] = found
    return found


def encode(spec: Spec, type_name: str, value: Any) -> bytes:
    """APER-encode ``value`` (asn1tools form) as ``type_name``; raise ``EncodeError`` on any failure."""
    comp = compiled(spec)
    try:
        return bytes(comp.encode(type_name, value, check_constraints=True))
    except asn1tools.Error as err:
        raise EncodeError(f"{_LABEL[spec]} {type_name}: {err}") from err
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as err:
        raise EncodeError(f"{_LABEL[spec]} {type_name}: invalid value ({type(err).__name__}: {err})") from err


def decode(spec: Spec, type_name: str, data: bytes | bytearray | memoryview) -> Any:
    """APER-decode ``data`` as ``type_name`` into the asn1tools form; raise ``DecodeError`` on any failure.

    Whole octets left over after the value are an error (padding bits of the last octet are not).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(f"{_LABEL[spec]} {type_name}: expected bytes, got {type(data).__name__}")
    comp = compiled(spec)
    buf = bytearray(data)
    if not buf:
        raise DecodeError(f"{_LABEL[spec]} {type_name}: empty input")
    decoder = per.Decoder(buf)
    try:
        value = comp.types[type_name]._type.decode(decoder)
    except asn1tools.Error as err:
        raise DecodeError(f"{_LABEL[spec]} {type_name}: {err}") from err
    except Exception as err:  # asn1tools raises plain Python errors on some malformed inputs
        raise DecodeError(f"{_LABEL[spec]} {type_name}: malformed input ({type(err).__name__}: {err})") from err
    left = decoder.number_of_bits
    if left >= 8:
        raise DecodeError(
            f"{_LABEL[spec]} {type_name}: {left // 8} trailing octet(s) after the value "
            f"(decoded {len(buf) - left // 8} of {len(buf)}); wrong message type or service-model version?"
        )
    return value
