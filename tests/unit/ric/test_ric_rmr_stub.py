"""The RMR stub's wire on its own (no ricxappframe): seed route table records, round robin, fan-out."""

from __future__ import annotations

from dnt.ric.rmr_stub import RmrStub, StubPeer

TABLE = """newrt|start
mse | 12050 | 7 | a:1,b:2;c:3   # round robin a/b, fan-out to c
rte | 20011 | a1:4562
mse | 12050 | -1 | c:3
newrt|end
"""


def test_route_table_records_route_by_mtype_and_sub_id() -> None:
    # Prepare
    stub = RmrStub()
    stub.load_route_table(TABLE)
    a, b, c, a1, sender = (stub.peer(n) for n in ("a:1", "b:2", "c:3", "a1:4562", "xapp:4560"))

    # Execute
    for i in range(4):
        sender.send(12050, bytes([i]), sub_id=7)
    sender.send(12050, b"other", sub_id=9)
    sender.send(20011, b"resp")

    # Assert
    def drain(peer: StubPeer) -> list[bytes]:
        out = []
        while (m := peer.recv(0)) is not None:
            out.append(m.payload)
        return out

    assert drain(a) == [b"\0", b"\2"] and drain(b) == [b"\1", b"\3"]
    assert drain(c) == [b"\0", b"\1", b"\2", b"\3", b"other"]
    assert drain(a1) == [b"resp"]


def test_reply_keeps_header_fields_and_reset_forgets_peers() -> None:
    stub = RmrStub()
    x, y = stub.peer("x:1"), stub.peer("y:2")
    x.send(30000, b"q", meid="gnb_1", sub_id=4, xid=b"t1", to="y:2")
    y.reply(y.recv(1), 30001, b"r")  # type: ignore[arg-type]
    got = x.recv(1)
    assert got is not None and (got.mtype, got.meid, got.sub_id, got.xid, got.source) == (30001, b"gnb_1", 4, b"t1",
                                                                                          "y:2")
    stub.reset()
    assert stub.endpoints == []
