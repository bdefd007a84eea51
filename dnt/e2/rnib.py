"""E2 node inventory records as OSC e2mgr keeps them (RNIB): SDL namespace ``e2Manager``, key ``RAN:<ran name>``.

e2mgr stores a ``NodebInfo`` protobuf per E2 node (``ric-plt-e2mgr``, ``entities/nodeb_info.proto``;
oran-conventions.md §6.2). The local fabric writes the same record as its protobuf **JSON mapping**
(``google.protobuf.json_format``: camelCase field names, enum names as strings), so one reader serves both::

    {"ranName": "gnb_001_001_000001", "connectionStatus": "CONNECTED", "nodeType": "GNB",
     "globalNbId": {"plmnId": "00f110", "nbId": "0000000000000000000001"},
     "gnb": {"ranFunctions": [{"ranFunctionId": 2, "ranFunctionRevision": 1,
                               "ranFunctionOid": "1.3.6.1.4.1.53148.1.2.2.2", "ranFunctionDefinition": "<hex>"}]},
     "associatedE2tInstanceAddress": "127.0.0.1:36422", "setupFromNetwork": true}

``plmnId`` is the hex of the 3 BCD octets, ``nbId`` the gNB-ID BIT STRING as binary digits.
:func:`decode_nodeb` also reads e2mgr's protobuf bytes (through ricxappframe's generated ``nodeb_info_pb2``,
imported only then), so xApps read the node list the same way on both runtimes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dnt.e2.e2ap_ies import E2nodeGnb, PlmnId, RanFunction
from dnt.e2.e2ap_setup import ran_name
from dnt.e2.e2ap_types import E2setupRequest
from dnt.errors import DecodeError

__all__ = ["E2MGR_NS", "CONNECTED", "DISCONNECTED", "RanFunctionInfo", "NodebInfo", "ran_key", "decode_nodeb",
           "read_nodes"]

E2MGR_NS = "e2Manager"
"""SDL namespace of e2mgr's RNIB."""
CONNECTED = "CONNECTED"
DISCONNECTED = "DISCONNECTED"
_KEY_PREFIX = "RAN:"


def ran_key(name: str) -> str:
    """The RNIB key of an E2 node: ``RAN:<ran name>``."""
    return _KEY_PREFIX + name


@dataclass(frozen=True)
class RanFunctionInfo:
    """One RAN function of a node (``RanFunction`` of e2mgr's ``Gnb``)."""

    ran_function_id: int
    revision: int
    oid: str
    definition: bytes = b""


