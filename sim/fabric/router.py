"""The fabric's routing table, derived from what xApps register (as rtmgr derives it from descriptors).

Rules, in order (oran-conventions.md §2.2), for a message an xApp sends:

1. return-to-sender frames go to the endpoint they name;
2. E2-bound types (``RIC_CONTROL_REQ``) go to the E2 termination that owns the MEID (``%meid``);
3. ``A1_POLICY_RESP`` / ``A1_POLICY_QUERY`` go to the A1 mediator (platform routes);
4. any other type goes to every *other* xApp that registered it in its HELLO ``rx`` list.

From the platform side, ``RIC_INDICATION`` goes to the xApp that owns its subscription id (the E2 event
instance id submgr allocated, ``mse|12050|<sub id>|<xapp>``) and ``A1_POLICY_REQ`` to the xApps that
registered the policy type (``mse|20010|<type>|<xapp>``). Pure data: no sockets, not thread-safe (the
fabric's event loop owns it; REST threads only read it, through snapshots taken in one C call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dnt.e2.mtypes import A1_POLICY_QUERY, A1_POLICY_REQ, A1_POLICY_RESP, RIC_CONTROL_REQ, RIC_INDICATION

__all__ = ["E2_BOUND", "TO_A1", "XappRegistration", "RoutingTable"]

E2_BOUND = frozenset({RIC_CONTROL_REQ})
"""Types routed by MEID to the node's E2 termination."""
TO_A1 = frozenset({A1_POLICY_RESP, A1_POLICY_QUERY})
"""Types routed to the A1 mediator."""


@dataclass
class XappRegistration:
    """What an xApp announced in its HELLO."""

    name: str
    rx: frozenset[int] = frozenset()
    policies: set[int] = field(default_factory=set)
    http: tuple[str, int] | None = None


class RoutingTable:
    """mtype → xApps, (RIC_INDICATION, sub id) → xApp, (A1_POLICY_REQ, type) → xApps."""

    def __init__(self) -> None:
        self.xapps: dict[str, XappRegistration] = {}
        self.subs: dict[int, str] = {}

    def register(self, name: str, rx: frozenset[int], policies: set[int], http: tuple[str, int] | None) -> None:
        """Add or replace the registration of xApp ``name`` (policy types accumulate)."""
        old = self.xapps.get(name)
        self.xapps[name] = XappRegistration(name, rx, set(policies) | (old.policies if old else set()), http)

    def add_policy(self, name: str, type_id: int) -> None:
        """xApp ``name`` handles A1 policy type ``type_id`` (e.g. it sent A1_POLICY_QUERY for it)."""
        reg = self.xapps.setdefault(name, XappRegistration(name))
        reg.policies.add(type_id)

    def add_sub(self, sub_id: int, name: str) -> None:
        """RIC_INDICATION with ``sub_id`` goes to xApp ``name``."""
        self.subs[sub_id] = name

    def remove_sub(self, sub_id: int) -> None:
        self.subs.pop(sub_id, None)

    def by_http(self, host: str, port: int) -> str | None:
        """The xApp whose HTTP endpoint is ``host:port`` (a submgr ClientEndpoint), or None."""
        return next((r.name for r in list(self.xapps.values()) if r.http == (host, port)), None)

    def policy_handlers(self, type_id: int) -> list[str]:
        """xApps that handle A1 policy type ``type_id``."""
        return sorted(n for n, r in list(self.xapps.items()) if type_id in r.policies)

    def targets(self, mtype: int, sub_id: int, sender: str | None) -> list[str]:
        """xApps a message of ``mtype`` / ``sub_id`` goes to (rule 4 and the platform-side rules)."""
        if mtype == RIC_INDICATION:
            owner = self.subs.get(sub_id)
            return [owner] if owner is not None else []
        if mtype == A1_POLICY_REQ:
            return self.policy_handlers(sub_id)
        return sorted(n for n, r in self.xapps.items() if mtype in r.rx and n != sender)

    def table(self) -> list[str]:
        """The table in RMR route-table syntax (``mse|<mtype>|<sub id>|<endpoints>``), for inspection."""
        lines = ["mse|12040|-1|%meid", "mse|20011|-1|a1mediator", "mse|20012|-1|a1mediator"]
        by_type: dict[int, list[str]] = {}
        regs = list(self.xapps.values())
        for r in regs:
            for mtype in r.rx:
                if mtype not in (RIC_INDICATION, A1_POLICY_REQ):
                    by_type.setdefault(mtype, []).append(r.name)
        lines += [f"mse|{m}|-1|{','.join(sorted(n))}" for m, n in sorted(by_type.items())]
        types = sorted({t for r in regs for t in list(r.policies)})
        lines += [f"mse|{A1_POLICY_REQ}|{t}|{';'.join(self.policy_handlers(t))}" for t in types]
        lines += [f"mse|{RIC_INDICATION}|{s}|{n}" for s, n in sorted(list(self.subs.items()))]
        return lines
