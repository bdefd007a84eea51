"""Dockerfiles of the deployables and of the shared base images they build on.

Every deployable (``xapps/*``, ``rapps/vtwin``, ``sim``) has a thin Dockerfile: ``ARG BASE=<base image>``,
``FROM ${BASE}``, its own files, ``ENTRYPOINT``. The base images are built once from ``docker/``:
``docker/base.Dockerfile`` (``dnt-ric/base``: python:3.11-slim, the pinned dependencies, dnt-ric, user
10001) and ``docker/base-rmr.Dockerfile`` (``dnt-ric/base-rmr``: the base + RMR, for the xApps only).

Images cannot be built here; these checks read the Dockerfiles as the builder would (continuations joined,
comments dropped, ARG defaults substituted in FROM), follow each deployable's chain of ``FROM`` down to
python:3.11-slim (a ``dnt-ric/<name>:<version>`` reference is ``docker/<name>.Dockerfile``) and hold the
instructions of that chain against the repository.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
XAPPS = ("kpimon", "htwin", "aggregator", "rrm")
DEPLOYABLES = {**{f"xapps/{n}": "xapp" for n in XAPPS}, "rapps/vtwin": "rapp", "sim": "sim"}
BASE_DIR = REPO / "docker"
PYTHON_IMAGE = "python:3.11-slim"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
# the base image each kind of deployable builds on: RMR only under the xApps
BASE_OF = {"xapp": "base-rmr", "rapp": "base", "sim": "base"}

Instruction = tuple[str, str]


def _instructions(path: Path) -> list[Instruction]:
    """``(INSTRUCTION, arguments)`` in order: comments dropped, ``\\`` continuations joined."""
    out: list[Instruction] = []
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


def _stages(path: Path) -> list[list[Instruction]]:
    """Instructions per build stage (index 0: the global ARGs before the first FROM)."""
    stages: list[list[Instruction]] = [[]]
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


def _stage_name(stage: list[Instruction]) -> str | None:
    words = stage[0][1].split()
    return words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else None


def _base_file(image: str) -> Path | None:
    """``docker/<name>.Dockerfile`` for ``dnt-ric/<name>:<version>`` (with or without a registry)."""
    m = re.fullmatch(r"(?:[^/]+/)?dnt-ric/([\w.-]+):([\w.-]+)", image)
    if not m or not (BASE_DIR / f"{m.group(1)}.Dockerfile").is_file():
        return None
    assert m.group(2) == VERSION, f"{image}: the base image tag must be the pyproject version {VERSION}"
    return BASE_DIR / f"{m.group(1)}.Dockerfile"


@dataclass(frozen=True)
class Layer:
    """One build stage on a deployable's chain: the file it is in and its instructions (FROM first)."""

    path: Path
    stage: tuple[Instruction, ...]
    base: str  # what its FROM resolves to


def _chain_of_stage(path: Path, index: int) -> list[Layer]:
    """The stages that ``_stages(path)[index]`` stands on, bottom (on python:3.11-slim) first."""
    stages = _stages(path)
    names = {_stage_name(s): i for i, s in enumerate(stages[1:], 1) if _stage_name(s)}
    stage = stages[index]
    base = _base_image(stage[0][1], _global_args(path))
    layer = Layer(path, tuple(stage), base)
    if base in names:
        assert names[base] < index, f"{path}: stage {base} is used before it is defined"
        return [*_chain_of_stage(path, names[base]), layer]
    base_file = _base_file(base)
    if base_file is not None:
        return [*_chain(base_file), layer]
    assert base == PYTHON_IMAGE, f"{path.relative_to(REPO)}: FROM {base} is neither {PYTHON_IMAGE} nor a base image"
    return [layer]


def _chain(path: Path) -> list[Layer]:
    """The stages the final image of ``path`` is made of, bottom first."""
    return _chain_of_stage(path, len(_stages(path)) - 1)


def _dockerfile(folder: str) -> Path:
    return REPO / folder / "Dockerfile"


def _files(folder: str) -> list[Path]:
    """The deployable's Dockerfile and the base Dockerfiles under it, bottom first."""
    out: list[Path] = []
    for layer in _chain(_dockerfile(folder)):
        if layer.path not in out:
            out.append(layer.path)
    return out


def _image(folder: str) -> list[Instruction]:
    """The instructions that make the deployable's runtime image, base image first (FROMs dropped)."""
    return [ins for layer in _chain(_dockerfile(folder)) for ins in layer.stage if ins[0] != "FROM"]


