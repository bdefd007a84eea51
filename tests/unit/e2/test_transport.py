"""E2 transports: length framing (partial reads, oversize frames, EOF mid-frame) and SCTP option layouts."""

from __future__ import annotations

import asyncio
import errno
import socket
import struct

import pytest

from dnt.e2 import transport as t
from dnt.errors import TransportError


# -- framing -------------------------------------------------------------------------------------------
def test_frame_is_big_endian_length_then_payload():
    assert t.encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert t.encode_frame(b"") == b"\x00\x00\x00\x00"
    assert t.encode_frame(b"x" * 258)[:4] == b"\x00\x00\x01\x02"


def test_decoder_reassembles_frames_split_at_every_byte():
    # Prepare
    payloads = [b"", b"a", b"hello world", bytes(range(256)) * 3]
    stream = b"".join(t.encode_frame(p) for p in payloads)
    # Execute: one byte at a time, then all at once
    dec = t.FrameDecoder()
    got = [f for i in range(len(stream)) for f in dec.feed(stream[i:i + 1])]
    # Assert
    assert got == payloads and dec.pending_bytes == 0
    assert t.FrameDecoder().feed(stream) == payloads


@pytest.mark.parametrize("cut", [1, 3, 4, 5, 9])
def test_decoder_holds_a_partial_frame_until_the_rest_arrives(cut):
    frame = t.encode_frame(b"12345678")
    dec = t.FrameDecoder()
    assert dec.feed(frame[:cut]) == []
    assert dec.pending_bytes == cut
    assert dec.feed(frame[cut:] + frame[:2]) == [b"12345678"]
    assert dec.pending_bytes == 2


def test_oversize_frames_are_refused_on_both_sides():
    with pytest.raises(TransportError, match="exceeds max_frame_bytes=8"):
        t.encode_frame(b"x" * 9, max_frame_bytes=8)
    dec = t.FrameDecoder(max_frame_bytes=8)
    assert dec.feed(t.encode_frame(b"x" * 8)) == [b"x" * 8]
    with pytest.raises(TransportError, match="announced a frame of 4294967295 bytes"):
        dec.feed(b"\xff\xff\xff\xff")


def test_eof_mid_frame_is_an_error_and_eof_at_a_boundary_is_not():
    dec = t.FrameDecoder()
    dec.feed(t.encode_frame(b"done"))
    dec.check_eof()
    dec.feed(t.encode_frame(b"unfinished")[:7])
    with pytest.raises(t.TransportClosed, match="inside a frame"):
        dec.check_eof()


def _pair() -> tuple[t.TcpFramedTransport, socket.socket]:
    a, b = socket.socketpair()
    return t.TcpFramedTransport(a, max_frame_bytes=64), b


def test_tcp_transport_reads_frames_from_partial_writes_and_times_out():
    tr, raw = _pair()
    with tr, raw:
        data = t.encode_frame(b"first") + t.encode_frame(b"second")
        raw.sendall(data[:3])
        assert tr.recv(timeout=0.01) is None  # only part of a header
        raw.sendall(data[3:])
        assert tr.recv(timeout=1) == b"first"
        assert tr.recv(timeout=1) == b"second"
        assert tr.recv(timeout=0) is None


def test_tcp_transport_send_many_is_one_stream_of_frames():
    tr, raw = _pair()
    with tr, raw:
        tr.send_many([b"a", b"bc"])
        tr.send(b"")
        dec = t.FrameDecoder()
        got: list[bytes] = []
        while len(got) < 3:
            got += dec.feed(raw.recv(100))
        assert got == [b"a", b"bc", b""]


def test_tcp_transport_eof_mid_frame_and_clean_eof_raise_closed():
    tr, raw = _pair()
    with tr:
        raw.sendall(t.encode_frame(b"0123456789")[:6])
        raw.close()
        with pytest.raises(t.TransportClosed, match="inside a frame"):
            tr.recv(timeout=1)
    tr, raw = _pair()
    with tr:
        raw.close()
        with pytest.raises(t.TransportClosed, match="peer closed"):
            tr.recv(timeout=1)


def test_tcp_transport_rejects_an_oversize_announcement():
    tr, raw = _pair()
    with tr, raw:
        raw.sendall(struct.pack(">I", 65))
        with pytest.raises(TransportError, match="announced a frame of 65"):
            tr.recv(timeout=1)


