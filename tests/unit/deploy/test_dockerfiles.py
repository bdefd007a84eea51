"""Dockerfiles of the deployables: what they run and copy exists, python:3.11-slim, non-root, RMR for xApps.

Images cannot be built here; these checks read the Dockerfiles as the builder would (continuations joined,
comments dropped, ARG defaults substituted in FROM) and hold them against the repository.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
XAPPS = ("kpimon", "htwin", "aggregator", "rrm")
DEPLOYABLES = {**{f"xapps/{n}": "xapp" for n in XAPPS}, "rapps/vtwin": "rapp", "sim": "sim"}


def _instructions(path: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order: comments dropped, ``\\`` continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions per build stage (index 0: the global ARGs before the first FROM)."""
    stages: list[list[tuple[str, str]]] = [[]]
    for ins in _instructions(path):
        if ins[0] == "FROM":
            stages.append([])
        stages[-1].append(ins)
    return stages


def _global_args(path: Path) -> dict[str, str]:
    args = {}
    for word, rest in _stages(path)[0]:
        if word == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
    return args


def _base_image(from_args: str, args: dict[str, str]) -> str:
    image = [w for w in from_args.split() if not w.startswith("--")][0]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), image)


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _copies(stage: list[tuple[str, str]]) -> list[tuple[list[str], str, bool]]:
    """``(sources, destination, from_other_stage)`` of each COPY."""
    out = []
    for word, rest in stage:
        if word != "COPY":
            continue
        parts = shlex.split(rest)
        flags = [p for p in parts if p.startswith("--")]
        paths = [p for p in parts if not p.startswith("--")]
        out.append((paths[:-1], paths[-1], any(f.startswith("--from=") for f in flags)))
    return out


def _dockerignored(rel: str) -> bool:
    """Whether ``.dockerignore`` keeps ``rel`` out of the build context (last matching rule wins)."""
    rules = [r.strip() for r in (REPO / ".dockerignore").read_text().splitlines()]
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for rule in rules:
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        pattern = pattern[3:] if pattern.startswith("**/") else pattern
        candidates = prefixes if not rule.lstrip("!").startswith("**/") else [p.split("/")[-1] for p in prefixes]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            excluded = not negate
    return excluded


def _final(folder: str) -> list[tuple[str, str]]:
    return _stages(REPO / folder / "Dockerfile")[-1]


def _exec_form(stage: list[tuple[str, str]], word: str) -> list[str] | None:
    found = [rest for w, rest in stage if w == word]
    return json.loads(found[-1]) if found else None


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_every_base_image_is_python_311_slim_and_the_build_is_multi_stage(folder: str) -> None:
    path = REPO / folder / "Dockerfile"
    args = _global_args(path)
    stage_names = {rest.split()[-1] for w, rest in _instructions(path) if w == "FROM" and " AS " in rest.upper()}
    bases = [_base_image(rest, args) for w, rest in _instructions(path) if w == "FROM"]
    assert len(bases) >= 2, "multi-stage: dependencies are built apart from the runtime image"
    assert all(b == "python:3.11-slim" or b in stage_names for b in bases), bases
    assert bases[-1] == "python:3.11-slim"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_runtime_user_is_non_root(folder: str) -> None:
    users = [rest for w, rest in _final(folder) if w == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    uid = users[-1].split(":")[0]
    assert uid == "10001"
    assert any("useradd" in rest and "--uid 10001" in rest for w, rest in _final(folder) if w == "RUN")


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_entrypoint_runs_a_script_of_the_repository_that_the_image_contains(folder: str) -> None:
    final = _final(folder)
    entry = _exec_form(final, "ENTRYPOINT")
    assert entry and entry[0] == "python"
    if entry[1] == "-m":
        assert (REPO / entry[2].replace(".", "/") / "__main__.py").is_file()
        return
    script = entry[1]
    assert script.startswith("/opt/dnt/")
    rel = script.removeprefix("/opt/dnt/")
    assert (REPO / rel).is_file(), f"{script}: {rel} is not in the repository"
    copied = {(src, dest) for srcs, dest, other in _copies(final) if not other for src in srcs}
    assert (rel, str(Path(script).parent) + "/") in copied, f"{script} is not copied into the image"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_every_copy_source_exists_and_is_in_the_build_context(folder: str) -> None:
    path = REPO / folder / "Dockerfile"
    sources = [src for stage in _stages(path) for srcs, _, other in _copies(stage) if not other for src in srcs]
    assert sources
    for src in sources:
        assert (REPO / src).exists(), f"{folder}/Dockerfile: COPY source {src} does not exist"
        assert not _dockerignored(src), f"{folder}/Dockerfile: COPY source {src} is excluded by .dockerignore"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_dependencies_are_the_pinned_ones_with_torch_from_the_cpu_index(folder: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch_pin = next(d for d in project["dependencies"] if d.startswith("torch=="))
    assert all("==" in d for d in project["dependencies"])
    runs = " ".join(rest for stage in _stages(REPO / folder / "Dockerfile") for w, rest in stage if w == "RUN")
    args = " ".join(rest for w, rest in _instructions(REPO / folder / "Dockerfile") if w == "ARG")
    assert f'"{torch_pin}"' in runs and "pip install" in runs and "-e /opt/dnt" in runs
    assert "https://download.pytorch.org/whl/cpu" in args


@pytest.mark.parametrize("name", XAPPS)
def test_xapp_images_carry_rmr_and_the_platform_environment(name: str) -> None:
    path = REPO / "xapps" / name / "Dockerfile"
    final = _final(f"xapps/{name}")
    assert _global_args(path)["RMR_VERSION"] == "4.9.4"
    rmr_stage = next(s for s in _stages(path)[1:] if s[0][1].endswith(" AS rmr"))
    assert any("librmr_si.so" in rest for w, rest in rmr_stage if w == "RUN")
    assert ([(srcs, dest) for srcs, dest, other in _copies(final) if other and "/rmr/lib/" in srcs]
            == [(["/rmr/lib/"], "/usr/local/lib/")])
    env = _env(final)
    assert env["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    assert "/usr/local/lib" in env["LD_LIBRARY_PATH"].split(":")
    assert env["DNT_RIC_RUNTIME"] == "rmr"
    assert {"4560", "4561", "8080"} <= set(" ".join(r for w, r in final if w == "EXPOSE").split())


@pytest.mark.parametrize("name", XAPPS)
def test_xapp_entrypoint_is_the_descriptor_command(name: str) -> None:
    desc = json.loads((REPO / "xapps" / name / "descriptor" / "config-file.json").read_text())
    assert _exec_form(_final(f"xapps/{name}"), "ENTRYPOINT") == desc["containers"][0]["command"]


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    for rel in (".venv/bin/python", ".git/HEAD", "runs/x.json", "tests/unit/x.py", "dnt/__pycache__/x.pyc"):
        assert _dockerignored(rel), rel
    for rel in ("pyproject.toml", "README.md", "dnt/ric/runtime.py", "schemas/a1/dnt-twin.json",
                "xapps/kpimon/app.py", "rapps/vtwin/app.py", "sim/__main__.py"):
        assert not _dockerignored(rel), rel
