"""A1 policies over RMR: the A1 mediator's A1_POLICY_REQ in, A1_POLICY_RESP out (oran-conventions.md §4.3).

What the OSC A1 mediator (Go, K release) actually sends on A1_POLICY_REQ (20010, RMR sub_id = policy
type id): ``{"operation": "CREATE"|"UPDATE"|"DELETE", "policy_type_id": "20008", "policy_instance_id":
"...", "payload": "<the instance JSON as a string>"}`` (``""`` for DELETE). The documented contract uses
an int type id and an object payload; both forms are accepted here.

What it requires back on A1_POLICY_RESP (20011): ``policy_type_id`` as a JSON **number** (the mediator
type-asserts float64 and would fail on a string), ``policy_instance_id``, ``handler_id`` and ``status``
as strings, ``status`` one of ``OK`` / ``ERROR`` / ``DELETED``. We add ``reason`` on ERROR; the mediator
decodes into a map and ignores unknown keys. Replies go back by RMR return-to-sender.

:class:`A1PolicyHandler` validates CREATE/UPDATE bodies against the policy type's ``create_schema``
(JSON Schema draft-07, :mod:`jsonschema`), calls the application's ``on_policy`` and answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema

from dnt.e2.mtypes import A1_POLICY_QUERY, A1_POLICY_REQ, A1_POLICY_RESP
from dnt.errors import ConfigError, DecodeError, PolicyError
from dnt.ric.runtime import Message, Runtime

__all__ = ["A1Operation", "A1Status", "A1Request", "A1Policy", "A1PolicyHandler", "parse_request",
           "encode_response", "encode_query"]

logger = logging.getLogger(__name__)

A1Operation = Literal["CREATE", "UPDATE", "DELETE"]
A1Status = Literal["OK", "ERROR", "DELETED"]
_OPERATIONS = ("CREATE", "UPDATE", "DELETE")


@dataclass(frozen=True)
class A1Request:
    """An A1_POLICY_REQ with its ids normalised (``payload`` still raw: str, object or None)."""

    operation: str
    policy_type_id: int
    policy_instance_id: str
    payload: Any


@dataclass(frozen=True)
class A1Policy:
    """A validated policy event handed to the application.

    Parameters
    ----------
    operation : {"CREATE", "UPDATE", "DELETE"}
    policy_type_id : int
    policy_instance_id : str
    body : dict or None
        The instance body (validated against the type's schema); None for DELETE.
    """

    operation: A1Operation
    policy_type_id: int
    policy_instance_id: str
    body: dict[str, Any] | None


def _type_id(value: Any) -> int:
    if isinstance(value, bool):
        raise PolicyError(f"policy_type_id must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise PolicyError(f"policy_type_id must be an integer or a string of digits, got {value!r}")


def parse_request(payload: bytes) -> A1Request:
    """Decode an A1_POLICY_REQ payload, accepting str or int type ids and str or object bodies.

    Raises
    ------
    DecodeError
        The payload is not a JSON object.
    PolicyError
        The type or instance id is missing or mistyped (the message names it). A missing or unknown
        ``operation`` is left to the handler, which can still answer ERROR for these ids.
    """
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise DecodeError(f"A1_POLICY_REQ payload is not JSON: {err}") from err
    if not isinstance(obj, dict):
        raise DecodeError(f"A1_POLICY_REQ payload must be a JSON object, got {type(obj).__name__}")
    missing = [k for k in ("policy_type_id", "policy_instance_id") if k not in obj]
    if missing:
        raise PolicyError(f"A1_POLICY_REQ lacks {missing}")
    instance = obj["policy_instance_id"]
    if isinstance(instance, bool) or not isinstance(instance, str | int) or instance == "":
        raise PolicyError(f"policy_instance_id must be a non-empty string, got {instance!r}")
    return A1Request(str(obj.get("operation", "")).upper(), _type_id(obj["policy_type_id"]), str(instance),
                     obj.get("payload"))


def encode_response(policy_type_id: int, policy_instance_id: str, handler_id: str, status: A1Status,
                    reason: str | None = None) -> bytes:
    """The A1_POLICY_RESP payload the mediator accepts (int type id; ``reason`` only with ERROR)."""
    body: dict[str, Any] = {"policy_type_id": int(policy_type_id), "policy_instance_id": str(policy_instance_id),
                            "handler_id": str(handler_id), "status": status}
    if reason is not None:
        body["reason"] = reason
    return json.dumps(body).encode()


def encode_query(policy_type_id: int) -> bytes:
    """An A1_POLICY_QUERY payload: the mediator answers with one CREATE per existing instance."""
    return json.dumps({"policy_type_id": int(policy_type_id)}).encode()


def _schema_of(type_id: int, spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept a policy type body (``{name, description, policy_type_id, create_schema}``) or a bare schema."""
    schema = spec.get("create_schema", spec) if isinstance(spec, Mapping) else spec
    if not isinstance(schema, Mapping):
        raise ConfigError(f"policy type {type_id}: create_schema must be a JSON object")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        raise ConfigError(f"policy type {type_id}: invalid JSON Schema: {err.message}") from err
    return schema


class A1PolicyHandler:
    """The A1_POLICY_REQ handler xApps register: validate, apply, answer.

    Parameters
    ----------
    schemas_by_type_id : mapping of int to dict
        Policy type id -> its policy type body (with ``create_schema``) or the bare JSON Schema.
    on_policy : callable
        ``on_policy(policy: A1Policy, rt) -> None``. Raise :class:`~dnt.errors.PolicyError` to reject
        (answered ERROR with the message as ``reason``); any other exception is also answered ERROR
        and then re-raised, so the runtime logs and counts it.
    handler_id : str, optional
        The ``handler_id`` of replies; default the runtime's name.

    Notes
    -----
    Counters: ``a1/accepted``, ``a1/deleted``, ``a1/rejected``. Current policies are kept in
    :attr:`policies`; after a restart, :meth:`query` asks the mediator to re-send them.
    """

    def __init__(self, schemas_by_type_id: Mapping[int, Mapping[str, Any]],
                 on_policy: Callable[[A1Policy, Runtime], None], *, handler_id: str | None = None) -> None:
        self._validators = {int(t): jsonschema.Draft7Validator(_schema_of(int(t), s))
                            for t, s in schemas_by_type_id.items()}
        self.on_policy = on_policy
        self.handler_id = handler_id
        self.policies: dict[tuple[int, str], dict[str, Any]] = {}

    @property
    def policy_type_ids(self) -> list[int]:
        """The policy types this handler serves (list them under ``policies`` in the descriptor)."""
        return sorted(self._validators)

    def register(self, rt: Runtime) -> None:
        """Handle A1_POLICY_REQ on ``rt``."""
        rt.on(A1_POLICY_REQ, self)

    def query(self, rt: Runtime) -> None:
        """Send one A1_POLICY_QUERY per served type (routed to the A1 mediator by the platform route).

        Sent without a sub_id, as OSC xApps do (rtmgr's platform route for 20012 has sub_id -1).
        """
        for type_id in self.policy_type_ids:
            rt.send(A1_POLICY_QUERY, encode_query(type_id))

    def _body(self, req: A1Request) -> dict[str, Any]:
        raw = req.payload
        if isinstance(raw, str | bytes):
            try:
                raw = json.loads(raw)
            except ValueError as err:
                raise PolicyError(f"payload is not JSON: {err}") from err
        if not isinstance(raw, dict):
            raise PolicyError(f"payload must be a JSON object, got {type(raw).__name__}")
        error = jsonschema.exceptions.best_match(self._validators[req.policy_type_id].iter_errors(raw))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise PolicyError(f"payload violates the schema of policy type {req.policy_type_id} at {where}: "
                              f"{error.message}")
        return raw

    def __call__(self, msg: Message, rt: Runtime) -> None:
        """Handle one A1_POLICY_REQ (the runtime calls this)."""
        handler_id = self.handler_id or getattr(rt, "name", "xapp")
        req = parse_request(msg.payload)  # undecodable: nothing to answer to; the runtime drops it

        def answer(status: A1Status, reason: str | None = None) -> None:
            rt.reply(msg, A1_POLICY_RESP, encode_response(req.policy_type_id, req.policy_instance_id, handler_id,
                                                          status, reason))

        try:
            if req.operation not in _OPERATIONS:
                raise PolicyError(f"operation {req.operation!r} is not one of {list(_OPERATIONS)}")
            if req.policy_type_id not in self._validators:
                raise PolicyError(f"policy type {req.policy_type_id} is not handled here "
                                  f"(known: {self.policy_type_ids})")
            body = None if req.operation == "DELETE" else self._body(req)
            self.on_policy(A1Policy(req.operation, req.policy_type_id, req.policy_instance_id, body),  # type: ignore[arg-type]
                           rt)
        except PolicyError as err:
            rt.count("a1/rejected")
            logger.warning("A1 policy %s/%s %s rejected: %s", req.policy_type_id, req.policy_instance_id,
                           req.operation, err)
            answer("ERROR", str(err))
            return
        except Exception as err:
            rt.count("a1/rejected")
            answer("ERROR", f"internal error: {type(err).__name__}: {err}")
            raise
        key = (req.policy_type_id, req.policy_instance_id)
        if req.operation == "DELETE":
            self.policies.pop(key, None)
            rt.count("a1/deleted")
            answer("DELETED")
        else:
            self.policies[key] = body  # type: ignore[assignment]
            rt.count("a1/accepted")
            answer("OK")

