"""E2SM-RC RAN function definition (RC §9.2.2): the control section in full, the others summarised.

Re-exported by :mod:`dnt.e2.rc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dnt.e2 import e2sm_asn
from dnt.e2.rc_params import SLICE_PRB_QUOTA_PARAMS

__all__ = [
    "RC_OID",
    "RC_SHORT_NAME",
    "RcControlAction",
    "RcControlStyle",
    "RcRanFunctionDefinition",
    "decode_ran_function_definition",
    "default_rc_ran_function_definition",
    "encode_ran_function_definition",
]

RC_OID = "1.3.6.1.4.1.53148.1.1.2.3"
RC_SHORT_NAME = "ORAN-E2SM-RC"


# --- RAN function definition (§9.2.2) ----------------------------------------------------------------
@dataclass(frozen=True)
class RcControlAction:
    """``RANFunctionDefinition-Control-Action-Item``: action id, name and its (id, name) parameters."""

    action_id: int
    name: str
    params: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(tuple(p) for p in self.params))


@dataclass(frozen=True)
class RcControlStyle:
    """``RANFunctionDefinition-Control-Item`` (RC §9.2.2.5)."""

    style_type: int
    name: str
    actions: tuple[RcControlAction, ...] = ()
    header_format_type: int = 1
    message_format_type: int = 1
    call_process_id_format_type: int | None = None
    outcome_format_type: int = 1
    outcome_params: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "outcome_params", tuple(tuple(p) for p in self.outcome_params))


@dataclass(frozen=True)
class RcRanFunctionDefinition:
    """``E2SM-RC-RANFunctionDefinition`` (RC §9.2.2).

    The control section is modelled in full. The event trigger, report, insert and policy sections are
    decoded (the ASN.1 subset covers them at name/id level) and summarised in ``other_styles`` as
    ``(section, style type, style name)``; they take no part in equality and are not re-encoded.
    """

    short_name: str = RC_SHORT_NAME
    oid: str = RC_OID
    description: str = "RAN Control"
    instance: int | None = None
    control_styles: tuple[RcControlStyle, ...] = ()
    other_styles: tuple[tuple[str, int, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "control_styles", tuple(self.control_styles))


def _named(items: Sequence[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"ranParameter-ID": pid, "ranParameter-name": name} for pid, name in items]


def encode_ran_function_definition(msg: RcRanFunctionDefinition) -> bytes:
    """Encode ``E2SM-RC-RANFunctionDefinition`` (name and control section)."""
    name: dict[str, Any] = {
        "ranFunction-ShortName": msg.short_name,
        "ranFunction-E2SM-OID": msg.oid,
        "ranFunction-Description": msg.description,
    }
    if msg.instance is not None:
        name["ranFunction-Instance"] = msg.instance
    value: dict[str, Any] = {"ranFunction-Name": name}
    if msg.control_styles:
        styles = []
        for s in msg.control_styles:
            item: dict[str, Any] = {"ric-ControlStyle-Type": s.style_type, "ric-ControlStyle-Name": s.name}
            if s.actions:
                actions = []
                for a in s.actions:
                    act: dict[str, Any] = {"ric-ControlAction-ID": a.action_id, "ric-ControlAction-Name": a.name}
                    if a.params:
                        act["ran-ControlActionParameters-List"] = _named(a.params)
                    actions.append(act)
                item["ric-ControlAction-List"] = actions
            item["ric-ControlHeaderFormat-Type"] = s.header_format_type
            item["ric-ControlMessageFormat-Type"] = s.message_format_type
            if s.call_process_id_format_type is not None:
                item["ric-CallProcessIDFormat-Type"] = s.call_process_id_format_type
            item["ric-ControlOutcomeFormat-Type"] = s.outcome_format_type
            if s.outcome_params:
                item["ran-ControlOutcomeParameters-List"] = _named(s.outcome_params)
            styles.append(item)
        value["ranFunctionDefinition-Control"] = {"ric-ControlStyle-List": styles}
    return e2sm_asn.encode("rc", "E2SM-RC-RANFunctionDefinition", value)


_OTHER_SECTIONS = (
    ("eventTrigger", "ranFunctionDefinition-EventTrigger", "ric-EventTriggerStyle-List", "ric-EventTriggerStyle"),
    ("report", "ranFunctionDefinition-Report", "ric-ReportStyle-List", "ric-ReportStyle"),
    ("insert", "ranFunctionDefinition-Insert", "ric-InsertStyle-List", "ric-InsertStyle"),
    ("policy", "ranFunctionDefinition-Policy", "ric-PolicyStyle-List", "ric-PolicyStyle"),
)


def decode_ran_function_definition(data: bytes) -> RcRanFunctionDefinition:
    """Decode ``E2SM-RC-RANFunctionDefinition`` (control section in full, others summarised)."""
    value = e2sm_asn.decode("rc", "E2SM-RC-RANFunctionDefinition", data)
    name = value["ranFunction-Name"]
    styles = []
    for s in value.get("ranFunctionDefinition-Control", {}).get("ric-ControlStyle-List", ()):
        actions = tuple(
            RcControlAction(
                a["ric-ControlAction-ID"],
                a["ric-ControlAction-Name"],
                tuple(
                    (p["ranParameter-ID"], p["ranParameter-name"])
                    for p in a.get("ran-ControlActionParameters-List", ())
                ),
            )
            for a in s.get("ric-ControlAction-List", ())
        )
        styles.append(
            RcControlStyle(
                s["ric-ControlStyle-Type"],
                s["ric-ControlStyle-Name"],
                actions,
                s["ric-ControlHeaderFormat-Type"],
                s["ric-ControlMessageFormat-Type"],
                s.get("ric-CallProcessIDFormat-Type"),
                s["ric-ControlOutcomeFormat-Type"],
                tuple(
                    (p["ranParameter-ID"], p["ranParameter-name"])
                    for p in s.get("ran-ControlOutcomeParameters-List", ())
                ),
            )
        )
    other = tuple(
        (section, item[f"{prefix}-Type"], item[f"{prefix}-Name"])
        for section, key, list_key, prefix in _OTHER_SECTIONS
        for item in value.get(key, {}).get(list_key, ())
    )
    return RcRanFunctionDefinition(
        short_name=name["ranFunction-ShortName"],
        oid=name["ranFunction-E2SM-OID"],
        description=name["ranFunction-Description"],
        instance=name.get("ranFunction-Instance"),
        control_styles=tuple(styles),
        other_styles=other,
    )


def default_rc_ran_function_definition(*, description: str = "RAN Control") -> RcRanFunctionDefinition:
    """RC RAN function definition offering control style 2 action 6 (slice-level PRB quota)."""
    action = RcControlAction(6, "Slice-level PRB quota", SLICE_PRB_QUOTA_PARAMS)
    style = RcControlStyle(2, "Radio Resource Allocation Control", (action,))
    return RcRanFunctionDefinition(description=description, control_styles=(style,))
