"""The production runtime: :class:`~dnt.ric.runtime.Runtime` over ricxappframe 3.2.2's ``RMRXapp``.

ricxappframe is imported when an :class:`RmrRuntime` is built, never at module import: its RMR binding
loads ``librmr_si.so`` (OSC base images) at import time. Tests without the library install the stub of
:mod:`dnt.ric.rmr_stub` first.

What ricxappframe 3.2.2 does wrong, and what this class does instead:

* ``RMRXapp.run``'s loop catches only ``queue.Empty``: one raising handler ends dispatch for good.
  Every RMR callback here is :meth:`RmrRuntime._rmr_entry`, which hands the message to the
  error-surviving :meth:`~dnt.ric.runtime.BaseRuntime.dispatch` and always frees the buffer.
* ``rmr_send`` cannot set MEID or sub_id and re-sends 100 times on any failure (even "no endpoint");
  ``rmr_alloc_msg`` skips ``sub_id``/``mtype`` 0 and empty payloads (``if sub_id:``); ``rmr_rts`` keeps the
  old payload when the new one is empty. We set the mbuf fields ourselves, re-send only on
  ``RMR_ERR_RETRY``, and raise :class:`~dnt.errors.TransportError` with the RMR state otherwise.
* ``stop()`` sleeps 10 s unconditionally (``xapp_shutdown``), polls its receive thread in 1 s steps and
  never joins the registration thread (``_appthread`` is ``Thread(...).start()``, i.e. None). We stop
  the dispatch loop, deregister (when enabled), then stop and join the receive thread ourselves.
* The default RMR port is 4562; OSC descriptors and services use 4560 (``RicConfig.rmr_port``).
* ``xapp_rest``'s server is replaced by :class:`dnt.ric.http.RicHttpServer` (reasons there), and the
  REST subscription client by :mod:`dnt.ric.subscription` (snake_case bug of ``NewSubscriber``).
* The config watcher (inotify ``MODIFY`` on ``CONFIG_FILE``) calls our handler at start and on each
  change; the handler validates, then swaps (:meth:`~dnt.ric.runtime.BaseRuntime.reload_config`).
  Kubernetes updates a mounted ConfigMap by swapping a symlink, which ``MODIFY`` on the file does not
  see; a changed ConfigMap therefore takes effect at the next pod start.
* Registration with appmgr stays ricxappframe's (a thread started when ``CONFIG_FILE`` exists). It
  crashes in its thread when the ``SERVICE_<NS>_<HOST>_HTTP_PORT`` variables are missing and treats a
  connection error as success; both only affect logs.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from dnt.e2.e2ap_ies import RicAction
from dnt.errors import TransportError
from dnt.ric.config import RicConfig
from dnt.ric.http import RicHttpServer
from dnt.ric.runtime import BaseRuntime, Message
from dnt.ric.sdl import MemoryStore, SdlStore, Store
from dnt.ric.subscription import ClientEndpoint, E2Directives, SubmgrClient, SubscriptionBook

__all__ = ["RmrRuntime"]

logger = logging.getLogger(__name__)


class RmrRuntime(BaseRuntime):
    """:class:`~dnt.ric.runtime.Runtime` on RMR (ricxappframe ``RMRXapp``), SDL, REST subscriptions.

    Parameters
    ----------
    cfg : RicConfig, optional
        Default: :meth:`RicConfig.from_env` (descriptor, RMR_SRC_ID, USE_FAKE_SDL, ...).
    store : Store, optional
        Default: :class:`~dnt.ric.sdl.SdlStore` on DBaaS, or :class:`~dnt.ric.sdl.MemoryStore` when
        ``cfg.use_fake_sdl``.
    deregister_on_stop : bool
        Tell appmgr on :meth:`stop` (only meaningful when ricxappframe registered: ``CONFIG_FILE`` set).

    Raises
    ------
    TransportError
        ricxappframe or ``librmr_si.so`` cannot be loaded, RMR cannot initialise, or the HTTP port is taken.
    """

    def __init__(self, cfg: RicConfig | None = None, *, store: Store | None = None,
                 deregister_on_stop: bool = True) -> None:
        cfg = cfg or RicConfig.from_env()
        if store is None:
            store = MemoryStore() if cfg.use_fake_sdl else SdlStore()
        super().__init__(store, name=cfg.xapp_name)
        self.cfg = cfg
        self._deregister = deregister_on_stop and cfg.config_file is not None
        self._local = threading.local()
        self._stopped = threading.Event()
        self._run_thread: threading.Thread | None = None
        self._xapp: Any = None
        try:
            with warnings.catch_warnings():  # its RNIB *_pb2 modules use protobuf APIs deprecated in 3.20
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ricxappframe\.")
                from ricxappframe.rmr import rmr
                from ricxappframe.rmr.rmrclib.rmrclib import state_to_status
                from ricxappframe.xapp_frame import RMRXapp
        except OSError as err:
            raise TransportError(f"cannot load the RMR library (librmr_si.so from the OSC base image; tests "
                                 f"install dnt.ric.rmr_stub first): {err}") from err
        self._rmr, self._state_name = rmr, state_to_status
        try:
            self._xapp = RMRXapp(self._rmr_entry, config_handler=self._on_config_file, rmr_port=cfg.rmr_port,
                                 rmr_wait_for_ready=cfg.rmr_wait_for_ready, use_fake_sdl=cfg.use_fake_sdl)
        except Exception as err:
            raise TransportError(f"RMR initialisation on port {cfg.rmr_port} failed: {err}") from err
        for mtype in self._handlers:
            self._xapp.register_callback(self._rmr_entry, mtype)
        try:
            self.http = RicHttpServer(cfg.http_host, cfg.http_port, ready=self.healthy,
                                      on_subscription_response=self._on_subscription_response,
                                      metrics=self.metrics, poll_interval_s=min(cfg.poll_interval_s, 0.5)).start()
        except OSError as err:
            self._stop_rmr()
            raise TransportError(f"cannot serve HTTP on {cfg.http_host}:{cfg.http_port}: {err}") from err
        try:
            sub = cfg.submgr
            endpoint = ClientEndpoint(cfg.client_host, sub.client_http_port or self.http.port,
                                      sub.client_rmr_port or cfg.rmr_port)
            directives = E2Directives(sub.e2_timeout_timer_s, sub.e2_retry_count, sub.rmr_routing_needed)
            self.subscriptions = SubmgrClient(sub.url, endpoint,
                                              SubscriptionBook(store, f"dnt.ric.{cfg.xapp_name}"),
                                              directives=directives, request_timeout_s=sub.request_timeout_s,
                                              response_timeout_s=sub.response_timeout_s)
        except Exception:
            self.http.stop()
            self._stop_rmr()
            raise

    @property
    def rmrxapp(self) -> Any:
        """The underlying ``RMRXapp`` (for its RNIB readers, e.g. ``GetNodeb``); do not dispatch through it."""
        return self._xapp

    # --- RMR in ------------------------------------------------------------------------------
    def _registered(self, mtype: int) -> None:
        if self._xapp is not None:
            self._xapp.register_callback(self._rmr_entry, mtype)

    def _to_message(self, summary: Mapping[str, Any]) -> Message:
        rmr = self._rmr
        meid_raw = summary.get(rmr.RMR_MS_MEID) or b""
        meid = meid_raw.rstrip(b"\0").decode("ascii", "replace") if isinstance(meid_raw, bytes) else str(meid_raw)
        xid = summary.get(rmr.RMR_MS_TRN_ID) or b""
        return Message(int(summary[rmr.RMR_MS_MSG_TYPE]), bytes(summary.get(rmr.RMR_MS_PAYLOAD) or b""),
                       meid or None, int(summary.get(rmr.RMR_MS_SUB_ID, -1)), bytes(xid).rstrip(b"\0"),
                       summary.get(rmr.RMR_MS_MSG_SOURCE) or None)

    def _rmr_entry(self, xapp: Any, summary: Mapping[str, Any], sbuf: Any) -> None:
        """Every RMRXapp callback: mbuf -> Message -> dispatch; frees the mbuf, never raises."""
        self._local.sbuf = sbuf
        try:
            try:
                msg = self._to_message(summary)
            except Exception as err:
                self.count("ric/dropped")
                self.count("ric/dropped/bad_message")
                logger.error("%s: dropped an RMR message with an unusable summary %r: %s", self.name, summary, err)
                return
            self._local.msg = msg
            self.dispatch(msg)
        finally:
            self._local.msg = None
            sbuf, self._local.sbuf = self._local.sbuf, None
            try:
                self._rmr.rmr_free_msg(sbuf)
            except Exception:
                logger.exception("%s: rmr_free_msg failed", self.name)

    # --- RMR out -----------------------------------------------------------------------------
    def _retry(self, call: Any, sbuf: Any, what: str) -> Any:
        rmr = self._rmr
        state = None
        for _ in range(self.cfg.send_retries):
            sbuf = call(sbuf)
            state = sbuf.contents.state
            if state == rmr.RMR_OK or state != rmr.RMR_ERR_RETRY:
                break
        if state != rmr.RMR_OK:
            return sbuf, f"RMR {what} failed: {self._state_name(state)} (state {state})"
        return sbuf, None

    def _fill(self, sbuf: Any, msg: Message) -> None:
        rmr = self._rmr
        rmr.set_payload_and_length(msg.payload, sbuf)
        contents = sbuf.contents
        contents.mtype = msg.mtype
        contents.sub_id = msg.sub_id
        if msg.meid:
            rmr.rmr_set_meid(sbuf, msg.meid.encode())
        if msg.xid:
            rmr.set_transaction_id(sbuf, msg.xid[:32].ljust(32, b"\0"))
        else:
            rmr.generate_and_set_transaction_id(sbuf)

    def _send(self, msg: Message) -> None:
        if self._stopped.is_set():
            raise TransportError(f"{self.name} is stopped; cannot send {msg.describe()}")
        rmr = self._rmr
        sbuf = rmr.rmr_alloc_msg(self._xapp._mrc, len(msg.payload))
        try:
            self._fill(sbuf, msg)
            sbuf, error = self._retry(lambda b: rmr.rmr_send_msg(self._xapp._mrc, b), sbuf, f"send of {msg.describe()}")
        finally:
            rmr.rmr_free_msg(sbuf)
        if error:
            raise TransportError(error)

    def _reply(self, request: Message, mtype: int, payload: bytes) -> None:
        sbuf = getattr(self._local, "sbuf", None)
        if sbuf is None or getattr(self._local, "msg", None) is not request:
            # the request's mbuf is gone (reply after the handler returned): route by type instead
            self._send(Message(mtype, payload, request.meid, request.sub_id, request.xid))
            return
        rmr = self._rmr
        rmr.set_payload_and_length(payload, sbuf)
        sbuf.contents.mtype = mtype
        sbuf, error = self._retry(lambda b: rmr.rmr_rts_msg(self._xapp._mrc, b), sbuf,
                                  f"return-to-sender of {request.describe()} as {mtype}")
        self._local.sbuf = sbuf  # RMR may hand back another buffer; the entry frees the last one
        if error:
            raise TransportError(error)

    # --- subscriptions -----------------------------------------------------------------------
    def _on_subscription_response(self, body: bytes) -> None:
        self.subscriptions.handle_notification(body)

    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe through submgr's REST API (see :class:`~dnt.ric.subscription.SubmgrClient`)."""
        return self.subscriptions.subscribe(node, ran_func, trigger, actions)

    def unsubscribe(self, sub_id: int) -> None:  # noqa: D102
        self.subscriptions.unsubscribe(sub_id)

    # --- config, health, lifecycle -----------------------------------------------------------
    def _on_config_file(self, xapp: Any, data: Any) -> None:
        self.reload_config(data)

    def _transport_healthy(self) -> bool:
        return not self._stopped.is_set() and self._xapp is not None and bool(self._xapp.healthcheck())

    def run(self) -> None:
        """Dispatch RMR messages (and config changes) in this thread until :meth:`stop`."""
        if not self._stopped.is_set():
            self._xapp.run(thread=False, rmr_timeout=self.cfg.poll_interval_s)

    def start(self) -> RmrRuntime:
        """:meth:`run` in a background thread; returns self."""
        if self._run_thread is None:
            self._run_thread = threading.Thread(target=self.run, name=f"{self.name}-dispatch", daemon=True)
            self._run_thread.start()
        return self

    def _stop_rmr(self) -> None:
        xapp = self._xapp
        xapp._keep_going = False
        xapp._keep_registration = False
        loop = xapp._rmr_loop
        loop._keep_going = False
        loop._thread.join(timeout=self.cfg.stop_timeout_s)
        if loop._thread.is_alive():
            logger.warning("%s: RMR receive thread still running after %.1f s; closing RMR anyway", self.name,
                           self.cfg.stop_timeout_s)
        self._rmr.rmr_close(loop.mrc)

    def stop(self) -> None:
        """Stop dispatch, deregister from appmgr (if registered), close RMR, HTTP and the store."""
        if self._stopped.is_set():
            return
        self._xapp._keep_going = False
        if self._run_thread is not None:
            self._run_thread.join(timeout=self.cfg.poll_interval_s + self.cfg.stop_timeout_s)
        if self._deregister:
            try:
                self._xapp.deregister()
            except Exception:
                logger.exception("%s: deregistration from appmgr failed", self.name)
        self._stopped.set()
        self._stop_rmr()
        self.http.stop()
        self._store.close()
