"""E2AP codec (dnt.e2.e2ap): golden bytes, helpers, strict decoding, pycrate fixes. No ../shared needed."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pycrate_asn1dir import E2AP

from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import (
    Cause,
    ComponentIdF1,
    ComponentIdNG,
    E2nodeComponentConfig,
    E2nodeEnb,
    E2nodeEnGnb,
    E2nodeGnb,
    E2nodeNgEnb,
    GlobalEnbId,
    GlobalGnbId,
    GlobalRicId,
    PlmnId,
    RanFunction,
    RanFunctionIdCause,
    RanFunctionIdItem,
    RicAction,
    RicRequestId,
    RicSubsequentAction,
)
from dnt.e2.e2ap_types import (
    E2setupRequest,
    E2setupResponse,
    RICindication,
    RICserviceUpdate,
    RICsubscriptionDeleteRequest,
    RICsubscriptionRequest,
    WireInfo,
)
from dnt.errors import DecodeError, EncodeError

KPM_OID = "1.3.6.1.4.1.53148.1.2.2.2"
RC_OID = "1.3.6.1.4.1.53148.1.1.2.3"
PDU = E2AP.E2AP_PDU_Descriptions.E2AP_PDU

# RICsubscriptionDeleteRequest, request 123/21, RAN function 147, by hand from X.691 (aligned PER):
DELETE_REQUEST_HEX = (
    "00" "09" "00" "12"  # initiatingMessage, procedureCode 9, criticality reject, open type of 18 octets
    "00" "0002"  # RICsubscriptionDeleteRequest: extension bit + padding, 2 protocol IEs
    "001d" "00" "05" "00" "007b" "0015"  # IE 29 reject, 5 octets: RICrequestID (ext octet, 123, 21)
    "0005" "00" "02" "0093"  # IE 5 reject, 2 octets: RANfunctionID 147 (0..4095 -> two octets)
)
# RICindication 1/2, function 3, action 4, SN 5, report, header aa, message bbcc
INDICATION_HEX = (
    "00" "05" "40" "2f" "00" "0007"  # procedure 5, criticality ignore, 47 octets, 7 IEs
    "001d" "00" "05" "00" "0001" "0002"  # IE 29 RICrequestID
    "0005" "00" "02" "0003"  # IE 5 RANfunctionID
    "000f" "00" "01" "04"  # IE 15 RICactionID
    "001b" "00" "02" "0005"  # IE 27 RICindicationSN
    "001c" "00" "01" "00"  # IE 28 RICindicationType report
    "0019" "00" "02" "01" "aa"  # IE 25 RICindicationHeader: open type of 2 = length 1 + aa
    "001a" "00" "03" "02" "bbcc"  # IE 26 RICindicationMessage
)
INDICATION = RICindication(request_id=RicRequestId(1, 2), ran_function_id=3, action_id=4, sn=5,
                           indication_type="report", header=b"\xaa", message=b"\xbb\xcc")


def _setup_request(**overrides: Any) -> E2setupRequest:
    fields: dict[str, Any] = dict(
        transaction_id=7,
        global_e2node_id=E2nodeGnb.build("001", "01", 411, 22),
        ran_functions=(RanFunction(2, b"\x01\x02", 1, KPM_OID), RanFunction(3, b"\x03", 1, RC_OID),
                       RanFunction(9, b"\x04", 0, "1.2.3.vendor")),
        component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("amf1"), b"ngsetup", b"ngresp"),
                           E2nodeComponentConfig("f1", ComponentIdF1(1), b"f1setup", b"f1resp")),
    )
    fields.update(overrides)
    return E2setupRequest(**fields)


def _pycrate_val(msg: Any) -> Any:
    """The pycrate value tree of an encoded message (to build malformed PDUs from)."""
    PDU.from_aper(e2ap.encode(msg))
    return copy.deepcopy(PDU.get_val())


def _pycrate_bytes(val: Any) -> bytes:
    return bytes(PDU.to_aper(val))


def _ies(val: Any) -> list[Any]:
    return val[1]["value"][1]["protocolIEs"]


# --- golden bytes ------------------------------------------------------------------------------
def test_subscription_delete_request_matches_hand_encoded_bytes() -> None:
    # Prepare
    msg = RICsubscriptionDeleteRequest(request_id=RicRequestId(123, 21), ran_function_id=147)

    # Execute
    data = e2ap.encode(msg)

    # Assert
    assert data.hex() == DELETE_REQUEST_HEX
    assert e2ap.decode(bytes.fromhex(DELETE_REQUEST_HEX)) == msg


def test_indication_matches_hand_encoded_bytes() -> None:
    # Execute
    data = e2ap.encode(INDICATION)

    # Assert
    assert data.hex() == INDICATION_HEX
    assert e2ap.decode(data) == INDICATION


def test_subscription_request_round_trips_its_actions() -> None:
    # Prepare
    msg = RICsubscriptionRequest(
        request_id=RicRequestId(1, 0), ran_function_id=2, event_trigger=b"\x10",
        actions=(RicAction(0, "report", b"\x01"),
                 RicAction(1, "insert", None, RicSubsequentAction("wait", "w10ms"), 3)),
    )

    # Execute
    back = e2ap.decode(e2ap.encode(msg))

    # Assert
    assert back == msg


# --- identities and helpers --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mcc", "mnc", "octets"),
    [("001", "01", "00f110"), ("311", "48", "13f184"), ("310", "410", "130014"), ("999", "999", "999999")],
)
def test_plmn_bcd_encoding(mcc: str, mnc: str, octets: str) -> None:
    # Execute
    data = PlmnId(mcc, mnc).to_bytes()

    # Assert
    assert data.hex() == octets
    assert PlmnId.from_bytes(data) == PlmnId(mcc, mnc)


@pytest.mark.parametrize("octets", ["0af110", "00f1a0", "00e110", "00f1"])
def test_plmn_rejects_non_bcd_octets(octets: str) -> None:
    with pytest.raises(ValueError, match="PLMN"):
        PlmnId.from_bytes(bytes.fromhex(octets))


@pytest.mark.parametrize(
    ("node", "name"),
    [
        (E2nodeGnb.build("001", "01", 411, 22), "gnb_001_001_00019b"),  # oran-conventions §6.2 example
        (E2nodeGnb.build("001", "01", 411, 22, du_id=0), "gnbd_001_001_00019b_0"),
        (E2nodeGnb.build("001", "01", 411, 32, cu_up_id=26), "gnbc_001_001_0000019b_1a"),
        (E2nodeGnb.build("001", "01", 411, 22, cu_up_id=1, du_id=2), "gnb_001_001_00019b"),
        (E2nodeGnb.build("310", "410", 0x3FFFFF, 22), "gnb_310_410_3fffff"),
        (E2nodeEnGnb(GlobalGnbId(PlmnId("001", "01"), 5, 25)), "en_gnb_001_001_00000005"),
        (E2nodeNgEnb(GlobalEnbId(PlmnId("208", "92"), 0xABCDE, "macro")), "ng_enB_macro_208_092_0abcde"),
        (E2nodeEnb(GlobalEnbId(PlmnId("208", "92"), 1, "home")), "enB_home_208_092_00000001"),
    ],
)
def test_ran_name_follows_e2term(node: Any, name: str) -> None:
    assert e2ap.ran_name(node) == name


def test_known_ran_functions_accepts_known_oids_and_rejects_the_rest() -> None:
    # Prepare
    req = _setup_request()
    not_supported = Cause("ricService", "ran-function-not-supported")

    # Execute
    accepted, rejected = e2ap.known_ran_functions(req, {KPM_OID})
    accepted_all, rejected_some = e2ap.known_ran_functions(req, {KPM_OID, RC_OID}, accept=lambda f: f.revision > 0)

    # Assert
    assert accepted == (RanFunctionIdItem(2, 1),)
    assert rejected == (RanFunctionIdCause(3, not_supported), RanFunctionIdCause(9, not_supported))
    assert accepted_all == (RanFunctionIdItem(2, 1), RanFunctionIdItem(3, 1))
    assert rejected_some == (RanFunctionIdCause(9, not_supported),)


def test_known_ran_functions_rejects_a_repeated_id_and_reads_service_updates() -> None:
    # Prepare
    dup = _setup_request(ran_functions=(RanFunction(2, b"", 1, KPM_OID), RanFunction(2, b"", 2, KPM_OID)))
    update = RICserviceUpdate(transaction_id=1, added=(RanFunction(4, b"", 0, KPM_OID),),
                              modified=(RanFunction(5, b"", 0, "x"),))

    # Execute
    dup_result = e2ap.known_ran_functions(dup, {KPM_OID})
    update_result = e2ap.known_ran_functions(update, {KPM_OID})

    # Assert
    assert [a.ran_function_id for a in dup_result[0]] == [2]
    assert [r.ran_function_id for r in dup_result[1]] == [2]
    assert [a.ran_function_id for a in update_result[0]] == [4]
    assert [r.ran_function_id for r in update_result[1]] == [5]


def test_e2_setup_response_acknowledges_every_component_and_encodes() -> None:
    # Prepare
    req = _setup_request()
    ric = GlobalRicId(PlmnId("001", "01"), 25)

    # Execute
    resp = e2ap.e2_setup_response(req, ric, {KPM_OID, RC_OID})
    back = e2ap.decode(e2ap.encode(resp))

    # Assert
    assert isinstance(back, E2setupResponse)
    assert back == resp
    assert back.transaction_id == 7
    assert [a.ran_function_id for a in back.accepted] == [2, 3]
    assert [r.ran_function_id for r in back.rejected] == [9]
    assert [(a.interface_type, a.component_id, a.outcome) for a in back.component_config_acks] == [
        ("ng", ComponentIdNG("amf1"), "success"), ("f1", ComponentIdF1(1), "success")]


# --- criticalities on the wire -----------------------------------------------------------------
def test_non_standard_criticalities_survive_a_round_trip_and_do_not_affect_equality() -> None:
    # Prepare: a sender that marks the procedure and the RAN function items "ignore" (srsRAN, Radisys do)
    msg = _setup_request()
    val = _pycrate_val(msg)
    val[1]["criticality"] = "ignore"
    for item in _ies(val)[2]["value"][1]:
        item["criticality"] = "ignore"
    data = _pycrate_bytes(val)

    # Execute
    decoded = e2ap.decode(data)

    # Assert
    assert decoded == msg
    assert decoded.wire is not None and decoded.wire.criticalities[0] == "ignore"
    assert e2ap.encode(decoded) == data
    assert e2ap.encode(msg) != data  # built in code: the specification's criticalities


def test_wire_criticalities_are_ignored_when_the_structure_changed() -> None:
    # Prepare: a wire record for a different number of IEs
    msg = RICsubscriptionDeleteRequest(request_id=RicRequestId(1, 1), ran_function_id=1,
                                       wire=WireInfo(("ignore",)))

    # Execute
    data = e2ap.encode(msg)

    # Assert
    assert data == e2ap.encode(RICsubscriptionDeleteRequest(request_id=RicRequestId(1, 1), ran_function_id=1))


# --- strict decoding ---------------------------------------------------------------------------
def _unknown_procedure() -> bytes:
    data = bytearray.fromhex(DELETE_REQUEST_HEX)
    data[1] = 201  # the pre-standard OSC draft's subscription request code
    return bytes(data)


def _unsupported_procedure() -> bytes:
    ies = [{"id": 29, "criticality": "reject", "value": ("RICrequestID", {"ricRequestorID": 1, "ricInstanceID": 2})},
           {"id": 5, "criticality": "reject", "value": ("RANfunctionID", 3)}]
    val = ("initiatingMessage", {"procedureCode": 14, "criticality": "reject",
                                 "value": ("RICsubscriptionModificationRequest", {"protocolIEs": ies})})
    return _pycrate_bytes(val)


def _without_ie(ie_id: int) -> bytes:
    val = _pycrate_val(INDICATION)
    _ies(val)[:] = [ie for ie in _ies(val) if ie["id"] != ie_id]
    return _pycrate_bytes(val)


def _duplicated_ie() -> bytes:
    val = _pycrate_val(INDICATION)
    _ies(val).append(copy.deepcopy(_ies(val)[1]))
    return _pycrate_bytes(val)


def _unknown_ie(criticality: str) -> bytes:
    """INDICATION with a 9th IE, id 98 (no IE of RICindication), inserted first: pycrate keeps it opaque."""
    data = bytearray.fromhex(INDICATION_HEX)
    extra = bytes.fromhex("0062" + ("00" if criticality == "reject" else "40") + "01" + "00")
    data[3] += len(extra)  # open-type length of the RICindication value
    data[6] += 1  # protocolIEs count
    return bytes(data[:7] + extra + data[7:])


def _wrong_list_item() -> bytes:
    val = _pycrate_val(_setup_request())
    _ies(val)[2]["value"][1][0]["id"] = 6  # a RANfunctions-List item with the RANfunctionID-Item id
    return _pycrate_bytes(val)


def _bad_plmn() -> bytes:
    data = bytearray(e2ap.encode(_setup_request()))
    at = data.index(bytes.fromhex("00f110"))
    data[at] = 0x0A  # MCC digit 1 = A: not BCD
    return bytes(data)


def _bad_printable() -> bytes:
    data = e2ap.encode(_setup_request(component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("a-b"), b"", b""),)))
    return data.replace(b"a-b", b"a_b")  # '_' is ASCII but not in the PrintableString alphabet


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (_unknown_procedure, "unknown procedure code 201"),
        (_unsupported_procedure, r"procedure 14 \(RICsubscriptionModification\).*not supported"),
        (lambda: bytes.fromhex(DELETE_REQUEST_HEX) + b"\x00", "1 trailing byte"),
        (lambda: bytes.fromhex(DELETE_REQUEST_HEX)[:-1], r"cannot decode 21-byte PDU \(RICsubscriptionDeleteRequest"),
        (lambda: bytes.fromhex(INDICATION_HEX)[:4], "RICindication"),
        (lambda: _without_ie(26), r"mandatory IE 26 \(RICindicationMessage\) is missing"),
        (lambda: _without_ie(29), r"mandatory IE 29 \(RICrequestID\) is missing"),
        (_duplicated_ie, "IE 5 .* appears twice"),
        (lambda: _unknown_ie("reject"), "unknown IE 98 with criticality reject"),
        (_wrong_list_item, "IE 10 .*list item 0 is IE 6"),
        (_bad_plmn, "IE 3 .*not BCD"),
        (_bad_printable, "outside its alphabet"),
        (lambda: b"", "empty input"),
        (lambda: "00090012", "expects bytes"),
        (lambda: b"\xff" * 8, "cannot decode"),
    ],
    ids=["unknown-procedure", "unsupported-procedure", "trailing-byte", "truncated", "truncated-header",
         "missing-message", "missing-request-id", "duplicate-ie", "unknown-reject-ie", "wrong-list-item",
         "non-bcd-plmn", "printable-alphabet", "empty", "not-bytes", "garbage"],
)
def test_decode_rejects_invalid_pdus_with_a_clear_decode_error(make: Any, match: str) -> None:
    # Prepare
    data = make()

    # Execute / Assert
    with pytest.raises(DecodeError, match=match):
        e2ap.decode(data)


def test_unknown_ie_with_criticality_ignore_is_skipped() -> None:
    # Execute
    msg = e2ap.decode(_unknown_ie("ignore"))

    # Assert
    assert msg == INDICATION


def test_decode_accepts_bytearray_and_memoryview() -> None:
    data = bytes.fromhex(INDICATION_HEX)
    assert e2ap.decode(bytearray(data)) == e2ap.decode(memoryview(data)) == INDICATION


# --- encoding errors ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (_setup_request(ran_functions=()), r"mandatory IE 10 \(RANfunctions-List\) is missing"),
        (_setup_request(transaction_id="7"), "E2setupRequest"),
        (_setup_request(global_e2node_id=E2nodeGnb.build("01", "01", 1)), "IE 3 .*MCC must be 3 decimal digits"),
        (_setup_request(global_e2node_id=E2nodeGnb.build("001", "01", 1 << 22, 22)), "does not fit in a 22-bit"),
        (_setup_request(global_e2node_id=E2nodeGnb.build("001", "01", 1, 21)), "size constraint"),
        (_setup_request(global_e2node_id=E2nodeNgEnb(GlobalEnbId(PlmnId("001", "01"), 1, "home"))),
         "kind 'home' not allowed"),
        (RICindication(request_id=RicRequestId(1, 2), ran_function_id=4096, action_id=0, header=b"", message=b""),
         "ranFunctionID|constraint"),
        (RICindication(request_id=RicRequestId(1, 2), ran_function_id=1, action_id=0, header="text", message=b""),
         "RICindication"),
        (RicRequestId(1, 2), "not an E2AP message class"),
    ],
    ids=["missing-list", "wrong-type", "bad-plmn", "id-too-wide", "id-too-short", "ng-enb-home", "range",
         "str-octets", "not-a-message"],
)
def test_encode_rejects_invalid_messages_with_an_encode_error(msg: Any, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        e2ap.encode(msg)


# --- fragmented lengths (X.691 §11.9.3.8) and the pycrate 0.8.1 fix ------------------------------
def _x691_length_prefixed(data: bytes) -> bytes:
    """An unconstrained length determinant + content, fragmented in 16K blocks from 16384 octets."""
    out, pos = bytearray(), 0
    while len(data) - pos >= 16384:
        blocks = min(4, (len(data) - pos) // 16384)
        out += bytes((0xC0 | blocks,)) + data[pos:pos + blocks * 16384]
        pos += blocks * 16384
    rest = len(data) - pos
    out += (bytes((rest,)) if rest < 128 else bytes((0x80 | rest >> 8, rest & 0xFF))) + data[pos:]
    return bytes(out)


@pytest.mark.parametrize("size", [16383, 16384, 20000, 65536 + 3])
def test_long_indications_match_x691_fragmentation_and_round_trip(size: int) -> None:
    # Prepare: an indication message long enough for a fragmented length, followed by another IE
    message = bytes(range(256)) * (size // 256) + bytes(size % 256)
    msg = RICindication(request_id=RicRequestId(1, 2), ran_function_id=3, action_id=4, header=b"H", message=message,
                        call_process_id=b"CPID")

    def ie(prefix: str, value: bytes) -> bytes:
        return bytes.fromhex(prefix) + _x691_length_prefixed(_x691_length_prefixed(value))

    body = (bytes.fromhex("000007" "001d00050000010002" "000500020003" "000f000104" "001c000100")
            + ie("001900", b"H") + ie("001a00", message) + ie("001400", b"CPID"))
    expected = bytes.fromhex("000540") + _x691_length_prefixed(body)

    # Execute
    data = e2ap.encode(msg)
    back = e2ap.decode(data)

    # Assert
    assert data == expected
    assert back == msg


def test_concurrent_threads_share_the_codec_safely() -> None:
    # Prepare
    msgs = [RICindication(request_id=RicRequestId(i, i), ran_function_id=i % 4096, action_id=i % 256,
                          header=bytes([i % 256]) * (i % 50), message=bytes(i % 300)) for i in range(200)]

    # Execute
    with ThreadPoolExecutor(max_workers=4) as pool:
        round_tripped = list(pool.map(lambda m: e2ap.decode(e2ap.encode(m)), msgs))

    # Assert
    assert round_tripped == msgs