def _env(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions:
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _copies(instructions: list[Instruction]) -> list[tuple[list[str], str, bool]]:
    """``(sources, destination, from_other_stage)`` of each COPY."""
    out = []
    for word, rest in instructions:
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


def _exec_form(instructions: list[Instruction], word: str) -> list[str] | None:
    found = [rest for w, rest in instructions if w == word]
    return json.loads(found[-1]) if found else None


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_deployable_dockerfile_is_thin_and_builds_on_its_base_image(folder: str) -> None:
    path = _dockerfile(folder)
    stages = _stages(path)
    assert len(stages) == 2, "one stage: everything built lives in the base images"
    assert stages[1][0] == ("FROM", "${BASE}")
    base = _global_args(path)["BASE"]
    assert base == f"dnt-ric/{BASE_OF[DEPLOYABLES[folder]]}:{VERSION}"
    assert _base_file(base) == BASE_DIR / f"{BASE_OF[DEPLOYABLES[folder]]}.Dockerfile"
    assert not [rest for w, rest in stages[1] if w in ("RUN", "USER")], "no RUN or USER: the base images do that"
    assert len(stages[1]) <= 8


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_the_chain_reaches_python_311_slim_through_the_base_images(folder: str) -> None:
    chain = _chain(_dockerfile(folder))
    assert chain[0].base == PYTHON_IMAGE
    bases = ["base", "base-rmr"] if DEPLOYABLES[folder] == "xapp" else ["base"]
    assert _files(folder) == [*(BASE_DIR / f"{n}.Dockerfile" for n in bases), _dockerfile(folder)]
    # every stage of every file involved (builders included) starts from python:3.11-slim, one of its own
    # stages or a base image
    for path in _files(folder):
        for index in range(1, len(_stages(path))):
            assert _chain_of_stage(path, index)[0].base == PYTHON_IMAGE


def test_the_base_image_builds_its_dependencies_apart_from_the_runtime() -> None:
    path = BASE_DIR / "base.Dockerfile"
    bases = [_base_image(rest, _global_args(path)) for w, rest in _instructions(path) if w == "FROM"]
    assert len(bases) >= 2, "multi-stage: dependencies are built apart from the runtime image"
    assert bases[-1] == PYTHON_IMAGE, "the runtime stage starts afresh (no compilers)"
    runtime = _stages(path)[-1]
    assert not any("build-essential" in rest for w, rest in runtime if w == "RUN")
    assert ([(srcs, dest) for srcs, dest, other in _copies(runtime) if other]
            == [(["/opt/venv"], "/opt/venv"), (["/opt/dnt"], "/opt/dnt")])


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_runtime_user_is_non_root(folder: str) -> None:
    image = _image(folder)
    users = [rest for w, rest in image if w == "USER"]
    assert users, "the chain must switch to a non-root USER"
    assert users[-1].split(":")[0] == "10001"
    assert any("useradd" in rest and "--uid 10001" in rest for w, rest in image if w == "RUN")
    last_user = max(i for i, (w, _) in enumerate(image) if w == "USER")
    assert not [rest for w, rest in image[last_user:] if w == "RUN"], "nothing runs as root after USER 10001"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_entrypoint_runs_a_script_of_the_repository_that_the_image_contains(folder: str) -> None:
    own = _stages(_dockerfile(folder))[-1]
    entry = _exec_form(own, "ENTRYPOINT")
    assert entry and entry[0] == "python", "the deployable's own Dockerfile sets the ENTRYPOINT"
    assert _exec_form(_image(folder), "ENTRYPOINT") == entry
    if entry[1] == "-m":
        assert (REPO / entry[2].replace(".", "/") / "__main__.py").is_file()
        # the package folder reaches /opt/dnt in the base image's build stage, copied on with the venv
        built = [(s, d) for path in _files(folder) for stage in _stages(path) for s, d, o in _copies(stage) if not o]
        assert ([entry[2]], f"/opt/dnt/{entry[2]}") in built
        assert (["/opt/dnt"], "/opt/dnt") in [(s, d) for s, d, o in _copies(_image(folder)) if o]
        return
    script = entry[1]
    assert script.startswith("/opt/dnt/")
    rel = script.removeprefix("/opt/dnt/")
    assert (REPO / rel).is_file(), f"{script}: {rel} is not in the repository"
    copied = {(src, dest) for srcs, dest, other in _copies(own) if not other for src in srcs}
    assert (rel, str(Path(script).parent) + "/") in copied, f"{script} is not copied into the image"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_every_copy_source_exists_and_is_in_the_build_context(folder: str) -> None:
    sources = [(path, src) for path in _files(folder) for stage in _stages(path)
               for srcs, _, other in _copies(stage) if not other for src in srcs]
    copying = {path for path, _ in sources}
    assert {BASE_DIR / "base.Dockerfile", _dockerfile(folder)} <= copying, "the package and the app's own files"
    for path, src in sources:
        assert (REPO / src).exists(), f"{_rel(path)}: COPY source {src} does not exist"
        assert not _dockerignored(src), f"{_rel(path)}: COPY source {src} is excluded by .dockerignore"


@pytest.mark.parametrize("folder", DEPLOYABLES)
def test_dependencies_are_the_pinned_ones_with_torch_from_the_cpu_index(folder: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch_pin = next(d for d in project["dependencies"] if d.startswith("torch=="))
    assert all("==" in d for d in project["dependencies"])
    files = _files(folder)
    runs = " ".join(rest for path in files for stage in _stages(path) for w, rest in stage if w == "RUN")
    args = " ".join(rest for path in files for w, rest in _instructions(path) if w == "ARG")
    assert f'"{torch_pin}"' in runs and "pip install" in runs and "-e /opt/dnt" in runs
    assert '--index-url "${TORCH_INDEX_URL}"' in runs
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in args


@pytest.mark.parametrize("name", XAPPS)
def test_xapp_images_carry_rmr_and_the_platform_environment(name: str) -> None:
    folder = f"xapps/{name}"
    image = _image(folder)
    rmr_files = [p for p in _files(folder) if "RMR_VERSION" in _global_args(p)]
    assert rmr_files == [BASE_DIR / "base-rmr.Dockerfile"]
    assert _global_args(rmr_files[0])["RMR_VERSION"] == "4.9.4"
    rmr_stage = next(s for s in _stages(rmr_files[0])[1:] if _stage_name(s) == "rmr")
    assert any("librmr_si.so" in rest for w, rest in rmr_stage if w == "RUN")
    assert ([(srcs, dest) for srcs, dest, other in _copies(image) if other and "/rmr/lib/" in srcs]
            == [(["/rmr/lib/"], "/usr/local/lib/")])
    env = _env(image)
    assert env["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    assert "/usr/local/lib" in env["LD_LIBRARY_PATH"].split(":")
    assert env["DNT_RIC_RUNTIME"] == "rmr"
    assert env["RMR_RTG_SVC"] == "4561"
    assert {"4560", "4561", "8080"} <= set(" ".join(r for w, r in image if w == "EXPOSE").split())
    descriptor = {(src, dest) for srcs, dest, other in _copies(image) if not other for src in srcs}
    assert (f"xapps/{name}/descriptor/config-file.json", "/opt/ric/config/") in descriptor


@pytest.mark.parametrize("folder", [f for f, kind in DEPLOYABLES.items() if kind != "xapp"])
def test_rapp_and_simulator_images_have_no_rmr(folder: str) -> None:
    assert BASE_DIR / "base-rmr.Dockerfile" not in _files(folder)
    for path in _files(folder):
        text = " ".join(f"{w} {rest}" for w, rest in _instructions(path))
        assert "rmr" not in text.lower(), f"{_rel(path)} mentions RMR"
    env = _env(_image(folder))
    assert "DNT_RIC_RUNTIME" not in env and "LD_LIBRARY_PATH" not in env


@pytest.mark.parametrize("name", XAPPS)
def test_xapp_entrypoint_is_the_descriptor_command(name: str) -> None:
    desc = json.loads((REPO / "xapps" / name / "descriptor" / "config-file.json").read_text())
    assert _exec_form(_image(f"xapps/{name}"), "ENTRYPOINT") == desc["containers"][0]["command"]


def test_rapp_entrypoint_is_the_descriptor_command() -> None:
    desc = json.loads((REPO / "rapps" / "vtwin" / "config-file.json").read_text())
    assert _exec_form(_image("rapps/vtwin"), "ENTRYPOINT") == desc["containers"][0]["command"]


def test_base_images_carry_the_project_version() -> None:
    for path in BASE_DIR.glob("*.Dockerfile"):
        for image in (v for k, v in _global_args(path).items() if k == "BASE"):
            assert _base_file(image) is not None, f"{_rel(path)}: BASE={image} is no base image of docker/"
    labels = " ".join(rest for w, rest in _instructions(BASE_DIR / "base.Dockerfile") if w == "LABEL")
    assert f'org.opencontainers.image.version="{VERSION}"' in labels


@pytest.mark.parametrize("doc", ["docker/README.md", "docs/deploy.md"])
def test_docs_build_the_base_images_first_with_their_tags(doc: str) -> None:
    """The documented ``docker build`` commands: base, then base-rmr, then every deployable."""
    text = (REPO / doc).read_text()
    builds = re.findall(r"docker build\s+(?:--build-arg\s+\S+\s+)*-f\s+(\S+)\s+-t\s+(\S+)", text)
    files = [f for f, _ in builds]
    assert files[:2] == ["docker/base.Dockerfile", "docker/base-rmr.Dockerfile"], files
    tags = dict(builds)
    assert tags["docker/base.Dockerfile"].endswith("dnt-ric/base:$V")
    assert tags["docker/base-rmr.Dockerfile"].endswith("dnt-ric/base-rmr:$V")
    deployables = {f.replace("$x", n) for f in files[2:] for n in XAPPS} | set(files[2:])
    assert {f"{folder}/Dockerfile" for folder in DEPLOYABLES} <= deployables


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    for rel in (".venv/bin/python", ".git/HEAD", "runs/x.json", "tests/unit/x.py", "dnt/__pycache__/x.pyc"):
        assert _dockerignored(rel), rel
    for rel in ("pyproject.toml", "README.md", "dnt/ric/runtime.py", "schemas/a1/dnt-twin.json",
                "xapps/kpimon/app.py", "rapps/vtwin/app.py", "sim/__main__.py"):
        assert not _dockerignored(rel), rel
