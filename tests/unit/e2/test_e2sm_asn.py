"""Locating and compiling the E2SM ASN.1 subsets: source checkout, editable install, environment override;
the REAL patch reaches every REAL node; strict length checking."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import asn1tools
import pytest
from asn1tools.codecs import per

from dnt.e2 import e2sm_asn
from dnt.errors import DecodeError

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_schema_dir_is_the_repository_schemas_folder():
    assert e2sm_asn.schema_dir() == REPO_ROOT / "schemas" / "e2sm"
    for name in e2sm_asn.SCHEMA_FILES.values():
        assert (REPO_ROOT / "schemas" / "e2sm" / name).is_file()


def test_environment_variable_overrides_the_location(tmp_path, monkeypatch):
    for name in e2sm_asn.SCHEMA_FILES.values():
        shutil.copy(REPO_ROOT / "schemas" / "e2sm" / name, tmp_path / name)
    monkeypatch.setenv(e2sm_asn.SCHEMA_DIR_ENV, str(tmp_path))
    assert e2sm_asn.schema_dir() == tmp_path
    monkeypatch.setenv(e2sm_asn.SCHEMA_DIR_ENV, str(tmp_path / "missing"))
    assert e2sm_asn.schema_dir() == REPO_ROOT / "schemas" / "e2sm"  # falls back to the checkout


def test_installed_package_finds_the_schemas_from_any_working_directory(tmp_path):
    code = (
        "from dnt.e2 import e2sm_asn, kpm; "
        "print(e2sm_asn.schema_dir()); print(kpm.encode_event_trigger(kpm.KpmEventTrigger(1000)).hex())"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != e2sm_asn.SCHEMA_DIR_ENV}
    env.pop("PYTHONPATH", None)  # resolve dnt through the installed (editable) package only
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    where, hex_bytes = out.stdout.split()
    assert Path(where) == REPO_ROOT / "schemas" / "e2sm" and hex_bytes == "0803e7"


@pytest.mark.parametrize("spec", ["kpm", "rc"])
def test_every_real_node_gets_the_shortest_form_encoder(spec):
    path = e2sm_asn.schema_dir() / e2sm_asn.SCHEMA_FILES[spec]
    fresh = asn1tools.compile_files([str(path)], "per")
    assert e2sm_asn._patch_reals(fresh) >= 1
    stack = [ct._type for ct in fresh.types.values()]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, per.Real):
            assert "encode" in vars(node)
        for attr in vars(node).values():
            if isinstance(attr, per.Type):
                stack.append(attr)
            elif isinstance(attr, list | tuple | dict):
                stack.extend(x for x in (attr.values() if isinstance(attr, dict) else attr) if isinstance(x, per.Type))


def test_decode_is_strict_about_trailing_octets_and_types():
    good = e2sm_asn.encode(
        "kpm",
        "E2SM-KPM-EventTriggerDefinition",
        {"eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": 10})},
    )
    assert e2sm_asn.decode("kpm", "E2SM-KPM-EventTriggerDefinition", good)
    with pytest.raises(DecodeError, match="trailing"):
        e2sm_asn.decode("kpm", "E2SM-KPM-EventTriggerDefinition", good + b"\x00")
    with pytest.raises(DecodeError, match="expected bytes"):
        e2sm_asn.decode("kpm", "E2SM-KPM-EventTriggerDefinition", "0803e7")  # type: ignore[arg-type]
