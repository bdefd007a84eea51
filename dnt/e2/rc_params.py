"""E2SM-RC RAN parameter trees (RC §8.3.11-12, §9.2.3) and the ids of control style 2 action 6.

A :class:`RanParameter` holds a :class:`RanElement` (``ranP-Choice-ElementTrue`` when ``key_flag``,
else ``-ElementFalse``), a :class:`RanStructure` or a :class:`RanList`; :func:`param_to_asn` and
:func:`param_from_asn` convert to and from asn1tools values. Used by :mod:`dnt.e2.rc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from dnt.errors import DecodeError, EncodeError

__all__ = [
    "SLICE_PRB_QUOTA_PARAMS",
    "BitString",
    "RanElement",
    "RanList",
    "RanParameter",
    "RanStructure",
    "RanValue",
    "SliceParam",
    "param_from_asn",
    "param_to_asn",
]


# --- RAN parameter tree (§8.3.11-12, §9.2.3) ---------------------------------------------------------
@dataclass(frozen=True)
class BitString:
    """A ``valueBitS`` value: ``nbits`` bits, left-aligned in ``data`` (asn1tools' form)."""

    data: bytes
    nbits: int


RanValue: TypeAlias = bool | int | float | bytes | str | BitString
"""``RANParameter-Value``: bool → valueBoolean, int → valueInt, float → valueReal, bytes → valueOctS,
str → valuePrintableString, BitString → valueBitS."""


@dataclass(frozen=True)
class RanElement:
    """An element value: ``ranP-Choice-ElementTrue`` (``key_flag``) or ``-ElementFalse`` (value optional)."""

    value: RanValue | None = None
    key_flag: bool = False


@dataclass(frozen=True)
class RanStructure:
    """``RANParameter-STRUCTURE``: a sequence of parameters (empty = ``sequence-of-ranParameters`` absent)."""

    params: tuple[RanParameter, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))

    def get(self, param_id: int) -> RanParameter | None:
        """The first parameter with ``param_id``, or None."""
        return next((p for p in self.params if p.param_id == param_id), None)


@dataclass(frozen=True)
class RanList:
    """``RANParameter-LIST``: one or more structures."""

    items: tuple[RanStructure, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True)
class RanParameter:
    """One RAN parameter: ``ranParameter-ID`` (1..2^32-1) and its value type."""

    param_id: int
    value: RanElement | RanStructure | RanList


_VALUE_KIND: dict[type, str] = {
    bool: "valueBoolean",
    int: "valueInt",
    float: "valueReal",
    bytes: "valueOctS",
    str: "valuePrintableString",
}


def _value_to_asn(value: RanValue) -> tuple[str, Any]:
    if isinstance(value, BitString):
        return "valueBitS", (value.data, value.nbits)
    kind = _VALUE_KIND.get(type(value))
    if kind is None:
        raise EncodeError(f"RAN parameter value of type {type(value).__name__} is not a RANParameter-Value")
    return kind, value


def _value_from_asn(value: tuple[str, Any]) -> RanValue:
    kind, v = value
    if kind == "valueBitS":
        return BitString(bytes(v[0]), v[1])
    if kind == "valueOctS":
        return bytes(v)
    if kind == "valueReal":
        return float(v)
    if kind in ("valueBoolean", "valueInt", "valuePrintableString"):
        return v  # type: ignore[no-any-return]
    raise DecodeError(f"RANParameter-Value alternative {kind} is outside the DNT-RIC RC subset")


def _vtype_to_asn(node: RanElement | RanStructure | RanList) -> tuple[str, Any]:
    if isinstance(node, RanElement):
        if node.key_flag:
            if node.value is None:
                raise EncodeError("ranP-Choice-ElementTrue needs a value (key_flag=True with value None)")
            return "ranP-Choice-ElementTrue", {"ranParameter-value": _value_to_asn(node.value)}
        body = {} if node.value is None else {"ranParameter-value": _value_to_asn(node.value)}
        return "ranP-Choice-ElementFalse", body
    if isinstance(node, RanStructure):
        return "ranP-Choice-Structure", {"ranParameter-Structure": _structure_to_asn(node)}
    if isinstance(node, RanList):
        if not node.items:
            raise EncodeError("RANParameter-LIST needs at least one structure")
        return "ranP-Choice-List", {
            "ranParameter-List": {"list-of-ranParameter": [_structure_to_asn(s) for s in node.items]}
        }
    raise EncodeError(f"RAN parameter value type {type(node).__name__} is not an element, structure or list")


def _structure_to_asn(node: RanStructure) -> dict[str, Any]:
    if not node.params:
        return {}
    return {"sequence-of-ranParameters": [param_to_asn(p) for p in node.params]}


def param_to_asn(param: RanParameter) -> dict[str, Any]:
    pid = param.param_id
    if isinstance(pid, bool) or not isinstance(pid, int) or not 1 <= pid <= 0xFFFFFFFF:
        raise EncodeError(f"RANParameter-ID must be an integer in 1..4294967295, got {pid!r}")
    return {"ranParameter-ID": param.param_id, "ranParameter-valueType": _vtype_to_asn(param.value)}


def _vtype_from_asn(value: tuple[str, Any]) -> RanElement | RanStructure | RanList:
    kind, body = value
    if kind == "ranP-Choice-ElementTrue":
        return RanElement(_value_from_asn(body["ranParameter-value"]), key_flag=True)
    if kind == "ranP-Choice-ElementFalse":
        inner = body.get("ranParameter-value")
        return RanElement(None if inner is None else _value_from_asn(inner))
    if kind == "ranP-Choice-Structure":
        return _structure_from_asn(body["ranParameter-Structure"])
    if kind == "ranP-Choice-List":
        return RanList(tuple(_structure_from_asn(s) for s in body["ranParameter-List"]["list-of-ranParameter"]))
    raise DecodeError(f"RANParameter-ValueType alternative {kind} is outside the DNT-RIC RC subset")


def _structure_from_asn(body: dict[str, Any]) -> RanStructure:
    return RanStructure(tuple(param_from_asn(p) for p in body.get("sequence-of-ranParameters", ())))


def param_from_asn(item: dict[str, Any]) -> RanParameter:
    return RanParameter(item["ranParameter-ID"], _vtype_from_asn(item["ranParameter-valueType"]))


# --- control style 2, action 6: slice-level PRB quota (RC §8.4.3.6) -------------------------------------
class SliceParam:
    """RAN parameter ids of control style 2 action 6 (RC §8.4.3.6; id 4 is unused in the spec)."""

    RRM_POLICY_RATIO_LIST = 1
    RRM_POLICY_RATIO_GROUP = 2
    RRM_POLICY = 3
    RRM_POLICY_MEMBER_LIST = 5
    RRM_POLICY_MEMBER = 6
    PLMN_IDENTITY = 7
    S_NSSAI = 8
    SST = 9
    SD = 10
    MIN_PRB_POLICY_RATIO = 11
    MAX_PRB_POLICY_RATIO = 12
    DEDICATED_PRB_POLICY_RATIO = 13


SLICE_PRB_QUOTA_PARAMS: tuple[tuple[int, str], ...] = (
    (1, "RRM Policy Ratio List"),
    (2, "RRM Policy Ratio Group"),
    (3, "RRM Policy"),
    (5, "RRM Policy Member List"),
    (6, "RRM Policy Member"),
    (7, "PLMN Identity"),
    (8, "S-NSSAI"),
    (9, "SST"),
    (10, "SD"),
    (11, "Min PRB Policy Ratio"),
    (12, "Max PRB Policy Ratio"),
    (13, "Dedicated PRB Policy Ratio"),
)