# -- SCTP option layouts ---------------------------------------------------------------------------------
def test_option_numbers_match_linux_sctp_h():
    assert (t.SOL_SCTP, t.SCTP_NODELAY, t.SCTP_DEFAULT_SNDINFO, t.SCTP_RECVRCVINFO, t.SCTP_RCVINFO) == (132, 3, 34,
                                                                                                        32, 3)
    assert (t.E2AP_PPID, t.E2AP_SCTP_PORT) == (70, 36422)


def test_sndinfo_is_16_bytes_with_the_ppid_in_network_order():
    raw = t.pack_sndinfo(t.SndInfo(sid=1, flags=2, ppid=70, context=3, assoc_id=4))
    assert len(raw) == 16
    # u16 sid, u16 flags (host order) | u32 ppid big-endian on the wire | u32 context | s32 assoc_id
    assert raw[4:8] == b"\x00\x00\x00\x46"
    assert struct.unpack("=HH", raw[:4]) == (1, 2)
    assert struct.unpack("=Ii", raw[8:]) == (3, 4)
    assert t.unpack_sndinfo(raw) == t.SndInfo(1, 2, 70, 3, 4)
    assert t.pack_sndinfo()[4:8] == b"\x00\x00\x00\x46"  # default PPID is E2AP's 70


def test_rcvinfo_is_28_bytes_with_padding_after_flags():
    info = t.RcvInfo(sid=5, ssn=6, flags=7, ppid=70, tsn=8, cumtsn=9, context=10, assoc_id=11)
    raw = t.pack_rcvinfo(info)
    assert len(raw) == 28
    assert raw[6:8] == b"\x00\x00"  # alignment padding before the u32 ppid
    assert raw[8:12] == b"\x00\x00\x00\x46"
    assert t.unpack_rcvinfo(raw) == info
    with pytest.raises(TransportError, match="28 bytes"):
        t.unpack_rcvinfo(raw[:20])


def test_sndinfo_out_of_range_is_a_transport_error():
    with pytest.raises(TransportError, match="out of range"):
        t.pack_sndinfo(t.SndInfo(sid=70000))


def test_sctp_socket_reports_the_missing_kernel_support_clearly():
    if t.sctp_available():
        sock = t.open_socket("sctp")
        sock.close()
        return
    with pytest.raises(TransportError, match="no SCTP") as err:
        t.open_socket("sctp")
    assert err.value.__cause__.errno in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT)


def test_unknown_transport_kind_is_refused():
    with pytest.raises(TransportError, match="unknown transport 'udp'"):
        t.open_socket("udp")


# -- asyncio transport -------------------------------------------------------------------------------------
def test_async_transport_frames_batches_and_detects_eof_mid_frame():
    async def scenario() -> list[object]:
        a, b = socket.socketpair()
        left, right = t.AsyncStreamTransport("tcp", a), t.AsyncStreamTransport("tcp", b)
        await left.send_many([b"one", b"", b"three" * 100])
        got: list[object] = [await right.recv(timeout=1) for _ in range(3)]
        got.append(await right.recv(timeout=0.01))  # nothing more: timeout
        b2 = right.sock
        b2.send(t.encode_frame(b"cut")[:5])  # half a frame, then EOF
        b2.shutdown(socket.SHUT_WR)
        try:
            await left.recv(timeout=1)
        except t.TransportClosed as err:
            got.append(str(err))
        left.close()
        right.close()
        return got


    got = asyncio.run(scenario())
    assert got[:4] == [b"one", b"", b"three" * 100, None]
    assert "inside a frame" in got[4]


def test_async_graceful_close_lets_the_peer_read_everything():
    async def scenario() -> list[bytes]:
        a, b = socket.socketpair()
        sender, receiver = t.AsyncStreamTransport("tcp", a), t.AsyncStreamTransport("tcp", b)
        await sender.send_many([bytes([i]) * 1000 for i in range(50)])

        async def drain() -> list[bytes]:
            out = []
            try:
                while True:
                    out.append(await receiver.recv(timeout=2))
            except t.TransportClosed:
                receiver.close()
            return out

        task = asyncio.create_task(drain())
        await sender.aclose(drain_timeout=2)
        return await task


    got = asyncio.run(scenario())
    assert got == [bytes([i]) * 1000 for i in range(50)]
