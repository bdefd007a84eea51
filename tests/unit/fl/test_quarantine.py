"""Quarantine of clients the aggregation rule keeps trimming or rejecting."""

from __future__ import annotations

import json

import pytest

from dnt.errors import ConfigError, DecodeError
from dnt.fl.quarantine import Quarantine, QuarantineConfig


def _round(q: Quarantine, evil_weight: float = 0.0, rejected: tuple[int, ...] = ()) -> list[str]:
    ids = ["a", "b", "c", "evil"]
    rest = (1.0 - evil_weight) / 3
    return q.observe(ids, [rest, rest, rest, evil_weight], rejected)


def test_repeatedly_trimmed_client_is_quarantined_with_reason() -> None:
    q = Quarantine(window=10, threshold=0.6, min_weight=0.05, min_observations=5)
    for _ in range(4):
        assert _round(q) == []  # too few observations yet
    assert _round(q) == ["evil"]
    assert q.reason("evil") == "trimmed or rejected in 5 of the last 5 aggregations"
    assert q.reason("a") is None and q.check("a") is None
    assert q.check("evil") is not None and q.check("evil") is not None
    m = q.metrics()
    assert m["quarantined"] == 1 and m["clients"]["evil"]["dropped"] == 2 and m["clients"]["evil"]["quarantined"]
    assert m["clients"]["a"] == {"quarantined": False, "flagged": 0, "observed": 5, "dropped": 0, "reason": ""}
    assert q.quarantined == {"evil": "trimmed or rejected in 5 of the last 5 aggregations"}


def test_threshold_over_the_window() -> None:
    q = Quarantine(window=10, threshold=0.6, min_weight=0.05, min_observations=5)
    for bad in [False, True] * 5:  # flagged in at most half of its aggregations: below 0.6
        assert _round(q, 0.0 if bad else 0.25) == []
    # the window slides: F,T,F,T,F,T,F,T,F,T + T drops the first F -> flagged in 6 of the last 10
    assert _round(q) == ["evil"]
    assert q.reason("evil") == "trimmed or rejected in 6 of the last 10 aggregations"


def test_weight_is_relative_to_the_equal_share_and_rejections_count() -> None:
    q = Quarantine(window=3, threshold=1.0, min_weight=0.5, min_observations=3)
    # 4 updates: equal share 0.25, bar 0.125; 0.13 is fine, 0.12 is trimmed
    for _ in range(3):
        assert _round(q, 0.13) == []
    q2 = Quarantine(window=3, threshold=1.0, min_weight=0.5, min_observations=3)
    assert [_round(q2, 0.12) for _ in range(3)][-1] == ["evil"]
    q3 = Quarantine(window=3, threshold=1.0, min_observations=3)
    out = [q3.observe(["a", "evil"], [1.0, 0.5], rejected=(1,)) for _ in range(3)]  # rejected despite weight
    assert out[-1] == ["evil"]
    # a client appearing twice is one observation, flagged when any of its updates is
    q4 = Quarantine(window=2, threshold=1.0, min_observations=2)
    q4.observe(["a", "evil", "evil"], [0.5, 0.5, 0.0])
    assert q4.observe(["a", "evil", "evil"], [0.5, 0.5, 0.0]) == ["evil"]
    assert q4.metrics()["clients"]["evil"]["observed"] == 2


def test_cooldown_releases_with_a_fresh_history() -> None:
    now = [1000.0]
    q = Quarantine(window=3, threshold=0.6, min_observations=3, cooldown_s=60, clock=lambda: now[0])
    for _ in range(3):
        _round(q)
    assert q.reason("evil") is not None
    now[0] += 59
    assert q.reason("evil") is not None
    now[0] += 1
    assert q.reason("evil") is None and q.metrics()["clients"]["evil"]["observed"] == 0
    # no cooldown: only a manual release frees it
    q2 = Quarantine(window=3, min_observations=3, clock=lambda: now[0])
    for _ in range(3):
        _round(q2)
    now[0] += 10**6
    assert q2.reason("evil") is not None
    assert q2.release("evil") and not q2.release("evil") and q2.reason("evil") is None


def test_quarantined_client_gathers_no_new_evidence_and_configure_keeps_history() -> None:
    q = Quarantine(window=4, threshold=0.5, min_observations=2)
    _round(q)
    _round(q)
    assert q.reason("evil") is not None
    _round(q)
    assert q.metrics()["clients"]["evil"]["observed"] == 2
    q.configure(window=1)
    assert q.cfg.window == 1 and q.metrics()["clients"]["a"]["observed"] == 1
    with pytest.raises(ConfigError):
        q.configure(threshold=0)


def test_roundtrip_through_json() -> None:
    now = [5.0]
    q = Quarantine(window=3, threshold=0.6, min_observations=3, cooldown_s=10, clock=lambda: now[0])
    for _ in range(3):
        _round(q)
    q.check("evil")
    again = Quarantine.from_dict(json.loads(json.dumps(q.to_dict())), clock=lambda: now[0])
    assert again.cfg == q.cfg and again.to_dict() == q.to_dict()
    assert again.reason("evil") == q.reason("evil")
    other = Quarantine.from_dict(q.to_dict(), QuarantineConfig(window=2), clock=lambda: now[0])
    assert other.cfg.window == 2 and other.metrics()["clients"]["a"]["observed"] == 2
    with pytest.raises(DecodeError):
        Quarantine.from_dict({"cfg": {"window": 0}, "clients": {}})
    with pytest.raises(DecodeError):
        Quarantine.from_dict({})


@pytest.mark.parametrize("kw", [{"window": 0}, {"threshold": 0.0}, {"threshold": 1.5}, {"min_weight": -0.1},
                                {"min_observations": 0}, {"cooldown_s": -1}])
def test_config_validation(kw) -> None:
    with pytest.raises(ConfigError):
        Quarantine(**kw)


def test_mismatched_inputs() -> None:
    q = Quarantine()
    with pytest.raises(ValueError):
        q.observe(["a", "b"], [1.0])
    assert q.observe([], []) == []
