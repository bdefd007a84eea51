"""The committed protobuf code is what protoc makes of schemas/proto/dnt_twin.proto.

Skips only when ``protoc`` is not installed (Debian: ``apt-get install protobuf-compiler``, protoc
3.21.x, whose output runs on the pinned protobuf 3.20.3 runtime).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROTO = REPO / "schemas" / "proto" / "dnt_twin.proto"
GENERATED = REPO / "dnt" / "fl" / "proto"
PROTOC = shutil.which("protoc")


@pytest.mark.skipif(PROTOC is None, reason="protoc is not installed (apt-get install protobuf-compiler); "
                                           "cannot check that dnt/fl/proto matches schemas/proto")
def test_regeneration_gives_identical_files(tmp_path: Path):
    # Execute
    proc = subprocess.run([str(PROTOC), f"-I{PROTO.parent}", f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
                           str(PROTO)], capture_output=True, text=True, timeout=60, check=False)
    version = subprocess.run([str(PROTOC), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    # Assert
    assert proc.returncode == 0, proc.stderr
    for name in ("dnt_twin_pb2.py", "dnt_twin_pb2.pyi"):
        fresh, committed = (tmp_path / name).read_text(), (GENERATED / name).read_text()
        assert fresh == committed, (f"{name} differs from `protoc` ({version}) output of {PROTO.name}: regenerate "
                                    "with `protoc -I schemas/proto --python_out=dnt/fl/proto --pyi_out=dnt/fl/proto "
                                    "schemas/proto/dnt_twin.proto` (protoc 3.21.x)")


def test_generated_code_runs_on_the_pinned_runtime():
    import google.protobuf

    from dnt.fl.proto import dnt_twin_pb2 as pb

    m = pb.TwinUpdate(client_id="1", base_version=2)
    assert pb.TwinUpdate.FromString(m.SerializeToString()).base_version == 2
    assert google.protobuf.__version__.startswith("3.20.")