@dataclass(frozen=True)
class NodebInfo:
    """What xApps read of an E2 node.

    Parameters
    ----------
    ran_name : str
        The node's RAN name (``gnb_001_001_000001``): its RNIB key and the MEID of messages to it.
    connection_status : str
        ``CONNECTED`` / ``DISCONNECTED`` (e2mgr's ``ConnectionStatus`` names).
    node_type : str
        ``GNB`` / ``ENB`` / ``UNKNOWN``.
    plmn : PlmnId or None
        PLMN of the global node id (gNBs).
    nb_id : int or None
        gNB ID (BIT STRING value); ``nb_id_bits`` its length.
    ran_functions : tuple of RanFunctionInfo
        The RAN functions the RIC accepted at E2 setup.
    e2t_address : str
        ``associatedE2tInstanceAddress``: the E2 termination that owns the association.
    """

    ran_name: str
    connection_status: str
    node_type: str = "GNB"
    plmn: PlmnId | None = None
    nb_id: int | None = None
    nb_id_bits: int | None = None
    ran_functions: tuple[RanFunctionInfo, ...] = ()
    e2t_address: str = ""

    @property
    def connected(self) -> bool:
        """True while the node's E2 association is up."""
        return self.connection_status == CONNECTED

    def ran_function(self, oid: str) -> RanFunctionInfo | None:
        """The accepted RAN function with E2SM ``oid``, or None."""
        return next((f for f in self.ran_functions if f.oid == oid), None)

    @classmethod
    def from_setup(cls, request: E2setupRequest, accepted: Iterable[int], e2t_address: str = "") -> NodebInfo:
        """The record of a node after a successful E2 setup (only ``accepted`` RAN function ids kept)."""
        ids = set(accepted)
        node = request.global_e2node_id
        plmn = nb_id = bits = None
        node_type = "UNKNOWN"
        if isinstance(node, E2nodeGnb):
            g = node.global_gnb_id
            plmn, nb_id, bits, node_type = g.plmn, g.gnb_id, g.gnb_id_bits, "GNB"
        funcs = tuple(_info(f) for f in request.ran_functions if f.ran_function_id in ids)
        return cls(ran_name(node), CONNECTED, node_type, plmn, nb_id, bits, funcs, e2t_address)

    def to_json(self) -> dict[str, Any]:
        """The protobuf JSON mapping of e2mgr's ``NodebInfo`` (see the module docstring)."""
        out: dict[str, Any] = {"ranName": self.ran_name, "connectionStatus": self.connection_status,
                               "nodeType": self.node_type}
        if self.plmn is not None and self.nb_id is not None and self.nb_id_bits:
            out["globalNbId"] = {"plmnId": self.plmn.to_bytes().hex(),
                                 "nbId": format(self.nb_id, f"0{self.nb_id_bits}b")}
        funcs = [{"ranFunctionId": f.ran_function_id, "ranFunctionRevision": f.revision, "ranFunctionOid": f.oid,
                  "ranFunctionDefinition": f.definition.hex()} for f in self.ran_functions]
        out["gnb" if self.node_type == "GNB" else "enb"] = {"ranFunctions": funcs}
        if self.e2t_address:
            out["associatedE2tInstanceAddress"] = self.e2t_address
        out["setupFromNetwork"] = True
        return out

    def to_bytes(self) -> bytes:
        """:meth:`to_json` as compact UTF-8 JSON."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> NodebInfo:
        """Parse the JSON mapping (raises DecodeError when ``ranName`` is missing or a field is mistyped)."""
        try:
            name = obj["ranName"]
            if not isinstance(name, str) or not name:
                raise DecodeError(f"NodebInfo.ranName must be a non-empty string, got {name!r}")
            gid = obj.get("globalNbId") or {}
            plmn = PlmnId.from_bytes(bytes.fromhex(gid["plmnId"])) if gid.get("plmnId") else None
            nb_raw = str(gid.get("nbId", ""))
            nb_id = int(nb_raw, 2) if nb_raw and set(nb_raw) <= {"0", "1"} else None
            bits = len(nb_raw) if nb_id is not None else None
            body = obj.get("gnb") or obj.get("enb") or {}
            funcs = tuple(RanFunctionInfo(int(f.get("ranFunctionId", 0)), int(f.get("ranFunctionRevision", 0)),
                                          str(f.get("ranFunctionOid", "")),
                                          _definition(f.get("ranFunctionDefinition", "")))
                          for f in body.get("ranFunctions") or ())
            return cls(name, str(obj.get("connectionStatus", "UNKNOWN_CONNECTION_STATUS")),
                       str(obj.get("nodeType", "UNKNOWN")), plmn, nb_id, bits, funcs,
                       str(obj.get("associatedE2tInstanceAddress", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DecodeError(f"not an e2mgr NodebInfo record: {err}") from err


def _info(f: RanFunction) -> RanFunctionInfo:
    return RanFunctionInfo(f.ran_function_id, f.revision, f.oid, bytes(f.definition))


def _definition(value: Any) -> bytes:
    """e2mgr keeps the definition as a string; ours is hex (anything else is kept as its UTF-8 bytes)."""
    text = str(value or "")
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode()


def decode_nodeb(raw: bytes) -> NodebInfo:
    """Decode an RNIB value: our JSON mapping, or e2mgr's ``NodebInfo`` protobuf bytes.

    Raises
    ------
    DecodeError
        Neither form.
    """
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        obj = None
    if isinstance(obj, Mapping):
        return NodebInfo.from_json(obj)
    try:
        from google.protobuf import json_format
        from ricxappframe.entities.rnib import nodeb_info_pb2

        msg = nodeb_info_pb2.NodebInfo()
        msg.ParseFromString(raw)
        return NodebInfo.from_json(json_format.MessageToDict(msg))
    except (ImportError, DecodeError, ValueError, TypeError) as err:
        raise DecodeError(f"RNIB value is neither NodebInfo JSON nor protobuf: {err}") from err
    except Exception as err:  # protobuf's DecodeError is not a ValueError
        raise DecodeError(f"RNIB value is neither NodebInfo JSON nor protobuf: {err}") from err


def read_nodes(store: Any, *, connected_only: bool = True) -> list[NodebInfo]:
    """Every node in the RNIB of ``store`` (a :class:`dnt.ric.sdl.Store`), sorted by RAN name.

    Undecodable records are skipped (they are logged by the caller's counters, not fatal).
    """
    out = []
    for raw in store.find(E2MGR_NS, _KEY_PREFIX).values():
        try:
            node = decode_nodeb(raw)
        except DecodeError:
            continue
        if node.connected or not connected_only:
            out.append(node)
    return sorted(out, key=lambda n: n.ran_name)
