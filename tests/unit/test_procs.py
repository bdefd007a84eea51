"""temporary_env sets variables for a block and restores the previous state, also on error."""

import os

import pytest

from dnt.procs import temporary_env


def test_sets_then_restores_and_removes(monkeypatch):
    monkeypatch.setenv("DNT_TEST_KEEP", "old")
    monkeypatch.delenv("DNT_TEST_NEW", raising=False)
    with pytest.raises(RuntimeError):
        with temporary_env({"DNT_TEST_KEEP": "new", "DNT_TEST_NEW": "x"}):
            assert os.environ["DNT_TEST_KEEP"] == "new" and os.environ["DNT_TEST_NEW"] == "x"
            raise RuntimeError("boom")
    assert os.environ["DNT_TEST_KEEP"] == "old"
    assert "DNT_TEST_NEW" not in os.environ
