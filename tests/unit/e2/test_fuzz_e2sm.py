"""Fuzzing every E2SM decoder with random and mutated bytes: only ``DecodeError`` may escape.

The default run feeds about 2,500 inputs across the decoders (deterministic seeds); the ``slow`` variant
feeds 100,000. KPM indication messages also check that the hand-written fast decoder, whenever it
answers, agrees with asn1tools.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from dnt.e2 import kpm, kpm_fast, rc
from dnt.e2.e2ap_ies import GlobalGnbId, PlmnId
from dnt.errors import DecodeError

PLMN = PlmnId("001", "01")
NAMES = ("DRB.UEThpDl", "DRB.UEThpUl", "RRU.PrbUsedDl", "RRU.PrbAvailDl", "RRU.PrbTotDl")


def _seeds() -> dict[str, tuple[Callable[[bytes], object], list[bytes]]]:
    quota = rc.SlicePrbQuota(plmn=PLMN, sst=1, sd=7, min_prb_ratio=10, max_prb_ratio=60, dedicated_prb_ratio=5)
    _, quota_msg = rc.control_slice_prb_quota([quota, rc.SlicePrbQuota(plmn=PlmnId("310", "410"), sst=2)])
    gnb = rc.UeIdGnb(7, rc.Guami(PLMN, 1, 2, 3), (1, 2), (3,), b"abcdefgh", 9, GlobalGnbId(PLMN, 0x19B, 22))
    return {
        "kpm.ran_function_definition": (
            kpm.decode_ran_function_definition,
            [kpm.encode_ran_function_definition(kpm.default_kpm_ran_function_definition(NAMES))],
        ),
        "kpm.event_trigger": (kpm.decode_event_trigger, [kpm.encode_event_trigger(kpm.KpmEventTrigger(1000))]),
        "kpm.action_definition": (
            kpm.decode_action_definition,
            [kpm.encode_action_definition(kpm.KpmActionDefinition(NAMES, 1000, kpm.NrCgi(PLMN, 0x19B0)))],
        ),
        "kpm.indication_header": (
            kpm.decode_indication_header,
            [
                kpm.encode_indication_header(kpm.KpmIndicationHeader.from_unix_ms(1_700_000_000_000)),
                kpm.encode_indication_header(kpm.KpmIndicationHeader(b"\x01" * 8, "v1", "gnb", "gNB", "DNT")),
            ],
        ),
        "kpm.indication_message": (
            kpm.decode_indication_message,
            [
                kpm.KpmIndicationEncoder(NAMES, 1000).encode_records(
                    [(12.5, 7, None, 273, 2**32 - 1), (0.0, 0, 1e-9, None, 65536)], [False, True]
                ),
                kpm.KpmIndicationEncoder((), None).encode((math.inf, 3, None)),
            ],
        ),
        "rc.control_header": (
            rc.decode_control_header,
            [
                rc.encode_control_header(rc.RcControlHeader(rc.UeIdGnbDu(0), 2, 6)),
                rc.encode_control_header(rc.RcControlHeader(gnb, 3, 1, "accept")),
            ],
        ),
        "rc.control_message": (rc.decode_control_message, [quota_msg]),
        "rc.ran_function_definition": (
            rc.decode_ran_function_definition,
            [rc.encode_ran_function_definition(rc.default_rc_ran_function_definition())],
        ),
        "rc.parse_slice_prb_quota": (rc.parse_slice_prb_quota, [quota_msg]),
    }


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        i = rng.randrange(len(raw)) if raw else 0
        if op == 0 and raw:
            raw[i] ^= 1 << rng.randrange(8)
        elif op == 1 and raw:
            raw[i] = rng.randrange(256)
        elif op == 2:
            raw.insert(i, rng.randrange(256))
        elif op == 3 and raw:
            del raw[i]
        elif op == 4:
            del raw[i:]
        elif op == 5:
            raw[i:i] = raw[i : i + rng.randint(1, 8)]
        elif op == 6:
            other = rng.choice(pool)
            raw = raw[:i] + other[rng.randrange(len(other)) :]
        else:
            raw += bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    return bytes(raw)


def _run(total: int, seed: int) -> dict[str, int]:
    seeds = _seeds()
    pool = [b for _, blobs in seeds.values() for b in blobs]
    per_decoder = max(total // len(seeds), 1)
    rng = random.Random(seed)
    outcomes = {"ok": 0, "decode_error": 0}
    for name, (decoder, blobs) in seeds.items():
        for k in range(per_decoder):
            if k % 4 == 0:
                data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 48)))
            else:
                data = _mutate(rng, rng.choice(blobs), pool)
            try:
                decoder(data)
                outcomes["ok"] += 1
            except DecodeError:
                outcomes["decode_error"] += 1
            except Exception as err:  # the property under test: nothing else escapes
                pytest.fail(f"{name}: {type(err).__name__}: {err} for input {data.hex()}")
            if name == "kpm.indication_message":
                _check_fast_agrees(data)
    return outcomes


def _check_fast_agrees(data: bytes) -> None:
    fast = kpm_fast.decode_format1(data)
    if fast is None:
        return
    slow = kpm._decode_message_asn1tools(data)  # must not raise when the fast path accepted the input
    records, flags, names, granul = fast
    assert repr(records) == repr(slow.records) and (names or ()) == slow.meas_names
    assert granul == slow.granul_period_ms and (flags if any(flags) else ()) == slow.incomplete


def test_fuzz_every_e2sm_decoder_default():
    outcomes = _run(2_520, seed=20240501)
    assert outcomes["ok"] + outcomes["decode_error"] >= 2_500
    assert outcomes["ok"] > 0 and outcomes["decode_error"] > 0  # both paths exercised


@pytest.mark.slow
def test_fuzz_every_e2sm_decoder_100k():
    outcomes = _run(100_000, seed=7)
    assert outcomes["ok"] + outcomes["decode_error"] >= 99_990
