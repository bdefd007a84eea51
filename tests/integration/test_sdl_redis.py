"""SDL on a real redis-server: ricsdl configured from DBAAS_SERVICE_HOST/PORT, as in production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dnt.errors import ConfigError
from dnt.ric.redis_server import RedisServer, find_redis_server
from dnt.ric.sdl import SdlStore
from dnt.ric.subscription import SubscriptionBook, SubscriptionRecord

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


@pytest.fixture
def dbaas(server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    """Point ricsdl at the test server through the production variables; start from an empty database."""
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    redis.Redis(host=server.host, port=server.port).flushall()
    return server


@pytest.fixture
def store(dbaas: RedisServer) -> Iterator[SdlStore]:
    s = SdlStore()
    yield s
    s.close()


def test_the_bundled_redis_binary_is_found_and_answers(server: RedisServer) -> None:
    assert Path(find_redis_server()).is_file()
    assert server.running and server.ping()


def test_set_get_find_delete(store: SdlStore) -> None:
    # Prepare
    store.set("dnt.twin", "model/1", b"\x00weights")
    store.set_many("dnt.twin", {"model/2": b"w2", "manifest": b"{}"})

    # Execute / Assert
    assert store.healthy()
    assert store.get("dnt.twin", "model/1") == b"\x00weights"
    assert store.get("dnt.twin", "missing") is None
    assert store.find("dnt.twin", "model/") == {"model/1": b"\x00weights", "model/2": b"w2"}
    assert store.keys("dnt.twin") == ["manifest", "model/1", "model/2"]
    store.delete("dnt.twin", "model/1")
    assert store.find("dnt.twin", "model/") == {"model/2": b"w2"}


def test_keys_are_stored_in_ricsdl_layout_and_namespaces_are_isolated(store: SdlStore, dbaas: RedisServer) -> None:
    # Execute
    store.set("xapp-a", "state", b"A")
    store.set("xapp-b", "state", b"B")

    # Assert: other SDL clients (Go, ricxappframe) see `{ns},key`
    raw = redis.Redis(host=dbaas.host, port=dbaas.port)
    assert sorted(raw.keys("*")) == [b"{xapp-a},state", b"{xapp-b},state"]
    assert (store.get("xapp-a", "state"), store.get("xapp-b", "state")) == (b"A", b"B")
    assert store.find("xapp-c") == {}
    store.delete("xapp-a", "state")
    assert store.get("xapp-b", "state") == b"B"


def test_single_key_calls_do_not_hit_ricsdls_str_iteration_bug(store: SdlStore) -> None:
    # Prepare: one-letter keys that SyncStorage.get(ns, "key") / remove(ns, "key") would touch
    store.set_many("ns", {"k": b"1", "e": b"2", "y": b"3", "key": b"4"})

    # Execute
    got = store.get("ns", "key")
    store.delete("ns", "key")

    # Assert
    assert got == b"4"
    assert store.find("ns") == {"e": b"2", "k": b"1", "y": b"3"}


def test_prefixes_with_glob_characters_are_literal(store: SdlStore) -> None:
    store.set_many("ns", {"a*b/1": b"1", "axb/2": b"2", "a[1]/3": b"3", "a1/4": b"4"})
    assert list(store.find("ns", "a*b/")) == ["a*b/1"]
    assert list(store.find("ns", "a[1]")) == ["a[1]/3"]


def test_json_helpers_and_set_if_absent(store: SdlStore) -> None:
    store.set_json("cfg", "x", {"v": 1})
    assert store.get_json("cfg", "x") == {"v": 1}
    assert store.set_if_absent("cfg", "lock", b"me") is True
    assert store.set_if_absent("cfg", "lock", b"you") is False
    assert store.get("cfg", "lock") == b"me"


def test_a_restarted_store_client_resumes_state(dbaas: RedisServer) -> None:
    # Prepare: an xApp writes its subscriptions and counters, then goes away
    first = SdlStore()
    SubscriptionBook(first, "dnt.ric.htwin").save(SubscriptionRecord("k", 55, "1234", "gnb_1", 2, 1))
    first.set("dnt.htwin", "twin/version", b"7")
    first.close()

    # Execute: the restarted xApp opens a new client from the same environment
    second = SdlStore()

    # Assert
    assert second.get("dnt.htwin", "twin/version") == b"7"
    assert SubscriptionBook(second, "dnt.ric.htwin").by_sub_id(55) == SubscriptionRecord("k", 55, "1234", "gnb_1", 2, 1)
    second.close()


def test_state_survives_a_redis_restart_with_a_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    srv = RedisServer(data_dir=tmp_path).start()
    for key, value in srv.env().items():
        monkeypatch.setenv(key, value)
    client = SdlStore()
    client.set("dnt.agg", "global/version", b"3")
    client.close()

    # Execute: shut down (saves dump.rdb), start again on the same port and directory
    srv.stop()
    srv.start()
    reopened = SdlStore()

    # Assert
    try:
        assert reopened.get("dnt.agg", "global/version") == b"3"
    finally:
        reopened.close()
        srv.close()


def test_an_unreachable_redis_reports_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    srv = RedisServer().start()
    for key, value in srv.env().items():
        monkeypatch.setenv(key, value)
    store = SdlStore()
    assert store.healthy()
    srv.close()
    assert not store.healthy()


def test_missing_dbaas_variables_are_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBAAS_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError, match="DBAAS_SERVICE_HOST"):
        SdlStore()
