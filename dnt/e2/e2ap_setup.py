"""E2 setup helpers: the OSC RAN name of an E2 node, and accepting only the RAN functions the RIC knows.

Re-exported by :mod:`dnt.e2.e2ap`. Spec: O-RAN.WG3.E2AP-v03.01 §8.3.1 (E2 Setup procedure: the RIC
answers with the accepted and rejected RAN functions) and §9.2 (Global E2 Node ID, RAN Function
Definition); the RAN name follows OSC ``ric-plt-e2: RIC-E2-TERMINATION/BuildRunName.h``
(``shared/reference/oran-conventions.md`` §6.2).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from dnt.e2.e2ap_ies import (
    Cause,
    E2nodeComponentConfigAck,
    E2nodeEnb,
    E2nodeEnGnb,
    E2nodeGnb,
    E2nodeNgEnb,
    GlobalE2nodeId,
    GlobalRicId,
    PlmnId,
    RanFunction,
    RanFunctionIdCause,
    RanFunctionIdItem,
)
from dnt.e2.e2ap_types import E2setupRequest, E2setupResponse, RICserviceUpdate

__all__ = ["NOT_SUPPORTED", "e2_setup_response", "known_ran_functions", "ran_name"]


def _e2term_plmn(plmn: PlmnId) -> str:
    """``<mcc>_<mnc>`` as OSC e2term's ``translatePlmnId`` writes it: a 2-digit MNC becomes ``0xy``."""
    mnc = plmn.mnc if len(plmn.mnc) == 3 else "0" + plmn.mnc
    return f"{plmn.mcc}_{mnc}"


def _hex_id(value: int, nbits: int) -> str:
    # e2term prints the BIT STRING octets with the unused bits moved to the front: the right-aligned
    # value as 2 hex digits per octet
    return f"{value:0{2 * ((nbits + 7) // 8)}x}"


def ran_name(node: GlobalE2nodeId) -> str:
    """The RAN name OSC e2term gives an E2 node (``RIC-E2-TERMINATION/BuildRunName.h``).

    It is the node's key in e2mgr (``RAN:<name>``) and the MEID xApps address control requests to.

    Parameters
    ----------
    node : GlobalE2nodeId
        The ``GlobalE2node-ID`` from the E2 setup request.

    Returns
    -------
    str
        ``gnb_<mcc>_<mnc>_<gnbId hex>``; ``gnbd_..._<duId hex>`` for a gNB with only a DU id,
        ``gnbc_..._<cuupId hex>`` with only a CU-UP id; ``en_gnb_...``, ``ng_enB_macro_...``,
        ``enB_macro_...`` and similar for the other node kinds. A 2-digit MNC is written ``0xy``.
        The gNB id has 2 hex digits per octet of its BIT STRING (``gnb_001_001_00019b``).

    Notes
    -----
    3-digit MNCs are written in 3GPP digit order. (The 2023 e2term rewrite prints them as digit 3,
    digit 1, digit 2; public deployments use 2-digit MNCs, where both agree.)
    """
    if isinstance(node, E2nodeGnb):
        g = node.global_gnb_id
        prefix, suffix = "gnb_", ""
        if node.gnb_cu_up_id is not None and node.gnb_du_id is None:
            prefix, suffix = "gnbc_", f"_{node.gnb_cu_up_id:x}"
        elif node.gnb_du_id is not None and node.gnb_cu_up_id is None:
            prefix, suffix = "gnbd_", f"_{node.gnb_du_id:x}"
        return f"{prefix}{_e2term_plmn(g.plmn)}_{_hex_id(g.gnb_id, g.gnb_id_bits)}{suffix}"
    if isinstance(node, E2nodeEnGnb):
        g = node.global_en_gnb_id
        return f"en_gnb_{_e2term_plmn(g.plmn)}_{_hex_id(g.gnb_id, g.gnb_id_bits)}"
    if isinstance(node, E2nodeNgEnb):
        e = node.global_ng_enb_id
        nbits = {"macro": 20, "short-macro": 18, "long-macro": 21}.get(e.kind, 20)
        return f"ng_enB_{e.kind.replace('-', '')}_{_e2term_plmn(e.plmn)}_{_hex_id(e.enb_id, nbits)}"
    if isinstance(node, E2nodeEnb):
        e = node.global_enb_id
        nbits = {"macro": 20, "home": 28, "short-macro": 18, "long-macro": 21}[e.kind]
        return f"enB_{e.kind.replace('-', '')}_{_e2term_plmn(e.plmn)}_{_hex_id(e.enb_id, nbits)}"
    raise TypeError(f"not a GlobalE2node-ID: {type(node).__name__}")


