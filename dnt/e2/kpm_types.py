"""E2SM-KPM v03.00 subset: the message dataclasses (codec in :mod:`dnt.e2.kpm`).

Spec: O-RAN.WG3.E2SM-KPM-v03.00 ("KPM"), clause per class below. Values are checked when encoded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from dnt.e2.e2ap_ies import PlmnId
from dnt.errors import EncodeError

__all__ = [
    "KPM_OID",
    "KPM_SHORT_NAME",
    "NTP_UNIX_OFFSET_S",
    "KpmActionDefinition",
    "KpmEventTrigger",
    "KpmEventTriggerStyle",
    "KpmIndicationHeader",
    "KpmIndicationMessage",
    "KpmRanFunctionDefinition",
    "KpmReportStyle",
    "MeasValue",
    "NrCgi",
    "default_kpm_ran_function_definition",
]

KPM_OID = "1.3.6.1.4.1.53148.1.2.2.2"
KPM_SHORT_NAME = "ORAN-E2SM-KPM"
NTP_UNIX_OFFSET_S = 2_208_988_800  # seconds from the NTP epoch (1900-01-01) to the Unix epoch
MeasValue: TypeAlias = int | float | None
"""One ``MeasurementRecordItem`` (KPM §8.3.13): int → ``integer`` (0..2^32-1), float → ``real``,
None → ``noValue``."""


def _tup(value: Any) -> tuple[Any, ...]:
    return value if type(value) is tuple else tuple(value)


# --- data types ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NrCgi:
    """NR cell global identity (``NR-CGI``, E2SM common / TS 38.413 §9.3.1.7): PLMN + 36-bit cell id."""

    plmn: PlmnId
    nr_cell_id: int


@dataclass(frozen=True)
class KpmEventTriggerStyle:
    """``RIC-EventTriggerStyle-Item`` (KPM §9.2.2): style 1 is the periodic report."""

    style_type: int = 1
    name: str = "Periodic Report"
    format_type: int = 1


@dataclass(frozen=True)
class KpmReportStyle:
    """``RIC-ReportStyle-Item`` (KPM §9.2.2, §7.4): a report style and the measurements it offers.

    ``meas_ids`` is empty (no ``measID``) or one optional id per name.
    """

    style_type: int = 1
    name: str = "E2 Node Measurement"
    meas_names: tuple[str, ...] = ()
    meas_ids: tuple[int | None, ...] = ()
    action_format_type: int = 1
    indication_header_format_type: int = 1
    indication_message_format_type: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "meas_names", _tup(self.meas_names))
        object.__setattr__(self, "meas_ids", _tup(self.meas_ids))


@dataclass(frozen=True)
class KpmRanFunctionDefinition:
    """``E2SM-KPM-RANfunction-Description`` (KPM §9.2.2), carried in E2 Setup as the RAN function definition."""

    short_name: str = KPM_SHORT_NAME
    oid: str = KPM_OID
    description: str = "KPM Monitor"
    instance: int | None = None
    event_trigger_styles: tuple[KpmEventTriggerStyle, ...] = (KpmEventTriggerStyle(),)
    report_styles: tuple[KpmReportStyle, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_trigger_styles", _tup(self.event_trigger_styles))
        object.__setattr__(self, "report_styles", _tup(self.report_styles))


@dataclass(frozen=True)
class KpmEventTrigger:
    """``E2SM-KPM-EventTriggerDefinition`` format 1 (KPM §9.2.1.1.1): report every ``period_ms`` ms."""

    period_ms: int


@dataclass(frozen=True)
class KpmActionDefinition:
    """``E2SM-KPM-ActionDefinition`` format 1 (KPM §9.2.1.2.1), report style 1 by default.

    Parameters
    ----------
    meas_names : tuple of str
        Measurement names (``measInfoList``, label ``noLabel``), in report order.
    granul_period_ms : int
        Granularity period in ms (``granulPeriod``, 1..2^32-1).
    cell : NrCgi or None
        ``cellGlobalID``: measure this cell only (one action per cell); None = the whole E2 node.
    style_type : int
        ``ric-Style-Type`` (1 = E2 node measurement).
    """

    meas_names: tuple[str, ...]
    granul_period_ms: int
    cell: NrCgi | None = None
    style_type: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "meas_names", _tup(self.meas_names))


@dataclass(frozen=True)
class KpmIndicationHeader:
    """``E2SM-KPM-IndicationHeader`` format 1 (KPM §9.2.1.3.1).

    ``collet_start_time`` is the raw 8-octet ``TimeStamp`` (KPM §8.3.12, v03.00): the 64-bit NTP
    timestamp format of IETF RFC 5905, i.e. 32-bit seconds since 1900-01-01 00:00 UTC and a 32-bit
    binary fraction of a second, big-endian. Use :meth:`from_unix_ms` / :attr:`unix_ms` / :attr:`unix_s` to convert.
    The optional strings are decoded when present, but senders should omit them (stacks disagree on
    their encoding) and readers should not rely on them.
    """

    collet_start_time: bytes
    file_format_version: str | None = None
    sender_name: str | None = None
    sender_type: str | None = None
    vendor_name: str | None = None

    @classmethod
    def from_unix_ms(cls, unix_ms: int | float) -> KpmIndicationHeader:
        """Header whose collection start time is ``unix_ms`` milliseconds after the Unix epoch."""
        if not math.isfinite(unix_ms) or unix_ms < -NTP_UNIX_OFFSET_S * 1000:
            raise EncodeError(f"KPM TimeStamp: {unix_ms} ms is not representable as an NTP timestamp")
        total = int(round((unix_ms / 1000.0 + NTP_UNIX_OFFSET_S) * (1 << 32)))
        if total >= 1 << 64:
            raise EncodeError(f"KPM TimeStamp: {unix_ms} ms is past the NTP era-0 range")
        return cls(total.to_bytes(8, "big"))

    @property
    def unix_s(self) -> float:
        """Collection start time in seconds since the Unix epoch (NTP era 0, fraction kept)."""
        total = int.from_bytes(self.collet_start_time, "big")
        return ((total >> 32) - NTP_UNIX_OFFSET_S) + (total & 0xFFFFFFFF) / (1 << 32)

    @property
    def unix_ms(self) -> int:
        """Collection start time in whole milliseconds since the Unix epoch (rounded)."""
        total = int.from_bytes(self.collet_start_time, "big")
        return ((total >> 32) - NTP_UNIX_OFFSET_S) * 1000 + (((total & 0xFFFFFFFF) * 1000 + (1 << 31)) >> 32)


@dataclass(frozen=True)
class KpmIndicationMessage:
    """``E2SM-KPM-IndicationMessage`` format 1 (KPM §9.2.1.4.1).

    Parameters
    ----------
    records : tuple of tuple of MeasValue
        ``measData``: one record per granularity period, one value per measurement (``meas_names``
        order). int → ``integer``, float → ``real``, None → ``noValue``.
    meas_names : tuple of str
        ``measInfoList`` (names, ``noLabel``); empty = absent.
    granul_period_ms : int or None
        ``granulPeriod`` in ms; None = absent.
    incomplete : tuple of bool
        ``incompleteFlag`` per record; empty = no record flagged.
    """

    records: tuple[tuple[MeasValue, ...], ...]
    meas_names: tuple[str, ...] = ()
    granul_period_ms: int | None = None
    incomplete: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        recs = self.records
        if type(recs) is not tuple or any(type(r) is not tuple for r in recs):
            object.__setattr__(self, "records", tuple(tuple(r) for r in recs))
        object.__setattr__(self, "meas_names", _tup(self.meas_names))
        flags = _tup(self.incomplete)
        object.__setattr__(self, "incomplete", flags if any(flags) else ())

    def named(self, record: int = -1) -> dict[str, MeasValue]:
        """Map measurement names to the values of one record (the last by default)."""
        if not self.meas_names:
            raise ValueError("KPM indication message has no measInfoList: values cannot be named")
        return dict(zip(self.meas_names, self.records[record], strict=True))


def default_kpm_ran_function_definition(
    meas_names: Sequence[str], *, description: str = "KPM Monitor"
) -> KpmRanFunctionDefinition:
    """RAN function definition offering event trigger style 1 and report style 1 with ``meas_names``."""
    return KpmRanFunctionDefinition(
        description=description, report_styles=(KpmReportStyle(meas_names=tuple(meas_names)),)
    )
