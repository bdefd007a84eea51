"""Fuzzing the E2AP decoders, and round-trip properties for every message type.

Inputs are random bytes and mutations (bit flips, truncations, insertions, deletions, overwrites) of
PDUs this codec encoded itself, so nothing here needs ../shared. Properties:

* ``e2ap.decode``, ``fastpath.decode`` and ``fastpath.decode_indication`` raise nothing but DecodeError;
* whatever decodes re-encodes, and the re-encoded PDU decodes to an equal message;
* when the template decoder accepts an input, the pycrate decoder accepts it too, with an equal result.

The default suite runs 5,000 fuzz inputs; the ``slow`` variants run 100,000.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2_strategies import MESSAGES, indications, messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnt.e2 import e2ap, fastpath
from dnt.errors import DecodeError

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
FUZZ = settings(deadline=None, suppress_health_check=_QUIET, database=None)

# first octets of real PDUs (initiating / successful / unsuccessful + procedure + criticality), to get past
# the outer CHOICE into the message bodies more often than uniform bytes do
_HEADS = [bytes.fromhex(h) for h in ("000540", "000800", "000400", "200800", "400800", "200100", "000100",
                                     "400400", "000200", "000900", "000a00", "000b00", "000c40", "001100")]


def _only_decode_errors(data: bytes) -> None:
    """Every decoder either returns a message or raises DecodeError; results agree with pycrate."""
    generic: Any = None
    try:
        generic = e2ap.decode(data)
    except DecodeError:
        pass
    for decoder in (fastpath.decode, fastpath.decode_indication):
        try:
            decoder(data)
        except DecodeError:
            pass
    fast = fastpath.try_decode_indication(data)
    if fast is not None:
        assert generic == fast, "the template decoder accepted what pycrate decodes differently or rejects"
    if generic is not None:
        again = e2ap.decode(e2ap.encode(generic))
        assert again == generic


@st.composite
def mutated_pdus(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> bytes:
    data = bytearray(e2ap.encode(draw(base)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 4))]
        elif op == "overwrite" and data:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


random_bytes = st.binary(max_size=400)
headed_bytes = st.builds(lambda head, tail: head + tail, st.sampled_from(_HEADS), st.binary(max_size=300))
mutated = mutated_pdus(st.one_of(indications, messages))


# --- default suite: 5,000 fuzz inputs ------------------------------------------------------------
@settings(FUZZ, max_examples=1_200)
@given(random_bytes)
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    _only_decode_errors(data)


@settings(FUZZ, max_examples=1_300)
@given(headed_bytes)
def test_random_bodies_behind_real_headers_raise_only_decode_error(data: bytes) -> None:
    _only_decode_errors(data)


@settings(FUZZ, max_examples=2_500)
@given(mutated)
def test_mutated_valid_pdus_raise_only_decode_error(data: bytes) -> None:
    _only_decode_errors(data)


# --- slow suite: 100,000 fuzz inputs -------------------------------------------------------------
@pytest.mark.slow
@settings(FUZZ, max_examples=25_000)
@given(random_bytes)
def test_random_bytes_raise_only_decode_error_100k(data: bytes) -> None:
    _only_decode_errors(data)


@pytest.mark.slow
@settings(FUZZ, max_examples=25_000)
@given(headed_bytes)
def test_random_bodies_behind_real_headers_raise_only_decode_error_100k(data: bytes) -> None:
    _only_decode_errors(data)


@pytest.mark.slow
@settings(FUZZ, max_examples=50_000)
@given(mutated)
def test_mutated_valid_pdus_raise_only_decode_error_100k(data: bytes) -> None:
    _only_decode_errors(data)


# --- round trips: every message type -------------------------------------------------------------
@pytest.mark.parametrize("cls", list(MESSAGES), ids=lambda c: c.__name__)
def test_every_message_type_round_trips(cls: type) -> None:
    @settings(FUZZ, max_examples=25)
    @given(MESSAGES[cls])
    def round_trip(msg: Any) -> None:
        # Execute
        data = e2ap.encode(msg)
        back = e2ap.decode(data)

        # Assert
        assert type(back) is cls
        assert back == msg
        assert e2ap.encode(back) == data
        assert back.wire is None  # built in code: the specification's criticalities

    round_trip()


def test_the_strategies_cover_every_decodable_message_class() -> None:
    assert set(MESSAGES) == {spec.cls for spec in e2ap._SPECS}