NOT_SUPPORTED = Cause("ricService", "ran-function-not-supported")


def known_ran_functions(
    request: E2setupRequest | RICserviceUpdate,
    known_oids: Collection[str],
    accept: Callable[[RanFunction], bool] | None = None,
) -> tuple[tuple[RanFunctionIdItem, ...], tuple[RanFunctionIdCause, ...]]:
    """Split the RAN functions an E2 node offers into those the RIC knows and those it rejects.

    Vendor nodes advertise RAN function definitions no standard E2SM decodes (KPM v1, vendor KPM/RC
    variants); E2 setup must succeed anyway, accepting only the functions whose E2SM the RIC serves.

    Parameters
    ----------
    request : E2setupRequest or RICserviceUpdate
        The node's request (for a service update, the added and modified functions are checked).
    known_oids : collection of str
        E2SM OIDs the RIC serves, e.g. ``{"1.3.6.1.4.1.53148.1.2.2.2"}`` (KPM).
    accept : callable or None
        Optional further test of a function with a known OID, e.g. "its RAN function definition
        decodes with our E2SM codec"; it must not raise. A vendor variant that fails it is rejected.

    Returns
    -------
    accepted : tuple of RanFunctionIdItem
        Functions with a known OID (and passing ``accept``), first occurrence of each RAN function id.
    rejected : tuple of RanFunctionIdCause
        The others (unknown OID, refused by ``accept``, or a repeated RAN function id), cause
        ricService / ran-function-not-supported.
    """
    funcs = request.ran_functions if isinstance(request, E2setupRequest) else request.added + request.modified
    accepted: list[RanFunctionIdItem] = []
    rejected: list[RanFunctionIdCause] = []
    seen: set[int] = set()
    for f in funcs:
        if f.oid in known_oids and f.ran_function_id not in seen and (accept is None or accept(f)):
            accepted.append(RanFunctionIdItem(f.ran_function_id, f.revision))
        else:
            rejected.append(RanFunctionIdCause(f.ran_function_id, NOT_SUPPORTED))
        seen.add(f.ran_function_id)
    return tuple(accepted), tuple(rejected)


def e2_setup_response(
    request: E2setupRequest,
    global_ric_id: GlobalRicId,
    known_oids: Collection[str],
    accept: Callable[[RanFunction], bool] | None = None,
) -> E2setupResponse:
    """The E2 setup response a RIC sends: known RAN functions accepted, others rejected, every
    component configuration acknowledged with success.

    Parameters
    ----------
    request : E2setupRequest
        The node's setup request; its transaction id is echoed.
    global_ric_id : GlobalRicId
        The RIC's identity.
    known_oids : collection of str
        E2SM OIDs the RIC serves (see :func:`known_ran_functions`).
    accept : callable or None
        Optional further test per function (see :func:`known_ran_functions`).

    Returns
    -------
    E2setupResponse
        Ready for :func:`encode`.
    """
    accepted, rejected = known_ran_functions(request, known_oids, accept)
    acks = tuple(
        E2nodeComponentConfigAck(c.interface_type, c.component_id, "success") for c in request.component_configs
    )
    return E2setupResponse(
        transaction_id=request.transaction_id,
        global_ric_id=global_ric_id,
        accepted=accepted,
        rejected=rejected,
        component_config_acks=acks,
    )
