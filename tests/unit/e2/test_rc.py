"""E2SM-RC v01.03 subset: golden bytes derived by hand, recursive RAN parameter round trips, UEIDs,
the slice-level PRB quota builder/parser and error handling."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnt.e2 import e2sm_asn, rc
from dnt.e2.e2ap_ies import GlobalGnbId, PlmnId
from dnt.e2.rc import (
    BitString,
    RanElement,
    RanList,
    RanParameter,
    RanStructure,
    RcControlHeader,
    RcControlMessage,
    SlicePrbQuota,
    UeIdGnb,
    UeIdGnbCuUp,
    UeIdGnbDu,
)
from dnt.errors import DecodeError, EncodeError

PLMN = PlmnId("001", "01")


# -- golden bytes -------------------------------------------------------------------------------------
def test_control_header_golden_style2_action6():
    # 0x01: 3 extension bits, no ric-ControlDecision, UEID ext bit, 3-bit index 001 (gNB-DU-UEID);
    # 0x00: UEID-GNB-DU ext + no ran-UEID + 2-bit octet count 00, pad; 00: F1AP id 0;
    # 01 02: ric-Style-Type 2 (unconstrained INTEGER); 00 | 00 05: action id ext bit, 6-1 in 16 bits
    header = RcControlHeader(UeIdGnbDu(0), style_type=2, action_id=6)
    golden = bytes.fromhex("0100000102000005")
    assert rc.encode_control_header(header) == golden
    assert rc.decode_control_header(golden) == header


def test_control_message_golden_single_element():
    # 00: 3 extension bits; 0001: one item; 00 0a: item ext, id ext, 1 octet, 11-1;
    # 0x28 0x80: ElementFalse (01), value present, RANParameter-Value index 001 (valueInt); 01 0a: 10
    msg = RcControlMessage((RanParameter(11, RanElement(10)),))
    golden = bytes.fromhex("000001000a2880010a")
    assert rc.encode_control_message(msg) == golden
    assert rc.decode_control_message(golden) == msg


def test_slice_prb_quota_builder_matches_srsran_bytes():
    # The bytes srsRAN's RIC control test sends (PLMN 123/45, SST 22, SD 33, ratios 10/30/100); the
    # same vector is decoded from the full E2AP PDU in tests/integration/test_e2sm_vectors.py.
    quota = SlicePrbQuota(
        plmn=PlmnId("123", "45"), sst=22, sd=33, min_prb_ratio=10, max_prb_ratio=30, dedicated_prb_ratio=100
    )
    header, message = rc.control_slice_prb_quota([quota])
    assert header == bytes.fromhex("0100000102000005")
    assert message == bytes.fromhex(
        "0000010000600000400000000144000300024400000004600000400000000544000100062a000321f354000744000100082a"
        "00011600092a0003000021000a2880010a000b2880011e000c28800164"
    )
    assert rc.parse_slice_prb_quota(message) == [quota]
    assert rc.rc_control_style2_action6 is rc.control_slice_prb_quota


# -- slice PRB quota ----------------------------------------------------------------------------------
def test_several_quotas_round_trip_and_keep_order():
    quotas = [
        SlicePrbQuota(plmn=PLMN, sst=1, sd=None, min_prb_ratio=0, max_prb_ratio=50, dedicated_prb_ratio=0),
        SlicePrbQuota(plmn=PlmnId("310", "410"), sst=2, sd=0xFFFFFF, min_prb_ratio=20, max_prb_ratio=100),
        SlicePrbQuota(plmn=PLMN, sst=255, sd=0),
    ]
    header, message = rc.rc_control_style2_action6(quotas, ue_id=UeIdGnbDu(42))
    assert rc.decode_control_header(header) == RcControlHeader(UeIdGnbDu(42), 2, 6)
    assert rc.parse_slice_prb_quota(message) == quotas
    assert rc.parse_slice_prb_quota(rc.decode_control_message(message)) == quotas


def test_missing_ratios_take_the_ts28541_defaults():
    member = RanStructure(
        (
            RanParameter(
                6,
                RanStructure(
                    (
                        RanParameter(7, RanElement(PLMN.to_bytes())),
                        RanParameter(8, RanStructure((RanParameter(9, RanElement(b"\x01")),))),
                    )
                ),
            ),
        )
    )
    group = RanStructure(
        (RanParameter(2, RanStructure((RanParameter(3, RanStructure((RanParameter(5, RanList((member,))),))),))),)
    )
    msg = RcControlMessage((RanParameter(1, RanList((group,))),))
    assert rc.parse_slice_prb_quota(rc.encode_control_message(msg)) == [SlicePrbQuota(plmn=PLMN, sst=1)]


@pytest.mark.parametrize(
    "quota",
    [
        SlicePrbQuota(plmn=PLMN, sst=1, max_prb_ratio=101),
        SlicePrbQuota(plmn=PLMN, sst=1, min_prb_ratio=-1),
        SlicePrbQuota(plmn=PLMN, sst=256),
        SlicePrbQuota(plmn=PLMN, sst=1, sd=1 << 24),
        SlicePrbQuota(plmn=PlmnId("01", "01"), sst=1),
        SlicePrbQuota(plmn="00101", sst=1),  # type: ignore[arg-type]
    ],
)
def test_invalid_quota_raises_encode_error(quota):
    with pytest.raises(EncodeError):
        rc.control_slice_prb_quota([quota])


def test_empty_quota_list_raises_encode_error():
    with pytest.raises(EncodeError):
        rc.control_slice_prb_quota([])


def test_parse_rejects_a_message_of_another_shape():
    other = RcControlMessage((RanParameter(1, RanStructure((RanParameter(2, RanElement(b"x")),))),))
    with pytest.raises(DecodeError, match="RRM Policy Ratio List"):
        rc.parse_slice_prb_quota(other)


# -- RAN parameter trees ------------------------------------------------------------------------------
def test_every_value_kind_round_trips():
    leaves = (
        RanParameter(1, RanElement(True, key_flag=True)),
        RanParameter(2, RanElement(-(2**70))),
        RanParameter(3, RanElement(163.0)),
        RanParameter(4, RanElement(b"\x00\xff")),
        RanParameter(5, RanElement("Hello (world)")),
        RanParameter(6, RanElement(BitString(b"\xa0", 3))),
        RanParameter(7, RanElement()),
        RanParameter(8, RanStructure()),
        RanParameter(2**32 - 1, RanList((RanStructure(), RanStructure((RanParameter(9, RanElement(0)),))))),
    )
    msg = RcControlMessage(leaves)
    decoded = rc.decode_control_message(rc.encode_control_message(msg))
    assert decoded == msg
    assert isinstance(decoded.get(3).value.value, float) and decoded.get(1).value.key_flag  # type: ignore[union-attr]
    assert rc.decode_control_message(rc.encode_control_message(RcControlMessage())) == RcControlMessage()


def _trees():
    value = st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=False),
        st.binary(max_size=8),
        st.text(alphabet="AZaz09 '()+,-./:=?", max_size=8),
    )
    element = (
        st.builds(RanElement, value, st.just(False))
        | st.builds(lambda v: RanElement(v, True), value)
        | st.just(RanElement())
    )
    pid = st.integers(min_value=1, max_value=2**32 - 1)

    def extend(children):
        structure = st.builds(
            lambda ps: RanStructure(tuple(ps)), st.lists(st.builds(RanParameter, pid, children), max_size=3)
        )
        return structure | st.builds(lambda items: RanList(tuple(items)), st.lists(structure, min_size=1, max_size=2))

    return st.lists(st.builds(RanParameter, pid, st.recursive(element, extend, max_leaves=12)), max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees())
def test_random_trees_round_trip(params):
    msg = RcControlMessage(tuple(params))
    data = rc.encode_control_message(msg)
    assert rc.decode_control_message(data) == msg
    assert rc.encode_control_message(rc.decode_control_message(data)) == data


@pytest.mark.parametrize(
    "node",
    [
        RanParameter(0, RanElement(1)),
        RanParameter(2**32, RanElement(1)),
        RanParameter(1, RanElement(None, key_flag=True)),
        RanParameter(1, RanList(())),
        RanParameter(1, RanElement([1, 2])),  # type: ignore[arg-type]
        RanParameter(1, RanElement("naïve")),
        RanParameter(1, "not a node"),  # type: ignore[arg-type]
    ],
)
def test_invalid_trees_raise_encode_error(node):
    with pytest.raises(EncodeError):
        rc.encode_control_message(RcControlMessage((node,)))


def test_too_deep_trees_raise_codec_errors():
    node: RanStructure = RanStructure()
    for i in range(3000):
        node = RanStructure((RanParameter(1 + i % 7, node),))
    with pytest.raises(EncodeError):
        rc.encode_control_message(RcControlMessage((RanParameter(1, node),)))
    # 400 nested structures, built as bytes: item = 00 <id> 44 00 00 (structure with one item)
    deep = bytes.fromhex("000001") + bytes.fromhex("0000440000") * 400 + bytes.fromhex("000020")
    with pytest.raises(DecodeError):
        rc.decode_control_message(deep)


# -- UEIDs and header ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ue",
    [
        UeIdGnbDu(2**32 - 1, b"12345678"),
        UeIdGnbCuUp(7),
        UeIdGnbCuUp(7, b"\x00" * 8),
        UeIdGnb(7, rc.Guami(PLMN, 0xAB, 0x3FF, 0x3F)),
        UeIdGnb(
            2**40 - 1,
            rc.Guami(PlmnId("310", "410"), 1, 2, 3),
            cu_ue_f1ap_ids=(1, 2, 3, 4),
            cu_cp_ue_e1ap_ids=(9,),
            ran_ue_id=b"abcdefgh",
            m_ng_ran_ue_xnap_id=5,
            global_gnb_id=GlobalGnbId(PLMN, 0x19B, 22),
        ),
    ],
)
@pytest.mark.parametrize("decision", [None, "accept", "reject"])
def test_control_header_round_trip(ue, decision):
    header = RcControlHeader(ue, style_type=3, action_id=1, decision=decision)
    assert rc.decode_control_header(rc.encode_control_header(header)) == header


@pytest.mark.parametrize(
    "header",
    [
        RcControlHeader(UeIdGnbDu(0), 2, 0),
        RcControlHeader(UeIdGnbDu(-1), 2, 6),
        RcControlHeader(UeIdGnbDu(0, b"short"), 2, 6),
        RcControlHeader(UeIdGnb(0, rc.Guami(PLMN, 256, 0, 0)), 2, 6),
        RcControlHeader(UeIdGnb(0, rc.Guami(PLMN, 0, 0, 0), cu_ue_f1ap_ids=(1, 2, 3, 4, 5)), 2, 6),
        RcControlHeader(UeIdGnb(0, rc.Guami(PLMN, 0, 0, 0), global_gnb_id=GlobalGnbId(PLMN, 1, 21)), 2, 6),
        RcControlHeader("ue-1", 2, 6),  # type: ignore[arg-type]
        RcControlHeader(UeIdGnbDu(0), 2, 6, "maybe"),  # type: ignore[arg-type]
    ],
)
def test_invalid_header_raises_encode_error(header):
    with pytest.raises(EncodeError):
        rc.encode_control_header(header)


def test_lte_ueid_is_reported_as_outside_the_subset():
    # 0x06: UEID index 110 (eNB-UEID, a NULL placeholder here); 01 02: style 2; 00 00 05: action 6
    with pytest.raises(DecodeError, match="outside the DNT-RIC RC subset"):
        rc.decode_control_header(bytes.fromhex("060102000005"))


# -- RAN function definition --------------------------------------------------------------------------
def test_ran_function_definition_round_trip():
    default = rc.default_rc_ran_function_definition()
    decoded = rc.decode_ran_function_definition(rc.encode_ran_function_definition(default))
    assert decoded == default and decoded.oid == rc.RC_OID and decoded.short_name == "ORAN-E2SM-RC"
    action = decoded.control_styles[0].actions[0]
    assert (decoded.control_styles[0].style_type, action.action_id, action.name) == (2, 6, "Slice-level PRB quota")
    assert dict(action.params)[13] == "Dedicated PRB Policy Ratio" and 4 not in dict(action.params)
    full = rc.RcRanFunctionDefinition(
        instance=1,
        control_styles=(
            rc.RcControlStyle(
                3,
                "Connected Mode Mobility Control",
                (rc.RcControlAction(1, "Handover Control"),),
                call_process_id_format_type=1,
                outcome_params=((1, "Target Primary Cell ID"),),
            ),
        ),
    )
    assert rc.decode_ran_function_definition(rc.encode_ran_function_definition(full)) == full


def test_ran_function_definition_other_sections_are_summarised():
    value = {
        "ranFunction-Name": {
            "ranFunction-ShortName": rc.RC_SHORT_NAME,
            "ranFunction-E2SM-OID": rc.RC_OID,
            "ranFunction-Description": "RAN Control",
        },
        "ranFunctionDefinition-Report": {
            "ric-ReportStyle-List": [
                {
                    "ric-ReportStyle-Type": 1,
                    "ric-ReportStyle-Name": "Message Copy",
                    "ric-SupportedEventTriggerStyle-Type": 1,
                    "ric-ReportActionFormat-Type": 1,
                    "ric-IndicationHeaderFormat-Type": 1,
                    "ric-IndicationMessageFormat-Type": 1,
                    "ran-ReportParameters-List": [{"ranParameter-ID": 202, "ranParameter-name": "RRC State"}],
                }
            ]
        },
        "ranFunctionDefinition-Control": {
            "ric-ControlStyle-List": [
                {
                    "ric-ControlStyle-Type": 2,
                    "ric-ControlStyle-Name": "Radio Resource Allocation Control",
                    "ric-ControlHeaderFormat-Type": 1,
                    "ric-ControlMessageFormat-Type": 1,
                    "ric-ControlOutcomeFormat-Type": 1,
                }
            ]
        },
        "ranFunctionDefinition-Policy": {
            "ric-PolicyStyle-List": [
                {
                    "ric-PolicyStyle-Type": 2,
                    "ric-PolicyStyle-Name": "Radio Resource Allocation Control",
                    "ric-SupportedEventTriggerStyle-Type": 1,
                }
            ]
        },
    }
    decoded = rc.decode_ran_function_definition(e2sm_asn.encode("rc", "E2SM-RC-RANFunctionDefinition", value))
    assert decoded.control_styles == (rc.RcControlStyle(2, "Radio Resource Allocation Control"),)
    assert decoded.other_styles == (("report", 1, "Message Copy"), ("policy", 2, "Radio Resource Allocation Control"))
