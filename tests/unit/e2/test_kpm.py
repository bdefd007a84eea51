"""E2SM-KPM v03.00 subset: golden bytes derived by hand, REAL shortest form, round trips, and the
hand-written indication message codec checked against asn1tools on randomized inputs."""

from __future__ import annotations

import math
import random

import asn1tools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrate_asn1rt.asnobj_basic import REAL

from dnt.e2 import e2sm_asn, kpm, kpm_fast
from dnt.e2.e2ap_ies import PlmnId
from dnt.errors import DecodeError, EncodeError

NAMES = ("DRB.UEThpDl", "DRB.UEThpUl", "RRU.PrbUsedDl", "RRU.PrbAvailDl")


def _same(a: object, b: object) -> bool:
    """Equality that treats NaN as equal to NaN and distinguishes int from float."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# -- golden bytes (derived by hand from X.691, see comments) ------------------------------------------
def test_event_trigger_golden_1000ms():
    # seq ext 0, choice ext 0, format1 ext 0, 2-bit octet count (999 needs 2 → 01), pad → 0x08; 999 = 03e7
    assert kpm.encode_event_trigger(kpm.KpmEventTrigger(1000)) == bytes.fromhex("0803e7")
    assert kpm.decode_event_trigger(bytes.fromhex("0803e7")) == kpm.KpmEventTrigger(1000)


def test_indication_header_golden_unix_epoch():
    # 7 bits (3 extension bits, 4 absent optionals) + pad, then the 8-octet NTP time of 1970-01-01
    header = kpm.KpmIndicationHeader.from_unix_ms(0)
    assert header.collet_start_time == bytes.fromhex("83aa7e8000000000")
    assert kpm.encode_indication_header(header) == bytes.fromhex("0083aa7e8000000000")
    assert kpm.decode_indication_header(bytes.fromhex("0083aa7e8000000000")) == header


def test_indication_message_golden_real_int_novalue():
    # 0x04: ext, ext, format1, ext, no measInfoList, granulPeriod present; 0000: one data item;
    # 00: item ext + no incompleteFlag; 03: three values; 20 03 800 0a3: REAL 163.0 (shortest form);
    # 00 05: integer 5 (1 octet); 0x48 = noValue (010) + granulPeriod 2-octet count (01); 03e7 = 1000-1
    msg = kpm.KpmIndicationMessage(((163.0, 5, None),), (), 1000)
    golden = bytes.fromhex("040000000320038000a300054803e7")
    assert kpm.encode_indication_message(msg) == golden
    assert _same(kpm.decode_indication_message(golden).records, msg.records)


def test_ntp_timestamp_conversion_keeps_milliseconds():
    header = kpm.KpmIndicationHeader.from_unix_ms(1_700_000_000_123)
    assert header.unix_ms == 1_700_000_000_123
    assert abs(header.unix_s - 1_700_000_000.123) < 1e-6
    assert int.from_bytes(header.collet_start_time[:4], "big") == 1_700_000_000 + kpm.NTP_UNIX_OFFSET_S


# -- REAL shortest form --------------------------------------------------------------------------------
def test_real_163_is_written_in_the_shortest_form():
    assert e2sm_asn.encode_real(163.0) == bytes.fromhex("8000a3")  # → length 03, 80 00 a3 on the wire
    value = {
        "indicationMessage-formats": ("indicationMessage-Format1", {"measData": [{"measRecord": [("real", 163.0)]}]})
    }
    patched = e2sm_asn.encode("kpm", "E2SM-KPM-IndicationMessage", value)
    assert bytes.fromhex("038000a3") in patched
    stock = asn1tools.compile_files([str(e2sm_asn.schema_dir() / e2sm_asn.SCHEMA_FILES["kpm"])], "per")
    assert bytes.fromhex("04800000a3") in stock.encode("E2SM-KPM-IndicationMessage", value)  # the quirk fixed


@pytest.mark.parametrize(
    ("value", "contents"),
    [
        (0.0, ""),
        (-0.0, "43"),
        (math.inf, "40"),
        (-math.inf, "41"),
        (math.nan, "42"),
        (1.0, "800001"),
        (-2.5, "c0ff05"),
        (0.5, "80ff01"),
        (2.0**200, "81 00c8 01".replace(" ", "")),
    ],
)
def test_real_special_and_small_values(value, contents):
    assert e2sm_asn.encode_real(value).hex() == contents


def _pycrate_real(value: float) -> bytes:
    frac, exp = math.frexp(abs(value))
    mantissa = int(frac * (1 << 53)) * (1 if value > 0 else -1)
    obj = REAL()
    obj.set_val((mantissa, 2, exp - 53))  # pycrate normalises the mantissa itself
    return obj.to_aper()


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 0.0))
def test_real_matches_pycrate_aper(value):
    contents = e2sm_asn.encode_real(value)
    assert bytes((len(contents),)) + contents == _pycrate_real(value)


def test_real_matches_pycrate_on_integer_valued_and_random_reals():
    rng = random.Random(7)
    values = [float(v) for v in (1, 2, 3, 163, 255, 256, 65535, 65536, 2**40 + 1)]
    values += [rng.uniform(-1e9, 1e9) for _ in range(200)] + [
        math.ldexp(rng.random(), rng.randint(-1070, 1020)) for _ in range(200)
    ]
    for v in values:
        contents = e2sm_asn.encode_real(v)
        assert bytes((len(contents),)) + contents == _pycrate_real(v), v
        assert e2sm_asn.compiled("kpm").decode("MeasurementRecordItem", bytes((0x20, len(contents))) + contents) == (
            "real",
            v,
        )


# -- round trips --------------------------------------------------------------------------------------
def test_ran_function_definition_round_trip():
    rfd = kpm.KpmRanFunctionDefinition(
        instance=3,
        report_styles=(kpm.KpmReportStyle(meas_names=NAMES, meas_ids=(1, None, 3, None)),),
    )
    assert kpm.decode_ran_function_definition(kpm.encode_ran_function_definition(rfd)) == rfd
    default = kpm.default_kpm_ran_function_definition(NAMES)
    decoded = kpm.decode_ran_function_definition(kpm.encode_ran_function_definition(default))
    assert decoded == default and decoded.oid == kpm.KPM_OID and decoded.short_name == "ORAN-E2SM-KPM"
    assert decoded.report_styles[0].meas_names == NAMES and decoded.event_trigger_styles[0].style_type == 1


@pytest.mark.parametrize("cell", [None, kpm.NrCgi(PlmnId("001", "01"), 0), kpm.NrCgi(PlmnId("999", "999"), 2**36 - 1)])
def test_action_definition_round_trip(cell):
    action = kpm.KpmActionDefinition(NAMES, 1000, cell)
    assert kpm.decode_action_definition(kpm.encode_action_definition(action)) == action


def test_indication_header_optional_strings_decode():
    header = kpm.KpmIndicationHeader(b"\x01" * 8, "v1", "gNB-1", "gNB", "DNT")
    assert kpm.decode_indication_header(kpm.encode_indication_header(header)) == header


def test_indication_message_named_values_and_encoder_agree():
    values = (12.5, 7, None, 273)
    enc = kpm.KpmIndicationEncoder(NAMES, 1000)
    data = enc.encode(values)
    assert data == kpm.encode_indication_message(kpm.KpmIndicationMessage((values,), NAMES, 1000))
    decoded = kpm.decode_indication_message(data)
    assert decoded.named() == dict(zip(NAMES, values, strict=True)) and decoded.granul_period_ms == 1000
    two = enc.encode_records([values, values], incomplete=[False, True])
    assert kpm.decode_indication_message(two).incomplete == (False, True)


def test_numpy_like_scalars_are_accepted():
    class Scalar:  # stands in for numpy.int64 / numpy.float32 without importing numpy here
        def __init__(self, v):
            self.v = v

        def __index__(self):
            return self.v

    data = kpm.KpmIndicationEncoder((), None).encode((Scalar(5),))
    assert kpm.decode_indication_message(data).records == ((5,),)


# -- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "build",
    [
        lambda: kpm.encode_event_trigger(kpm.KpmEventTrigger(0)),
        lambda: kpm.encode_action_definition(kpm.KpmActionDefinition(("bad_name",), 1000)),
        lambda: kpm.encode_action_definition(
            kpm.KpmActionDefinition(NAMES, 1000, kpm.NrCgi(PlmnId("001", "01"), 2**36))
        ),
        lambda: kpm.encode_action_definition(kpm.KpmActionDefinition((), 1000)),
        lambda: kpm.encode_indication_header(kpm.KpmIndicationHeader(b"\x00" * 4)),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((2**32,),))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((-1,),))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((True,),))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((),))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(())),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage((("x",),))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((1, 2),), ("A",))),
        lambda: kpm.encode_indication_message(kpm.KpmIndicationMessage(((1,),), (), 0)),
        lambda: kpm.KpmIndicationEncoder(NAMES, 1000).encode((1,)),
        lambda: kpm.KpmIndicationHeader.from_unix_ms(math.inf),
    ],
)
def test_invalid_values_raise_encode_error(build):
    with pytest.raises(EncodeError):
        build()


@pytest.mark.parametrize(
    ("decoder", "data", "needle"),
    [
        (kpm.decode_indication_message, b"", "empty"),
        (kpm.decode_indication_header, bytes.fromhex("0083aa7e8000000000") + b"\x00", "trailing"),
        (kpm.decode_indication_header, bytes.fromhex("1f21222324"), "v2"),
        (kpm.decode_action_definition, bytes.fromhex("00010120"), "outside the DNT-RIC KPM subset"),
        (kpm.decode_indication_message, bytes.fromhex("20"), "outside the DNT-RIC KPM subset"),
        (kpm.decode_indication_message, bytes.fromhex("0400000003600005"), "choice index"),
    ],
)
def test_bad_bytes_raise_decode_error_with_a_clear_message(decoder, data, needle):
    with pytest.raises(DecodeError, match=needle):
        decoder(data)


def test_measid_and_labels_are_reported_as_outside_the_subset():
    def action(item):
        return e2sm_asn.encode(
            "kpm",
            "E2SM-KPM-ActionDefinition",
            {
                "ric-Style-Type": 1,
                "actionDefinition-formats": (
                    "actionDefinition-Format1",
                    {"measInfoList": [item], "granulPeriod": 1000},
                ),
            },
        )

    by_id = action({"measType": ("measID", 5), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]})
    with pytest.raises(DecodeError, match="measID"):
        kpm.decode_action_definition(by_id)
    sliced = action(
        {"measType": ("measName", "DRB.UEThpDl"), "labelInfoList": [{"measLabel": {"sliceID": {"sST": b"\x01"}}}]}
    )
    with pytest.raises(DecodeError, match="noLabel"):
        kpm.decode_action_definition(sliced)


# -- hand-written codec == asn1tools ------------------------------------------------------------------
_value = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.floats(allow_nan=False, allow_infinity=True, width=64),
)
_name = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?", min_size=1, max_size=150
)


@st.composite
def _messages(draw):
    width = draw(st.integers(min_value=1, max_value=15))
    n_records = draw(st.integers(min_value=1, max_value=3))
    records = tuple(tuple(draw(_value) for _ in range(width)) for _ in range(n_records))
    names = tuple(draw(st.lists(_name, min_size=width, max_size=width))) if draw(st.booleans()) else ()
    granul = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=2**32 - 1)))
    incomplete = tuple(draw(st.booleans()) for _ in range(n_records)) if draw(st.booleans()) else ()
    return kpm.KpmIndicationMessage(records, names, granul, incomplete)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages())
def test_fast_codec_is_byte_identical_to_asn1tools(msg):
    fast = kpm.encode_indication_message(msg)
    slow = kpm._encode_message_asn1tools(msg.records, msg.meas_names, msg.granul_period_ms, msg.incomplete)
    assert fast == slow
    via_fast = kpm.decode_indication_message(fast)
    via_slow = kpm._decode_message_asn1tools(fast)
    assert kpm_fast.decode_format1(fast) is not None  # the common shape takes the fast path
    for got in (via_fast, via_slow):
        assert _same(got.records, msg.records)
        assert got.meas_names == msg.meas_names and got.granul_period_ms == msg.granul_period_ms
        assert got.incomplete == msg.incomplete


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages(), st.data())
def test_fast_decoder_agrees_with_asn1tools_on_mutated_bytes(msg, data):
    raw = bytearray(kpm.encode_indication_message(msg))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        op = data.draw(st.sampled_from(["flip", "cut", "add", "set"]))
        i = data.draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[i] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
        elif op == "cut":
            del raw[i:]
        elif op == "add":
            raw.insert(i, data.draw(st.integers(min_value=0, max_value=255)))
        elif raw:
            raw[i] = data.draw(st.integers(min_value=0, max_value=255))
    blob = bytes(raw)
    fast = kpm_fast.decode_format1(blob)
    try:
        slow = kpm._decode_message_asn1tools(blob)
    except DecodeError:
        slow = None
    if fast is not None:  # whenever the fast path answers, asn1tools gives the same value
        assert slow is not None
        records, flags, names, granul = fast
        assert _same(records, slow.records) and (names or ()) == slow.meas_names and granul == slow.granul_period_ms
        assert (flags if any(flags) else ()) == slow.incomplete


def test_fast_decoder_agrees_with_asn1tools_on_every_single_bit_flip():
    seed = kpm.KpmIndicationEncoder(NAMES[:3], 1000).encode_records(
        [(1.5, 70000, None), (None, 0, 2.0**-30)], [True, False]
    )
    accepted = 0
    for i in range(len(seed) * 8):
        blob = bytearray(seed)
        blob[i // 8] ^= 0x80 >> (i % 8)
        fast = kpm_fast.decode_format1(bytes(blob))
        if fast is None:
            continue
        accepted += 1
        slow = kpm._decode_message_asn1tools(bytes(blob))
        records, flags, names, granul = fast
        assert _same(records, slow.records) and names == slow.meas_names and granul == slow.granul_period_ms
        assert (flags if any(flags) else ()) == slow.incomplete
    assert accepted > len(seed)  # most value bits keep the common shape
