"""OSC RMR message type numbers: the only place in DNT-RIC where they are defined.

Source: ``ric-plt-lib-rmr: src/rmr/common/include/RIC_message_types.h``; the same numbers appear in
rtmgr's ``messagetypes`` list (``ric-plt-ric-dep: helm/rtmgr/templates/config.yaml``) and in the A1
mediator's ``pkg/rmr/rmr.go``. See ``shared/reference/oran-conventions.md`` §2.1.

Names are the OSC UPPER_SNAKE names, values are ints. :func:`name_of` maps a number back to its name,
:data:`MTYPE_BY_NAME` maps a name to its number, and :data:`MTYPE_BY_E2AP_MESSAGE` / :func:`mtype_of`
map an E2AP message (its ASN.1 type name, e.g. ``"RICsubscriptionRequest"``, or an instance of the
matching :mod:`dnt.e2.e2ap_types` class) to the RMR type it travels under.
"""

from __future__ import annotations

from typing import Final

# --- RMR route manager -------------------------------------------------------------------------
RMRRM_TABLE_DATA: Final = 20
RMRRM_REQ_TABLE: Final = 21
RMRRM_TABLE_STATE: Final = 22

# --- platform health, alarms, metrics ----------------------------------------------------------
RIC_HEALTH_CHECK_REQ: Final = 100
RIC_HEALTH_CHECK_RESP: Final = 101
RIC_ALARM: Final = 110
RIC_ALARM_QUERY: Final = 111
RIC_METRICS: Final = 120

# --- E2 termination <-> E2 manager -------------------------------------------------------------
RIC_SCTP_CONNECTION_FAILURE: Final = 1080
RIC_SCTP_CLEAR_ALL: Final = 1090
E2_TERM_INIT: Final = 1100
E2_TERM_KEEP_ALIVE_REQ: Final = 1101
E2_TERM_KEEP_ALIVE_RESP: Final = 1102

# --- E2AP global procedures --------------------------------------------------------------------
RIC_E2_SETUP_REQ: Final = 12001
RIC_E2_SETUP_RESP: Final = 12002
RIC_E2_SETUP_FAILURE: Final = 12003
RIC_E2_RESET_REQ: Final = 12004
RIC_E2_RESET_RESP: Final = 12005
# RIC_message_types.h defines RIC_ERROR_INDICATION as 10030, but rtmgr's messagetypes list (which is
# what routes are built from) uses 12007; we follow rtmgr.
RIC_ERROR_INDICATION: Final = 12007

# --- E2AP near-RT RIC functional procedures ----------------------------------------------------
RIC_SUB_REQ: Final = 12010
RIC_SUB_RESP: Final = 12011
RIC_SUB_FAILURE: Final = 12012
RIC_SUB_DEL_REQ: Final = 12020
RIC_SUB_DEL_RESP: Final = 12021
RIC_SUB_DEL_FAILURE: Final = 12022
RIC_SUB_DEL_REQUIRED: Final = 12023
RIC_SERVICE_UPDATE: Final = 12030
RIC_SERVICE_UPDATE_ACK: Final = 12031
RIC_SERVICE_UPDATE_FAILURE: Final = 12032
RIC_CONTROL_REQ: Final = 12040
RIC_CONTROL_ACK: Final = 12041
RIC_CONTROL_FAILURE: Final = 12042
RIC_INDICATION: Final = 12050
RIC_SERVICE_QUERY: Final = 12060
RIC_E2NODE_CONFIG_UPDATE: Final = 12070
RIC_E2NODE_CONFIG_UPDATE_ACK: Final = 12071
RIC_E2NODE_CONFIG_UPDATE_FAILURE: Final = 12072

# --- A1 ----------------------------------------------------------------------------------------
A1_POLICY_REQ: Final = 20010
A1_POLICY_RESP: Final = 20011
A1_POLICY_QUERY: Final = 20012
A1_EI_QUERY_ALL: Final = 20013
A1_EI_QUERY_ALL_RESP: Final = 20014
A1_EI_CREATE_JOB: Final = 20015
A1_EI_CREATE_JOB_RESP: Final = 20016
A1_EI_DATA_DELIVERY: Final = 20017

# --- OSC traffic-steering use case (custom types) ----------------------------------------------
TS_UE_LIST: Final = 30000
TS_QOE_PRED_REQ: Final = 30001
TS_QOE_PREDICTION: Final = 30002
TS_ANOMALY_UPDATE: Final = 30003
TS_ANOMALY_ACK: Final = 30004
MC_REPORT: Final = 30010

