"""The content-addressed model registry, its HTTP face, and the dnt-twin A1 policy type."""

from __future__ import annotations

import hashlib
import json
import urllib.request

import jsonschema
import pytest

from dnt.errors import ModelIntegrityError, PolicyError, TransportError
from dnt.fl.rules import RULES
from dnt.twin.registry import (
    TWIN_POLICY_TYPE_ID,
    ModelRegistry,
    RegistryServer,
    fetch_model,
    twin_policy_type,
    validate_twin_policy,
)

DIGEST = hashlib.sha256(b"model-1").hexdigest()
VALID = {"model_version": 3, "model_digest": DIGEST, "aggregation_rule": "median", "update_cadence_s": 30}


def test_publish_is_content_addressed_and_idempotent() -> None:
    reg = ModelRegistry()
    e1 = reg.publish(b"model-1", 1)
    e2 = reg.publish(b"model-1", 7)
    e3 = reg.publish(b"model-2", 2, cluster=0)
    assert e1 == e2 and e1.digest == DIGEST and e1.size_bytes == 7
    assert reg.get(DIGEST) == b"model-1" and reg.get("0" * 64) is None
    assert [e.version for e in reg.entries()] == [1, 2]
    assert reg.latest() == e1 and reg.latest(0) == e3


def test_directory_registry_survives_a_restart(tmp_path) -> None:
    ModelRegistry(tmp_path).publish(b"model-1", 1)
    again = ModelRegistry(tmp_path)
    assert again.get(DIGEST) == b"model-1" and again.latest().version == 1  # type: ignore[union-attr]


def test_directory_registry_rejects_a_tampered_file(tmp_path) -> None:
    ModelRegistry(tmp_path).publish(b"model-1", 1)
    (tmp_path / f"{DIGEST}.bin").write_bytes(b"evil")
    with pytest.raises(ModelIntegrityError):
        ModelRegistry(tmp_path)


def test_http_serves_list_and_bytes_and_fetch_verifies() -> None:
    reg = ModelRegistry()
    reg.publish(b"model-1", 1)
    srv = RegistryServer(reg).start()
    try:
        with urllib.request.urlopen(f"{srv.url}/models", timeout=5) as r:
            listing = json.loads(r.read())
        assert listing == [{"version": 1, "digest": DIGEST, "cluster": None, "size_bytes": 7}]
        assert fetch_model(srv.url, DIGEST) == b"model-1"
        with pytest.raises(TransportError):
            fetch_model(srv.url, "a" * 64)  # 404
    finally:
        srv.stop()


def test_fetch_rejects_bytes_that_do_not_match_the_digest() -> None:
    reg = ModelRegistry()
    reg.publish(b"model-1", 1)
    reg._blobs["b" * 64] = b"model-1"  # a registry serving the wrong bytes under a digest
    srv = RegistryServer(reg).start()
    try:
        with pytest.raises(ModelIntegrityError):
            fetch_model(srv.url, "b" * 64)
    finally:
        srv.stop()


def test_policy_type_is_an_osc_body_with_a_valid_schema() -> None:
    t = twin_policy_type()
    assert set(t) == {"name", "description", "policy_type_id", "create_schema"}
    assert t["policy_type_id"] == TWIN_POLICY_TYPE_ID and t["name"] == "dnt-twin"
    jsonschema.Draft7Validator.check_schema(t["create_schema"])
    assert set(t["create_schema"]["properties"]["aggregation_rule"]["enum"]) == set(RULES)


@pytest.mark.parametrize("body", [VALID, {**VALID, "rule_params": {"trim": 0.1}, "buffer_size": 4,
                                          "model_url": "http://vtwin:8090"}])
def test_valid_instances_pass(body: dict) -> None:
    assert validate_twin_policy(body) == body


@pytest.mark.parametrize("change", [
    {"model_digest": "XYZ"},
    {"model_digest": DIGEST.upper()},
    {"aggregation_rule": "krum-unknown"},
    {"update_cadence_s": 0},
    {"model_version": -1},
    {"unexpected": 1},
    {"buffer_size": 0},
])
def test_invalid_instances_are_rejected(change: dict) -> None:
    with pytest.raises(PolicyError):
        validate_twin_policy({**VALID, **change})


def test_missing_field_is_rejected() -> None:
    body = dict(VALID)
    del body["model_digest"]
    with pytest.raises(PolicyError, match="model_digest"):
        validate_twin_policy(body)
