"""RIC runtimes: one small interface for xApps, over ricxappframe (production) or in memory (tests).

- :mod:`dnt.ric.runtime`: :class:`Runtime` (what xApps use), :class:`Message`, :class:`BaseRuntime`
  (handler table, error-surviving dispatch, counters, validate-then-swap config reload).
- :mod:`dnt.ric.rmr_runtime`: :class:`RmrRuntime` on ricxappframe's ``RMRXapp`` (imported lazily).
- :mod:`dnt.ric.memory`: :class:`MemoryBus`, :class:`MemoryRuntime`, :class:`FakeE2` for unit tests.
- :mod:`dnt.ric.sdl`: :class:`Store`, :class:`SdlStore` (ricsdl on Redis), :class:`MemoryStore`.
- :mod:`dnt.ric.redis_server`: :class:`RedisServer` (a real redis-server child process).
- :mod:`dnt.ric.a1`: :class:`A1PolicyHandler` and the A1_POLICY_REQ/RESP contract.
- :mod:`dnt.ric.subscription`: submgr REST client and SDL-persisted subscription records.
- :mod:`dnt.ric.subscription_json`: submgr's JSON both ways (SubscriptionParams, SubscriptionResponse).
- :mod:`dnt.ric.http`: :class:`RicHttpServer` (health, subscription results, metrics).
- :mod:`dnt.ric.config`: :class:`RicConfig`; the only reader of platform env vars.
- :mod:`dnt.ric.app`: what a deployable's ``main`` does around ``wire`` (CLI, signals, run, exit code).
- :mod:`dnt.ric.rmr_stub`: test stand-in for ``librmr_si.so`` (not imported here).
"""

from dnt.ric.a1 import A1Policy, A1PolicyHandler, A1Request, encode_query, encode_response, parse_request
from dnt.ric.config import RicConfig, SubmgrConfig, parse_bool
from dnt.ric.http import RicHttpServer
from dnt.ric.memory import E2Subscription, FakeE2, MemoryBus, MemoryRuntime
from dnt.ric.redis_server import RedisServer, find_redis_server
from dnt.ric.rmr_runtime import RmrRuntime
from dnt.ric.runtime import (
    NO_SUB_ID,
    BaseRuntime,
    ConfigListener,
    ConfigParser,
    Envelope,
    Handler,
    Message,
    Runtime,
    stop_on_signals,
)
from dnt.ric.sdl import MemoryStore, SdlStore, Store
from dnt.ric.subscription import SubmgrClient, SubscriptionBook, SubscriptionError, SubscriptionRecord
from dnt.ric.subscription_json import (
    ClientEndpoint,
    E2Directives,
    SubscriptionRequest,
    notification_json,
    parse_notification,
    parse_subscription_params,
    subscription_params,
)

__all__ = [
    "NO_SUB_ID",
    "A1Policy",
    "A1PolicyHandler",
    "A1Request",
    "BaseRuntime",
    "ClientEndpoint",
    "ConfigListener",
    "ConfigParser",
    "E2Directives",
    "E2Subscription",
    "Envelope",
    "FakeE2",
    "Handler",
    "MemoryBus",
    "MemoryRuntime",
    "MemoryStore",
    "Message",
    "RedisServer",
    "RicConfig",
    "RicHttpServer",
    "RmrRuntime",
    "Runtime",
    "SdlStore",
    "Store",
    "SubmgrClient",
    "SubmgrConfig",
    "SubscriptionBook",
    "SubscriptionError",
    "SubscriptionRecord",
    "SubscriptionRequest",
    "encode_query",
    "encode_response",
    "find_redis_server",
    "notification_json",
    "parse_bool",
    "parse_notification",
    "parse_subscription_params",
    "parse_request",
    "stop_on_signals",
    "subscription_params",
]
