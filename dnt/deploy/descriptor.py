"""OSC xApp descriptors (``xapps/<name>/descriptor/config-file.json``): validation and the code they describe.

The descriptor is what the OSC onboarder (``dms_cli onboard``) turns into a Helm chart and what appmgr and
rtmgr read to route RMR messages (oran-conventions.md §1, §2.2). Three things can go wrong, and each has a
check here:

* **the onboarder rejects it.** :func:`validate_descriptor` validates against the schema the onboarder
  enforces (vendored in ``schemas/osc/xapp-descriptor.schema.json`` from ric-plt-appmgr's
  ``xapp_schema.py``), with the controls schema beside the descriptor (``schema.json``) substituted for
  ``properties.controls`` as ``api/onboard.py`` does, plus the onboarder's procedural checks (``name`` or
  ``xapp_name``, ``version``). Every error names its JSON path and what to change (integers for ports
  and probe delays, an array ``command``, txMessages/rxMessages/policies together, a dotted registry).
* **routing silently differs from the descriptor.** A top-level legacy ``rmr`` section takes precedence
  over ``messaging.ports`` in appmgr (``pkg/cm/cm.go GetRtmData``); one that differs is an error.
* **the descriptor lies about the code.** :func:`derive_messages` (:mod:`dnt.deploy.derive`, re-exported
  here) runs the xApp's own ``wire(rt, cfg)`` on a recording runtime and reads its sends from the source,
  so a test can compare them with the descriptor's rxMessages / txMessages / policies;
  :mod:`dnt.deploy.render` regenerates the descriptors from the code.

DNT-RIC conventions on top (``conventions=True``): ports ``http`` 8080, ``rmrdata`` 4560 (the one with the
message lists), ``rmrroute`` 4561; httpGet probes on ``/ric/v1/health/alive`` and ``/ric/v1/health/ready``
at the http port; message names that :mod:`dnt.e2.mtypes` defines; no legacy ``rmr`` section.

Message names and rtmgr: rtmgr turns names into numbers with the Go xapp-frame's ``RICMessageTypes`` map
(``ric-plt-rtmgr: pkg/rpe/rpe.go addRoute``), built from ``RIC_message_types.h`` and extended at start
from ``messaging.mtypes`` (``[{name, id}]``) of rtmgr's *own* config file (``ric-plt-xapp-frame:
pkg/xapp/config.go``; ``/cfg/rtmgr-config.yaml`` from configmap ``configmap-ricplt-rtmgr-rtmgrcfg``). An
unknown name is not an error there: the Go map yields 0 and the route is generated for type 0. Our
custom types (:data:`CUSTOM_MTYPES`: DNT_TWIN_UPDATE 60100, DNT_GLOBAL_TWIN 60101) must therefore be
added to rtmgr's config before the xApps are deployed (:func:`rtmgr_mtypes` gives the entries).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from dnt.deploy.derive import RecordingRuntime, derive_messages, load_app
from dnt.e2 import mtypes as mt
from dnt.errors import ConfigError

__all__ = [
    "ENFORCED_SCHEMA",
    "DESCRIPTOR_DIR",
    "CUSTOM_MTYPES",
    "RMR_DATA_PORT",
    "RMR_ROUTE_PORT",
    "HTTP_PORT",
    "ALIVE_PATH",
    "READY_PATH",
    "RecordingRuntime",
    "enforced_schema",
    "validate_descriptor",
    "validate_all",
    "descriptor_messages",
    "derive_messages",
    "load_app",
    "rtmgr_mtypes",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
ENFORCED_SCHEMA = REPO_ROOT / "schemas" / "osc" / "xapp-descriptor.schema.json"
"""The vendored schema of ric-plt-appmgr's ``xapp_schema.py`` (what ``dms_cli onboard`` enforces)."""
DESCRIPTOR_DIR = "descriptor"
"""Where an xApp's descriptor lives: ``xapps/<name>/descriptor/{config-file.json,schema.json}``."""

RMR_DATA_PORT = 4560
RMR_ROUTE_PORT = 4561
HTTP_PORT = 8080
ALIVE_PATH = "/ric/v1/health/alive"
READY_PATH = "/ric/v1/health/ready"

