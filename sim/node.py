"""One simulated E2 node (gNB) as a state machine: E2AP bytes in, E2AP bytes out; no sockets, no timers.

The runner feeds it: :meth:`E2Node.connection_made` (→ E2 SETUP REQUEST), :meth:`E2Node.handle` for every
received PDU (→ responses), :meth:`E2Node.due` when :meth:`E2Node.next_due` has passed (→ RIC INDICATIONs),
and :meth:`E2Node.connection_lost`. Procedures (O-RAN E2AP v3.01 §8):

* **E2 setup** (§8.3.1): advertises E2SM-KPM (RAN function id 2) and E2SM-RC (id 3); the node serves
  subscriptions and controls only once the RIC has answered with E2 SETUP RESPONSE.
* **RIC subscription** (§8.2.1): KPM event trigger format 1 (reporting period), REPORT actions with action
  definition format 1 naming one cell (``cellGlobalID``) and its measurements; actions that name a foreign
  cell, unknown measurements or another style are not admitted (with a cause); none admitted → failure.
* **RIC indication** (§8.2.3): each period, one indication per admitted action (= per cell) with the
  values of the step being replayed; ``RICindicationSN`` counts per action (mod 65536). A node that falls
  more than a period behind skips the missed periods (counted) instead of bursting.
* **RIC subscription delete** (§8.2.2), **Reset** (§8.3.2: all subscriptions dropped; the slice policies,
  RAN configuration, are kept), **Error indication** (§8.3.3: sent for undecodable PDUs and PDUs the node
  does not expect in its state; received ones are counted and logged).
* **RIC control** (§8.2.4): E2SM-RC style 2 action 6 (slice PRB quota) changes the PRB policy of the
  targeted cells (see :func:`sim.topology.target_cells`) from the next report on. Failures carry a cause:
  unknown RAN function → ``ran-function-id-invalid``; undecodable E2SM-RC or an invalid quota →
  ``control-message-invalid``; unknown cell, PLMN or S-NSSAI → ``invalid-information-request``; another
  style/action → ``action-not-supported``.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dnt.e2 import e2ap, fastpath, kpm, rc
from dnt.e2.e2ap_ies import (
    Cause,
    ComponentIdNG,
    E2nodeComponentConfig,
    RanFunction,
    RicActionNotAdmitted,
    RicRequestId,
)
from dnt.e2.e2ap_types import (
    E2apMessage,
    E2setupFailure,
    E2setupRequest,
    E2setupResponse,
    ErrorIndication,
    ResetRequest,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICcontrolRequest,
    RICindication,
    RICsubscriptionDeleteFailure,
    RICsubscriptionDeleteRequest,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
)
from dnt.errors import ConfigError, DataError, DecodeError, EncodeError
from dnt.ran import SlicePolicy, slice_by_snssai
from sim.config import E2Config
from sim.measurements import MeasurementSource, MessageEncoder, supported_names
from sim.replay import ReplayClock
from sim.topology import Gnb, target_cells

__all__ = ["NodeState", "E2Node", "TIME_TO_WAIT_S"]

log = logging.getLogger(__name__)

TIME_TO_WAIT_S = {"v1s": 1.0, "v2s": 2.0, "v5s": 5.0, "v10s": 10.0, "v20s": 20.0, "v60s": 60.0}
_RAN_FUNCTION_REVISION = 1


@functools.lru_cache(maxsize=1)
def _ran_function_definitions() -> tuple[bytes, bytes]:
    """KPM and RC RAN function definitions (the same for every node: encoded once)."""
    kpm_def = kpm.encode_ran_function_definition(kpm.default_kpm_ran_function_definition(supported_names()))
    return kpm_def, rc.encode_ran_function_definition(rc.default_rc_ran_function_definition())


class NodeState(enum.Enum):
    DISCONNECTED = "disconnected"
    SETUP_PENDING = "setup-pending"
    CONNECTED = "connected"


def _req(value: str) -> Cause:
    return Cause("ricRequest", value)


@dataclass
class _Action:
    action_id: int
    square: int
    row: int
    cols: np.ndarray
    encoder: MessageEncoder
    sn: int = 0


@dataclass
class _Subscription:
    request_id: RicRequestId
    period_s: float
    actions: list[_Action]
    next_due: float
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    cols: np.ndarray | None = None  # shared by every action (the usual case): one fancy index per report


class E2Node:
    """The E2 procedures of one gNB (see the module docstring).

    Parameters
    ----------
    gnb : the node's identity and cells.
    source : per-step KPM values of every simulated cell (shared between nodes).
    clock : the replay clock (data step at a given time).
    cfg : RAN function ids, minimum reporting period, codec path.
    """

    def __init__(self, gnb: Gnb, source: MeasurementSource, clock: ReplayClock, cfg: E2Config | None = None) -> None:
        self.gnb = gnb
        self.source = source
        self.clock = clock
        self.cfg = cfg or E2Config()
        fast = self.cfg.codec == "fast"
        self._encode: Callable[[E2apMessage], bytes] = fastpath.encode if fast else e2ap.encode
        self._decode: Callable[[bytes], E2apMessage] = fastpath.decode if fast else e2ap.decode
        self._encode_indication: Callable[[RICindication], bytes] = fastpath.encode_indication if fast else e2ap.encode
        self.state = NodeState.DISCONNECTED
        self.counters: Counter[str] = Counter()
        self.retry_after_s: float | None = None
        self.accepted_functions: tuple[int, ...] = ()
        self._subs: dict[tuple[int, int, int], _Subscription] = {}
        self._transaction_id = 0
        self._rows = {c: source.model.row(c) for c in gnb.cells}
        self._ran_functions = self._build_ran_functions()
        self._handlers: dict[type, Callable[[E2apMessage, float], list[bytes]]] = {
            RICsubscriptionRequest: self._on_subscription,  # type: ignore[dict-item]
            RICsubscriptionDeleteRequest: self._on_subscription_delete,  # type: ignore[dict-item]
            RICcontrolRequest: self._on_control,  # type: ignore[dict-item]
            ResetRequest: self._on_reset,  # type: ignore[dict-item]
        }

    # -- association --------------------------------------------------------------------------------------
    def _build_ran_functions(self) -> tuple[RanFunction, ...]:
        kpm_def, rc_def = _ran_function_definitions()
        return (RanFunction(self.cfg.kpm_ran_function_id, kpm_def, _RAN_FUNCTION_REVISION, kpm.KPM_OID),
                RanFunction(self.cfg.rc_ran_function_id, rc_def, _RAN_FUNCTION_REVISION, rc.RC_OID))

    @property
    def n_subscriptions(self) -> int:
        return len(self._subs)

    @property
    def n_actions(self) -> int:
        return sum(len(s.actions) for s in self._subs.values())

    def connection_made(self, now: float) -> list[bytes]:
        """A new association: forget subscriptions, send E2 SETUP REQUEST."""
        self._subs.clear()
        self.state = NodeState.SETUP_PENDING
        self.retry_after_s = None
        self._transaction_id = (self._transaction_id + 1) % 256
        component = E2nodeComponentConfig("ng", ComponentIdNG("dnt-amf"), b"\x00", b"\x00")
        request = E2setupRequest(transaction_id=self._transaction_id, global_e2node_id=self.gnb.global_id,
                                 ran_functions=self._ran_functions, component_configs=(component,))
        self.counters["e2/setup_requests"] += 1
        return [self._encode(request)]

    def connection_lost(self) -> None:
        """The association is gone: subscriptions end with it."""
        self._subs.clear()
        self.state = NodeState.DISCONNECTED

    # -- received PDUs ------------------------------------------------------------------------------------
    def handle(self, data: bytes, now: float) -> list[bytes]:
        """Process one received PDU; return the PDUs to send."""
        try:
            msg = self._decode(data)
        except DecodeError as err:
            self.counters["e2/decode_errors"] += 1
            log.warning("%s: undecodable PDU (%d bytes): %s", self.gnb.ran_name, len(data), err)
            return self._error(Cause("protocol", "transfer-syntax-error"))
        kind = type(msg)
        if kind is E2setupResponse:
            return self._on_setup_response(msg)  # type: ignore[arg-type]
        if kind is E2setupFailure:
            return self._on_setup_failure(msg)  # type: ignore[arg-type]
        if kind is ErrorIndication:
            self.counters["e2/error_indications_received"] += 1
            log.warning("%s: error indication from the RIC: %s", self.gnb.ran_name, msg)
            return []
        handler = self._handlers.get(kind)
        if handler is None or self.state is not NodeState.CONNECTED:
            self.counters["e2/unexpected_pdus"] += 1
            log.warning("%s: unexpected %s in state %s", self.gnb.ran_name, kind.__name__, self.state.value)
            return self._error(Cause("protocol", "message-not-compatible-with-receiver-state"),
                               getattr(msg, "request_id", None), getattr(msg, "ran_function_id", None))
        try:
            return handler(msg, now)
        except Exception as err:  # the runtime boundary: log, count, answer, keep the association
            self.counters["e2/handler_errors"] += 1
            log.exception("%s: %s handler failed: %s", self.gnb.ran_name, kind.__name__, err)
            return self._error(Cause("misc", "unspecified"), getattr(msg, "request_id", None),
                               getattr(msg, "ran_function_id", None))

    def _error(self, cause: Cause, request_id: RicRequestId | None = None,
               ran_function_id: int | None = None) -> list[bytes]:
        self.counters["e2/error_indications_sent"] += 1
        return [self._encode(ErrorIndication(request_id=request_id, ran_function_id=ran_function_id, cause=cause))]

    def _on_setup_response(self, msg: E2setupResponse) -> list[bytes]:
        if self.state is not NodeState.SETUP_PENDING or msg.transaction_id != self._transaction_id:
            self.counters["e2/unexpected_pdus"] += 1
            return self._error(Cause("protocol", "message-not-compatible-with-receiver-state"))
        self.state = NodeState.CONNECTED
        self.accepted_functions = tuple(f.ran_function_id for f in msg.accepted)
        self.counters["e2/setups"] += 1
        if self.cfg.kpm_ran_function_id not in self.accepted_functions:
            log.warning("%s: the RIC did not accept KPM (RAN function %d): rejected %s", self.gnb.ran_name,
                        self.cfg.kpm_ran_function_id, msg.rejected)
        return []

    def _on_setup_failure(self, msg: E2setupFailure) -> list[bytes]:
        self.counters["e2/setup_failures"] += 1
        self.retry_after_s = TIME_TO_WAIT_S.get(msg.time_to_wait or "", None)
        log.warning("%s: E2 setup failed (%s/%s); retry after %s s", self.gnb.ran_name, msg.cause.group,
                    msg.cause.value, self.retry_after_s)
        self.state = NodeState.DISCONNECTED
        return []

    def _on_reset(self, msg: ResetRequest, now: float) -> list[bytes]:
        self._subs.clear()
        self.counters["e2/resets"] += 1
        log.info("%s: reset by the RIC (%s/%s)", self.gnb.ran_name, msg.cause.group, msg.cause.value)
        return [self._encode(ResetResponse(transaction_id=msg.transaction_id))]

    # -- subscriptions ------------------------------------------------------------------------------------
    def _on_subscription(self, msg: RICsubscriptionRequest, now: float) -> list[bytes]:
        rid, fid = msg.request_id, msg.ran_function_id

        def fail(cause: Cause) -> list[bytes]:
            self.counters["e2/subscriptions_failed"] += 1
            return [self._encode(RICsubscriptionFailure(request_id=rid, ran_function_id=fid, cause=cause))]

        if fid != self.cfg.kpm_ran_function_id:
            return fail(_req("action-not-supported" if fid == self.cfg.rc_ran_function_id
                             else "ran-function-id-invalid"))
        key = (rid.requestor_id, rid.instance_id, fid)
        if key in self._subs:
            return fail(_req("duplicate-ric-request-id"))
        try:
            period_ms = kpm.decode_event_trigger(msg.event_trigger).period_ms
        except DecodeError as err:
            log.warning("%s: subscription %s: bad event trigger: %s", self.gnb.ran_name, rid, err)
            return fail(_req("eventTriggerNotSupported"))
        if period_ms < self.cfg.min_report_period_ms:
            return fail(_req("eventTriggerNotSupported"))
        actions: list[_Action] = []
        refused: list[RicActionNotAdmitted] = []
        seen: set[int] = set()
        for a in msg.actions:
            cause = self._action_cause(a.action_id, a.action_type, a.definition, period_ms, seen)
            if isinstance(cause, Cause):
                refused.append(RicActionNotAdmitted(a.action_id, cause))
            else:
                actions.append(cause)
            seen.add(a.action_id)
        if not actions:
            return fail(refused[0].cause if refused else _req("action-not-supported"))
        sub = _Subscription(rid, period_ms / 1000.0, actions, now + period_ms / 1000.0,
                            rows=np.asarray([a.row for a in actions], dtype=np.intp))
        first = actions[0].cols
        if all(np.array_equal(a.cols, first) for a in actions):
            sub.cols = first
        self._subs[key] = sub
        self.counters["e2/subscriptions"] += 1
        return [self._encode(RICsubscriptionResponse(request_id=rid, ran_function_id=fid,
                                                     admitted=tuple(a.action_id for a in actions),
                                                     not_admitted=tuple(refused)))]

    def _action_cause(self, action_id: int, action_type: str, definition: bytes | None, period_ms: int,
                      seen: set[int]) -> Cause | _Action:
        """The admitted action, or the cause it is not admitted."""
        if action_id in seen:
            return _req("duplicate-action")
        if action_type != "report" or definition is None:
            return _req("action-not-supported")
        try:
            d = kpm.decode_action_definition(definition)
        except DecodeError:
            return _req("action-not-supported")
        if d.style_type != 1:
            return _req("action-not-supported")
        square = None
        if d.cell is not None and d.cell.plmn == self.gnb.plmn:
            square = self.gnb.cell_of_nci(d.cell.nr_cell_id)
        if square is None:  # node-level reports (no cellGlobalID) are outside this simulator
            return _req("invalid-information-request")
        if not d.meas_names or d.granul_period_ms > period_ms:
            return _req("invalid-information-request")
        try:
            cols = self.source.table.columns(d.meas_names)
        except KeyError:
            return _req("requested-information-unavailable")
        encoder = MessageEncoder(d.meas_names, d.granul_period_ms, fast=self.cfg.codec == "fast")
        return _Action(action_id, square, self._rows[square], cols, encoder)

    def _on_subscription_delete(self, msg: RICsubscriptionDeleteRequest, now: float) -> list[bytes]:
        rid, fid = msg.request_id, msg.ran_function_id
        if self._subs.pop((rid.requestor_id, rid.instance_id, fid), None) is None:
            self.counters["e2/subscription_deletes_failed"] += 1
            return [self._encode(RICsubscriptionDeleteFailure(request_id=rid, ran_function_id=fid,
                                                              cause=_req("request-id-unknown")))]
        self.counters["e2/subscription_deletes"] += 1
        return [self._encode(RICsubscriptionDeleteResponse(request_id=rid, ran_function_id=fid))]

    # -- reports ------------------------------------------------------------------------------------------
    def next_due(self) -> float | None:
        """Time of the next report, None without subscriptions (or before E2 setup completes)."""
        if self.state is not NodeState.CONNECTED or not self._subs:
            return None
        return min(s.next_due for s in self._subs.values())

    def due(self, now: float) -> list[bytes]:
        """RIC INDICATIONs of every subscription whose period has come (empty once a finite replay ended)."""
        if self.state is not NodeState.CONNECTED:
            return []
        step = self.clock.step_at(now)
        out: list[bytes] = []
        for sub in self._subs.values():
            if sub.next_due > now:
                continue
            late = now - sub.next_due
            if late >= sub.period_s:
                missed = int(late // sub.period_s)
                self.counters["e2/report_periods_skipped"] += missed
                sub.next_due += missed * sub.period_s
            sub.next_due += sub.period_s
            if step is not None:
                out += self._indications(sub, step)
        return out

    def _indications(self, sub: _Subscription, step: int) -> list[bytes]:
        values = self.source.values(step)
        header = self.source.header(step)
        rows = (values[sub.rows][:, sub.cols] if sub.cols is not None
                else [values[a.row, a.cols] for a in sub.actions])
        fid = self.cfg.kpm_ran_function_id
        encode = self._encode_indication
        out = []
        for a, vals in zip(sub.actions, rows, strict=True):
            msg = a.encoder.encode(vals.tolist())
            out.append(encode(RICindication(request_id=sub.request_id, ran_function_id=fid, action_id=a.action_id,
                                            sn=a.sn, header=header, message=msg)))
            a.sn = (a.sn + 1) & 0xFFFF
        self.counters["e2/indications_sent"] += len(out)
        return out

    # -- control ------------------------------------------------------------------------------------------
    def _slice_of(self, quota: rc.SlicePrbQuota) -> int:
        if quota.plmn != self.gnb.plmn:
            raise DataError(f"PLMN {quota.plmn.mcc}/{quota.plmn.mnc} is not this node's")
        return slice_by_snssai(quota.sst, quota.sd)

    def _on_control(self, msg: RICcontrolRequest, now: float) -> list[bytes]:
        rid, fid = msg.request_id, msg.ran_function_id

        def fail(cause: Cause, why: str) -> list[bytes]:
            self.counters["e2/controls_failed"] += 1
            log.warning("%s: control %s refused: %s", self.gnb.ran_name, rid, why)
            return [self._encode(RICcontrolFailure(request_id=rid, ran_function_id=fid,
                                                   call_process_id=msg.call_process_id, cause=cause))]

        if fid != self.cfg.rc_ran_function_id:
            return fail(_req("ran-function-id-invalid"), f"RAN function {fid} is not E2SM-RC")
        try:
            header = rc.decode_control_header(msg.header)
            quotas = rc.parse_slice_prb_quota(msg.message)
        except DecodeError as err:
            return fail(_req("control-message-invalid"), str(err))
        if (header.style_type, header.action_id) != (2, 6):
            return fail(_req("action-not-supported"), f"style {header.style_type} action {header.action_id}")
        cells = target_cells(self.gnb, header.ue_id)
        if cells is None:
            return fail(_req("invalid-information-request"), f"no cell of this node matches {header.ue_id}")
        model = self.source.model
        policies: dict[int, SlicePolicy] = {}
        try:
            changes = [(self._slice_of(q), q) for q in quotas]
        except DataError as err:
            return fail(_req("invalid-information-request"), str(err))
        try:  # all quotas of the message at once: only the resulting policy has to be valid
            for cell in cells:
                old = model.policy(cell)
                ratios = [list(old.min_ratio), list(old.max_ratio), list(old.dedicated_ratio)]
                for i, q in changes:
                    ratios[0][i], ratios[1][i], ratios[2][i] = (float(q.min_prb_ratio), float(q.max_prb_ratio),
                                                                float(q.dedicated_prb_ratio))
                policies[cell] = SlicePolicy(tuple(ratios[0]), tuple(ratios[1]), tuple(ratios[2]))
        except ConfigError as err:
            return fail(_req("control-message-invalid"), f"invalid quota: {err}")
        for cell, p in policies.items():
            model.apply_policy(cell, p)
        self.counters["e2/controls_applied"] += 1
        if msg.ack_request == "noAck":
            return []
        try:
            return [self._encode(RICcontrolAcknowledge(request_id=rid, ran_function_id=fid,
                                                       call_process_id=msg.call_process_id))]
        except EncodeError as err:  # pragma: no cover - echoes what was decoded
            log.error("%s: cannot encode the control acknowledge: %s", self.gnb.ran_name, err)
            return []
