"""The vtwin rApp CSAR: the entries the OSC rApp Manager requires, internal references, reproducible bytes."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
import zipfile
from pathlib import Path

import helm_python
import pytest
import yaml

from dnt.deploy.csar import COMPOSITION_PATH, ENTRY_DEFINITIONS, build_rapp_csar, package_chart, stage_chart
from dnt.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """A ``helm create`` chart named vtwin."""
    helm_python.Chart.create("vtwin", tmp_path).close()
    return tmp_path / "vtwin"


def _meta(z: zipfile.ZipFile) -> dict[str, str]:
    lines = z.read("TOSCA-Metadata/TOSCA.meta").decode().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_csar_has_the_entries_the_rapp_manager_requires(chart: Path, tmp_path: Path) -> None:
    path = build_rapp_csar(chart, tmp_path / "dist")

    assert path.name == "dnt-vtwin-0.1.0.csar"  # NamingValidator: *.csar
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"TOSCA-Metadata/TOSCA.meta", COMPOSITION_PATH, ENTRY_DEFINITIONS, "Definitions/asd_types.yaml",
                "asd.mf", "Files/Acm/instances/k8s-instance.json"} <= names  # FileExistenceValidator + ASD
        meta = _meta(z)
        assert meta["CSAR-Version"] == "1.0" and meta["Created-By"] and meta["TOSCA-Meta-File-Version"] == "1.0"
        assert meta["Entry-Definitions"] == ENTRY_DEFINITIONS and meta["Entry-Definitions"] in names
        assert meta["ETSI-Entry-Manifest"] in names
        json.loads(z.read(COMPOSITION_PATH))
        manifest = z.read("asd.mf").decode()
        assert {ln.split(": ", 1)[1] for ln in manifest.splitlines() if ln.startswith("Source: ")} == names


def test_asd_points_at_the_packaged_chart(chart: Path, tmp_path: Path) -> None:
    path = build_rapp_csar(chart, tmp_path / "dist", name="dnt-vtwin", version="1.2.3")

    with zipfile.ZipFile(path) as z:
        asd = yaml.safe_load(z.read(_meta(z)["Entry-Definitions"]))
        node = asd["topology_template"]["node_templates"]["applicationServiceDescriptor"]
        props = node["properties"]
        assert node["type"] == "tosca.nodes.asd" and asd["imports"] == ["asd_types.yaml"]
        uuid.UUID(props["descriptor_id"])
        uuid.UUID(props["descriptor_invariant_id"])
        assert props["application_name"] == "dnt-vtwin" and props["application_version"] == "1.2.3"
        assert props["provider"] and props["descriptor_version"] == "1.2.3"
        (artifact,) = node["artifacts"].values()
        assert artifact["type"] == "tosca.artifacts.asd.deploymentItem"
        assert artifact["properties"]["artifact_type"] == "helm_chart"
        assert artifact["file"] == "Artifacts/Deployment/HELM/vtwin-0.1.0.tgz"
        tgz = z.read(artifact["file"])  # ArtifactDefinitionValidator: the file exists in the package
        instance = json.loads(z.read("Files/Acm/instances/k8s-instance.json"))
        composition = json.loads(z.read(COMPOSITION_PATH))
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        assert "vtwin/Chart.yaml" in tar.getnames()
        assert yaml.safe_load(tar.extractfile("vtwin/Chart.yaml").read())["name"] == "vtwin"
    with helm_python.Chart.load_archive(tgz) as loaded:  # Helm itself reads the archive
        assert loaded.name == "vtwin" and loaded.version == "0.1.0"
    (element,) = instance["elements"].values()
    assert element["properties"]["chart"]["chartId"] == {"name": "vtwin", "version": "0.1.0"}
    definition = composition["topology_template"]["node_templates"][element["definition"]["name"]]
    assert definition["version"] == element["definition"]["version"]
    assert instance["compositionId"] == "DO_NOT_CHANGE_THIS_COMPOSITION_ID"


def test_building_twice_gives_identical_bytes(chart: Path, tmp_path: Path) -> None:
    first = build_rapp_csar(chart, tmp_path / "a").read_bytes()
    later = os.stat(chart / "Chart.yaml").st_mtime + 1000
    for f in chart.rglob("*"):
        os.utime(f, (later, later))  # a fresh checkout: new file times

    second = build_rapp_csar(chart, tmp_path / "b").read_bytes()

    assert first == second
    assert package_chart(chart)[1] == package_chart(chart)[1]


def test_content_changes_change_the_package(chart: Path, tmp_path: Path) -> None:
    first = build_rapp_csar(chart, tmp_path / "a").read_bytes()
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + "\nextra: 1\n")

    assert build_rapp_csar(chart, tmp_path / "b").read_bytes() != first


def test_file_dependencies_are_packaged_inside_the_chart(tmp_path: Path) -> None:
    helm_python.Chart.create("lib", tmp_path).close()
    helm_python.Chart.create("app", tmp_path).close()
    app = tmp_path / "app"
    meta = yaml.safe_load((app / "Chart.yaml").read_text())
    meta["dependencies"] = [{"name": "lib", "version": "0.1.0", "repository": "file://../lib"}]
    (app / "Chart.yaml").write_text(yaml.safe_dump(meta))

    name, tgz = package_chart(app)

    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        assert "app/charts/lib/Chart.yaml" in tar.getnames()
    assert not (app / "charts" / "lib").exists()  # the source tree is left alone
    assert stage_chart(app, tmp_path / "stage").joinpath("charts", "lib", "Chart.yaml").is_file()
    assert name == "app-0.1.0.tgz"


def test_the_repository_vtwin_chart_packages() -> None:
    chart = REPO / "helm" / "vtwin"
    assert (chart / "Chart.yaml").is_file(), "helm/vtwin is the rApp's chart"

    name, tgz = package_chart(chart)

    with helm_python.Chart.load_archive(tgz) as loaded:
        assert loaded.name == "vtwin" and f"{loaded.name}-{loaded.version}.tgz" == name


def test_bad_inputs_raise_clear_errors(chart: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DNS label"):
        build_rapp_csar(chart, tmp_path, name="Not_A_Label")
    with pytest.raises(DataError, match="no chart directory"):
        build_rapp_csar(tmp_path / "missing", tmp_path)
    (chart / "Chart.yaml").write_text("name: vtwin\n")
    with pytest.raises(DataError, match="name and a version"):
        build_rapp_csar(chart, tmp_path)
