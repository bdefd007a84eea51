"""A client of the near-RT RIC A1 mediator's northbound REST API (A1-P v2), and A1 policy type checks.

API (``ric-plt-a1: api/swagger.yaml``; oran-conventions.md §4.1–4.2), under ``<base>/A1-P/v2``::

    GET    /policytypes                           -> 200 [ids]
    GET    /policytypes/{t}                       -> 200 {name, description, policy_type_id, create_schema}
    PUT    /policytypes/{t}                       -> 201; 400 when it exists (no replace) or is malformed
    DELETE /policytypes/{t}                       -> 204; 400 while instances exist
    GET    /policytypes/{t}/policies              -> 200 [instance ids]
    GET    /policytypes/{t}/policies/{p}          -> 200 the instance
    PUT    /policytypes/{t}/policies/{p}          -> 202; 400 invalid for create_schema; 404 unknown type
    DELETE /policytypes/{t}/policies/{p}          -> 202
    GET    /policytypes/{t}/policies/{p}/status   -> 200 {enforceStatus, ...}

The semantics match :func:`dnt.twin.registry.a1_put_policy_type` / :func:`~dnt.twin.registry.a1_put_policy`
(a refused type PUT is fine when the mediator holds the same ``create_schema``); this module does not
import ``dnt.twin``, whose package import loads torch (about 2 s) for what is one HTTP request here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dnt.errors import PolicyError, TransportError

__all__ = ["A1Client", "A1_PREFIX", "TYPE_FIELDS", "check_policy_type", "check_policy_types", "http_call"]

A1_PREFIX = "/A1-P/v2"
TYPE_FIELDS = ("name", "description", "policy_type_id", "create_schema")


def http_call(method: str, url: str, data: bytes | None = None, ctype: str = "application/json",
              timeout_s: float = 10.0) -> tuple[int, bytes]:
    """One HTTP request: ``(status, body)``; an HTTP error status is returned, not raised.

    Raises
    ------
    TransportError
        the server cannot be reached (refused, DNS, timeout) or the URL is malformed.
    """
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (a URL the operator gave)
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise TransportError(f"{url} unreachable: {getattr(err, 'reason', err)}") from err


def check_policy_type(path: str | Path) -> list[str]:
    """Errors of an A1 policy type file (``schemas/a1/*.json``); empty when the mediator would accept it.

    The body must be exactly ``{name, description, policy_type_id, create_schema}`` (A1-P v2 swagger:
    ``additionalProperties: false``), the id an integer in 1..2147483647 and ``create_schema`` a valid
    JSON Schema draft-07.
    """
    import jsonschema

    path = Path(path)
    try:
        body = json.loads(path.read_text())
    except OSError as err:
        return [f"cannot read: {err.strerror or err}"]
    except ValueError as err:
        return [f"not JSON: {err}"]
    if not isinstance(body, dict):
        return [f"(root): a policy type is a JSON object, got {type(body).__name__}"]
    errors = []
    missing = [k for k in TYPE_FIELDS if k not in body]
    if missing:
        errors.append(f"missing {', '.join(missing)}")
    extra = sorted(set(body) - set(TYPE_FIELDS))
    if extra:
        errors.append(f"unexpected {', '.join(extra)} (the A1 mediator accepts only the four fields)")
    tid = body.get("policy_type_id")
    if "policy_type_id" in body and (isinstance(tid, bool) or not isinstance(tid, int) or not 1 <= tid <= 2**31 - 1):
        errors.append(f"policy_type_id: {tid!r} must be an integer in 1..2147483647")
    for key in ("name", "description"):
        if key in body and (not isinstance(body[key], str) or not body[key]):
            errors.append(f"{key}: must be a non-empty string")
    schema = body.get("create_schema")
    if "create_schema" in body:
        if not isinstance(schema, dict):
            errors.append("create_schema: must be a JSON Schema object")
        else:
            declared = schema.get("$schema")
            if declared is not None and "draft-07" not in str(declared):
                errors.append(f"create_schema.$schema: {declared!r} is not JSON Schema draft-07")
            try:
                jsonschema.Draft7Validator.check_schema(schema)
            except jsonschema.SchemaError as err:
                where = "/".join(str(p) for p in err.absolute_path) or "(root)"
                errors.append(f"create_schema at {where}: not a valid draft-07 schema: {err.message}")
    return errors


def check_policy_types(folder: str | Path) -> dict[str, list[str]]:
    """:func:`check_policy_type` of every ``*.json`` in ``folder``, by file name; ids must be unique."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        return {str(folder): ["no policy types (*.json) found"]}
    out: dict[str, list[str]] = {}
    seen: dict[int, str] = {}
    for f in files:
        errors = check_policy_type(f)
        if not errors:
            tid = json.loads(f.read_text())["policy_type_id"]
            if tid in seen:
                errors.append(f"policy_type_id {tid} is also used by {seen[tid]}")
            seen[tid] = f.name
        out[f.name] = errors
    return out


class A1Client:
    """The A1-P v2 API of one mediator.

    Parameters
    ----------
    url : the mediator's base URL: ``http://service-ricplt-a1mediator-http.ricplt:10000``, a port-forward,
        or Kong's ``http://<ingress>:32080/a1mediator``; a trailing ``/A1-P/v2`` is accepted.
    timeout_s : per request.

    Every method raises :class:`~dnt.errors.TransportError` when the mediator cannot be reached or
    answers 503 (its database), and :class:`~dnt.errors.PolicyError` naming the status and the
    mediator's reason when it refuses.
    """

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        base = url.rstrip("/")
        self.base = base[: -len(A1_PREFIX)] if base.endswith(A1_PREFIX) else base
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = self.base + A1_PREFIX + path
        code, raw = http_call(method, url, None if body is None else json.dumps(body).encode(),
                              timeout_s=self.timeout_s)
        try:
            decoded = json.loads(raw) if raw.strip() else None
        except ValueError:
            decoded = raw.decode(errors="replace").strip()
        if code == 503:
            raise TransportError(f"A1 mediator {url}: 503 (its database is unavailable; retry)")
        return code, decoded

    @staticmethod
    def _refused(what: str, code: int, body: Any) -> PolicyError:
        detail = (body.get("error") or body.get("detail") or json.dumps(body)) if isinstance(body, dict) else body
        return PolicyError(f"{what}: A1 mediator answered {code}" + (f": {str(detail)[:300]}" if detail else ""))

    def _expect(self, what: str, method: str, path: str, ok: tuple[int, ...], body: Any = None) -> Any:
        code, answer = self._call(method, path, body)
        if code not in ok:
            raise self._refused(what, code, answer)
        return answer

    # -- types --------------------------------------------------------------------------------------------
    def types(self) -> list[int]:
        """The policy type ids."""
        return list(self._expect("list policy types", "GET", "/policytypes", (200,)) or [])

    def get_type(self, type_id: int) -> dict[str, Any]:
        """A policy type body."""
        return dict(self._expect(f"policy type {type_id}", "GET", f"/policytypes/{int(type_id)}", (200,)))

    def create_type(self, body: dict[str, Any]) -> bool:
        """Create a type; False when the mediator already holds one with the same ``create_schema``.

        Raises
        ------
        PolicyError
            refused, and no identical type exists (A1-P v2 cannot replace a type: delete it first).
        """
        tid = int(body["policy_type_id"])
        code, answer = self._call("PUT", f"/policytypes/{tid}", body)
        if code in (200, 201):
            return True
        existing_code, existing = self._call("GET", f"/policytypes/{tid}")
        if existing_code == 200 and isinstance(existing, dict) and \
                existing.get("create_schema") == body.get("create_schema"):
            return False
        hint = " (a different type with this id exists: delete its instances and the type first)" \
            if existing_code == 200 else ""
        raise self._refused(f"policy type {tid} refused{hint}", code, answer)

    def delete_type(self, type_id: int) -> None:
        """Delete a type (refused while it has instances)."""
        self._expect(f"delete policy type {type_id}", "DELETE", f"/policytypes/{int(type_id)}", (200, 204))

    # -- instances ----------------------------------------------------------------------------------------
    def instances(self, type_id: int) -> list[str]:
        """The instance ids of a type."""
        path = f"/policytypes/{int(type_id)}/policies"
        return [str(i) for i in self._expect(f"instances of policy type {type_id}", "GET", path, (200,)) or []]

    def get(self, type_id: int, instance_id: str) -> Any:
        """An instance body."""
        path = f"/policytypes/{int(type_id)}/policies/{instance_id}"
        return self._expect(f"policy {type_id}/{instance_id}", "GET", path, (200,))

    def status(self, type_id: int, instance_id: str) -> Any:
        """An instance's status (``enforceStatus`` / ``instance_status``)."""
        path = f"/policytypes/{int(type_id)}/policies/{instance_id}/status"
        return self._expect(f"status of policy {type_id}/{instance_id}", "GET", path, (200,))

    def put(self, type_id: int, instance_id: str, body: dict[str, Any]) -> int:
        """Create or update an instance; the mediator's status (202)."""
        path = f"/policytypes/{int(type_id)}/policies/{instance_id}"
        code, answer = self._call("PUT", path, body)
        if code not in (200, 201, 202):
            raise self._refused(f"policy {type_id}/{instance_id} refused", code, answer)
        return code

    def delete(self, type_id: int, instance_id: str) -> None:
        """Delete an instance."""
        path = f"/policytypes/{int(type_id)}/policies/{instance_id}"
        self._expect(f"delete policy {type_id}/{instance_id}", "DELETE", path, (200, 202, 204))