# --- DNT-RIC twin messages (application range 60000+, oran-conventions §2.1; payloads: schemas/proto) -----
DNT_TWIN_UPDATE: Final = 60100
"""htwin worker -> aggregator: a ``TwinUpdate`` (dnt.fl.messages)."""
DNT_GLOBAL_TWIN: Final = 60101
"""aggregator -> htwin workers (broadcast): a ``GlobalTwin`` after each aggregation."""

MTYPE_BY_NAME: Final[dict[str, int]] = {
    name: value
    for name, value in sorted(globals().items(), key=lambda kv: kv[0])
    if name.isupper() and isinstance(value, int) and not name.startswith("MTYPE_")
}
"""Every message type defined above, by OSC name."""

_NAME_BY_MTYPE: Final[dict[int, str]] = {value: name for name, value in MTYPE_BY_NAME.items()}

MTYPE_BY_E2AP_MESSAGE: Final[dict[str, int]] = {
    "E2setupRequest": RIC_E2_SETUP_REQ,
    "E2setupResponse": RIC_E2_SETUP_RESP,
    "E2setupFailure": RIC_E2_SETUP_FAILURE,
    "ResetRequest": RIC_E2_RESET_REQ,
    "ResetResponse": RIC_E2_RESET_RESP,
    "ErrorIndication": RIC_ERROR_INDICATION,
    "RICsubscriptionRequest": RIC_SUB_REQ,
    "RICsubscriptionResponse": RIC_SUB_RESP,
    "RICsubscriptionFailure": RIC_SUB_FAILURE,
    "RICsubscriptionDeleteRequest": RIC_SUB_DEL_REQ,
    "RICsubscriptionDeleteResponse": RIC_SUB_DEL_RESP,
    "RICsubscriptionDeleteFailure": RIC_SUB_DEL_FAILURE,
    "RICsubscriptionDeleteRequired": RIC_SUB_DEL_REQUIRED,
    "RICserviceUpdate": RIC_SERVICE_UPDATE,
    "RICserviceUpdateAcknowledge": RIC_SERVICE_UPDATE_ACK,
    "RICserviceUpdateFailure": RIC_SERVICE_UPDATE_FAILURE,
    "RICcontrolRequest": RIC_CONTROL_REQ,
    "RICcontrolAcknowledge": RIC_CONTROL_ACK,
    "RICcontrolFailure": RIC_CONTROL_FAILURE,
    "RICindication": RIC_INDICATION,
    "RICserviceQuery": RIC_SERVICE_QUERY,
    "E2nodeConfigurationUpdate": RIC_E2NODE_CONFIG_UPDATE,
    "E2nodeConfigurationUpdateAcknowledge": RIC_E2NODE_CONFIG_UPDATE_ACK,
    "E2nodeConfigurationUpdateFailure": RIC_E2NODE_CONFIG_UPDATE_FAILURE,
}
"""E2AP message (ASN.1 type name) -> the RMR type OSC uses for it. E2 connection update and E2 removal
have no OSC RMR type and are absent."""


def name_of(mtype: int) -> str:
    """Return the OSC name of an RMR message type.

    Parameters
    ----------
    mtype : int
        The RMR message type number.

    Returns
    -------
    str
        The UPPER_SNAKE name, or ``"UNKNOWN(<mtype>)"`` for a number not defined here (so that log
        lines never fail on a foreign type).
    """
    return _NAME_BY_MTYPE.get(mtype, f"UNKNOWN({mtype})")


def mtype_of(message: object) -> int:
    """Return the RMR message type an E2AP message travels under.

    Parameters
    ----------
    message : str or E2AP message
        The ASN.1 type name (``"RICindication"``) or an instance of a :mod:`dnt.e2.e2ap_types` message
        class (which carries it as ``E2AP_NAME``).

    Returns
    -------
    int
        The RMR message type.

    Raises
    ------
    KeyError
        The message has no OSC RMR type (E2 connection update, E2 removal) or is not an E2AP message.
    """
    name = message if isinstance(message, str) else getattr(message, "E2AP_NAME", type(message).__name__)
    try:
        return MTYPE_BY_E2AP_MESSAGE[name]
    except KeyError:
        raise KeyError(f"E2AP message {name!r} has no OSC RMR message type") from None


__all__ = ["MTYPE_BY_E2AP_MESSAGE", "MTYPE_BY_NAME", "mtype_of", "name_of", *MTYPE_BY_NAME]