CUSTOM_MTYPES: dict[str, int] = {n: v for n, v in mt.MTYPE_BY_NAME.items() if v >= 60000}
"""Our own message types (application range 60000+): unknown to rtmgr until added to its config."""

_LEGACY_RMR_KEYS = ("txMessages", "rxMessages", "policies")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_JSON_TYPE = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
              float: "a number", type(None): "null"}
_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object", "string": "a string",
            "number": "a number", "boolean": "a boolean"}


# --- validation ----------------------------------------------------------------------------------------
def enforced_schema(controls_schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The onboarder's schema, with ``properties.controls`` replaced by ``controls_schema`` when given.

    Raises
    ------
    ConfigError
        The vendored schema or the controls schema is not a valid draft-07 schema.
    """
    schema: dict[str, Any] = json.loads(ENFORCED_SCHEMA.read_text())
    if controls_schema is not None:
        schema = copy.deepcopy(schema)
        schema["properties"]["controls"] = dict(controls_schema)
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        where = _json_path(err.absolute_path) or "(root)"
        raise ConfigError(f"controls schema is not a valid draft-07 JSON Schema at {where}: {err.message}") from err
    return schema


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _type_name(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _explain(err: jsonschema.ValidationError) -> str:
    """One schema error as ``<json path>: <what is wrong>; <what the onboarder needs / what to do>``."""
    path = _json_path(err.absolute_path) or "(root)"
    value, kind = err.instance, err.validator
    if kind == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else "/".join(err.validator_value)
        msg = f"{path}: {value!r} is {_type_name(value)}; the OSC appmgr schema needs {_ARTICLE.get(want, want)}"
        if path.endswith("command") or path.endswith("args"):
            msg += ' (write it as an array of strings, e.g. ["python", "app.py"])'
        elif path == "metrics":
            msg += " (the onboarder declares metrics as an object: the documented array form is rejected)"
        elif want == "integer" and isinstance(value, str):
            msg += " (write the number without quotes)"
        return msg
    if kind == "dependencies":
        present = [k for k in _LEGACY_RMR_KEYS if k in value]
        missing = [k for k in _LEGACY_RMR_KEYS if k not in value]
        return (f"{path}: has {', '.join(present)} but no {', '.join(missing)}; the OSC appmgr schema requires "
                f"txMessages, rxMessages and policies together (add the missing ones, e.g. \"policies\": [] when "
                f"the xApp handles no A1 policy type)")
    if kind == "pattern" and path.endswith("image.registry"):
        return (f"{path}: {value!r} is not a registry the onboarder accepts: it needs a dotted host name or an "
                f"IPv4 address with an optional :port ('localhost:5000' and 'docker.io/org' are rejected), "
                f"e.g. 'registry.example.org:5000'")
    if kind == "pattern" and path == "version":
        return f"{path}: {value!r} is not a SemVer 2.0 version; use MAJOR.MINOR.PATCH, e.g. '0.1.0'"
    if kind == "required" and "__empty_control_section__" in err.validator_value:
        return ("controls: the descriptor has a controls section but no controls schema was given; put the "
                "controls schema in schema.json beside config-file.json (dms_cli onboard "
                "--shcema_file_path=schema.json)")
    if kind == "required":
        missing = [k for k in err.validator_value if isinstance(value, dict) and k not in value]
        what = ", ".join(repr(k) for k in missing) or err.message
        return f"{path}: missing {what}; the OSC appmgr schema requires it"
    if kind == "oneOf" and path.endswith("Probe"):
        return (f"{path}: needs exactly one of httpGet or exec, together with initialDelaySeconds and "
                f"periodSeconds (integers)")
    return f"{path}: {err.message}"


def _ports(desc: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    """``(index, port)`` of the well-formed entries of ``messaging.ports`` (malformed ones: schema errors)."""
    messaging = desc.get("messaging")
    ports = messaging.get("ports") if isinstance(messaging, Mapping) else None
    return [(i, p) for i, p in enumerate(ports) if isinstance(p, Mapping)] if isinstance(ports, list) else []


def _names(value: Any) -> list[Any]:
    """The hashable items of a list field (anything else: empty; the schema reports it)."""
    return [x for x in value if isinstance(x, str | int) and not isinstance(x, bool)] if isinstance(value, list) else []


def _port_messages(desc: Mapping[str, Any]) -> tuple[set[str], set[str], set[int]]:
    rx: set[str] = set()
    tx: set[str] = set()
    policies: set[int] = set()
    for _, port in _ports(desc):
        rx.update(x for x in _names(port.get("rxMessages")) if isinstance(x, str))
        tx.update(x for x in _names(port.get("txMessages")) if isinstance(x, str))
        policies.update(x for x in _names(port.get("policies")) if isinstance(x, int))
    return rx, tx, policies


def descriptor_messages(desc: Mapping[str, Any]) -> tuple[set[str], set[str], set[int]]:
    """``(rx, tx, policies)`` as appmgr hands them to rtmgr: the legacy ``rmr`` section if present, else
    the union over ``messaging.ports`` (``pkg/cm/cm.go GetRtmData``)."""
    rmr = desc.get("rmr")
    if isinstance(rmr, Mapping):
        return set(_names(rmr.get("rxMessages"))), set(_names(rmr.get("txMessages"))), set(_names(rmr.get("policies")))
    return _port_messages(desc)


def _legacy_rmr_errors(desc: Mapping[str, Any]) -> list[str]:
    rmr = desc.get("rmr")
    if rmr is None:
        return []
    if not isinstance(rmr, Mapping):
        return [f"rmr: is {_type_name(rmr)}; appmgr expects the legacy rmr section to be an object (or absent)"]
    ports = dict(zip(("rxMessages", "txMessages", "policies"), _port_messages(desc), strict=True))
    errors = []
    for key in _LEGACY_RMR_KEYS:
        legacy = set(_names(rmr.get(key)))
        if legacy != ports[key]:
            only_rmr, only_ports = sorted(legacy - ports[key], key=str), sorted(ports[key] - legacy, key=str)
            errors.append(f"rmr.{key}: {sorted(legacy, key=str)} differs from messaging.ports "
                          f"({sorted(ports[key], key=str)}; only in rmr: {only_rmr}, only in ports: {only_ports}); "
                          f"appmgr routes by the rmr section alone when it exists and ignores messaging.ports "
                          f"(pkg/cm/cm.go GetRtmData): delete the rmr section or make it identical")
    return errors


def _convention_errors(desc: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    name = desc.get("name")
    if isinstance(name, str) and not _DNS_LABEL.match(name):
        errors.append(f"name: {name!r} is not a lowercase DNS label; chart, pod and service names are built from it")
    if "rmr" in desc:
        errors.append("rmr: DNT-RIC descriptors carry no legacy rmr section (messaging.ports is the one source "
                      "of truth for routing)")
    ports = _ports(desc)
    by_name = {p.get("name"): (i, p) for i, p in ports}
    for pname, number in (("http", HTTP_PORT), ("rmrdata", RMR_DATA_PORT), ("rmrroute", RMR_ROUTE_PORT)):
        if pname not in by_name:
            errors.append(f"messaging.ports: no port named {pname!r} ({number}); the OSC conventions and our "
                          f"runtime (dnt.ric.config.descriptor_ports) expect http 8080, rmrdata 4560, rmrroute 4561")
        elif by_name[pname][1].get("port") != number:
            i, port = by_name[pname]
            errors.append(f"messaging.ports[{i}].port: {pname} is {port.get('port')!r}; use {number}")
    if "rmrdata" in by_name:
        i, port = by_name["rmrdata"]
        if not all(k in port for k in _LEGACY_RMR_KEYS):
            errors.append(f"messaging.ports[{i}]: the rmrdata port must list rxMessages, txMessages and policies")
    for i, port in ports:
        if port.get("name") != "rmrdata" and any(k in port for k in _LEGACY_RMR_KEYS):
            errors.append(f"messaging.ports[{i}]: message lists belong on the rmrdata port only")
        for key in ("rxMessages", "txMessages"):
            for j, msg in enumerate(port.get(key) if isinstance(port.get(key), list) else []):
                if isinstance(msg, str) and msg not in mt.MTYPE_BY_NAME:
                    errors.append(f"messaging.ports[{i}].{key}[{j}]: {msg!r} is not an RMR message name "
                                  f"(dnt.e2.mtypes); rtmgr would route it as type 0")
    for probe, path in (("livenessProbe", ALIVE_PATH), ("readinessProbe", READY_PATH)):
        get = (desc.get(probe) or {}).get("httpGet") if isinstance(desc.get(probe), Mapping) else None
        if not isinstance(get, Mapping):
            errors.append(f"{probe}: use an httpGet probe on {path} port {HTTP_PORT}")
        elif get.get("path") != path or get.get("port") != HTTP_PORT:
            errors.append(f"{probe}.httpGet: {get.get('path')!r} port {get.get('port')!r}; the xApp serves "
                          f"{path} on port {HTTP_PORT} (dnt.ric.http)")
    return errors


def _read_json(path: Path, what: str) -> tuple[Any, list[str]]:
    try:
        return json.loads(path.read_text()), []
    except OSError as err:
        return None, [f"{path}: cannot read the {what}: {err.strerror or err}"]
    except ValueError as err:
        return None, [f"{path}: the {what} is not JSON: {err}"]


def validate_descriptor(path: str | Path, *, controls_schema: str | Path | None = None,
                        conventions: bool = True) -> list[str]:
    """Validate an xApp descriptor as ``dms_cli onboard`` would, plus the routing and DNT-RIC checks.

    Parameters
    ----------
    path : str or Path
        The descriptor (``config-file.json``).
    controls_schema : str or Path, optional
        The controls schema; default ``schema.json`` beside the descriptor when it exists.
    conventions : bool
        Also apply the DNT-RIC conventions (ports, probes, message names, no ``rmr`` section).

    Returns
    -------
    list of str
        Human-readable errors, each starting with the JSON path; empty when the descriptor is valid.
    """
    path = Path(path)
    desc, errors = _read_json(path, "xApp descriptor")
    if errors:
        return errors
    if not isinstance(desc, dict):
        return [f"(root): the descriptor is {_type_name(desc)}; it must be a JSON object"]
    schema_path = Path(controls_schema) if controls_schema is not None else path.with_name("schema.json")
    controls = None
    if controls_schema is not None or schema_path.is_file():
        controls, errors = _read_json(schema_path, "controls schema")
        if errors:
            return errors
    try:
        schema = enforced_schema(controls)
    except ConfigError as err:
        return [f"{schema_path}: {err}"]
    if not isinstance(desc.get("name") or desc.get("xapp_name"), str):
        errors.append("name: missing; the onboarder (xApp_builder) needs 'name' (or the legacy 'xapp_name')")
    if "version" not in desc:
        errors.append("version: missing; the onboarder (xApp_builder) needs a SemVer 'version'")
    validator = jsonschema.Draft7Validator(schema)
    found = sorted(validator.iter_errors(desc), key=lambda e: (_json_path(e.absolute_path), e.validator))
    errors += [_explain(e) for e in found]
    errors += _legacy_rmr_errors(desc)
    if conventions:
        errors += _convention_errors(desc)
    return list(dict.fromkeys(errors))


def validate_all(repo_root: str | Path = REPO_ROOT) -> dict[str, list[str]]:
    """:func:`validate_descriptor` of every ``xapps/<name>/descriptor/config-file.json``, by xApp name.

    An xApp folder (one with an ``app.py``) without a descriptor is reported too.
    """
    root = Path(repo_root)
    out: dict[str, list[str]] = {}
    for app in sorted((root / "xapps").glob("*/app.py")):
        desc = app.parent / DESCRIPTOR_DIR / "config-file.json"
        out[app.parent.name] = (validate_descriptor(desc) if desc.is_file()
                                else [f"{desc.relative_to(root)}: missing; every xApp needs a descriptor"])
    return out


def rtmgr_mtypes(names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The ``messaging.mtypes`` entries rtmgr's config needs for our custom types (default: all of them).

    Add them to ``rtmgrcfg`` (``/cfg/rtmgr-config.yaml``) as ``"messaging": {"mtypes": [...]}``; the Go
    xapp-frame adds each ``{name, id}`` to ``RICMessageTypes`` at start (and on a config change).
    """
    wanted = CUSTOM_MTYPES if names is None else {n: CUSTOM_MTYPES[n] for n in names if n in CUSTOM_MTYPES}
    return [{"name": n, "id": v} for n, v in sorted(wanted.items(), key=lambda kv: kv[1])]
