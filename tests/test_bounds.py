"""Bounded work: hostile files are refused with one line, in bounded memory and time.

Each test runs the CLI as a user does, in its own process under an address-space limit
(this torch build needs more than 2 GB to import), and checks that nothing was written.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from tests.test_tables import mlp_project
from torchcanvas.graph.project import save_project

MEMORY_LIMIT = 5 * 2**30
TIMEOUT = 180  # seconds: a refusal takes a few; the faults took an hour or never ended


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`torchcanvas ARGS` in `cwd`, under the memory limit and the timeout."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "-m", "torchcanvas.app", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limited,
        env=env,
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line the command printed on stderr (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    return lines[0]


def files_in(folder: Path) -> list[Path]:
    """Everything under `folder`."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


# ----- a project that nests blocks: 1 -------------------------------------------------
def _chain(types: list[str]) -> dict:
    """Input -> each type -> Output, ports named (the blocks are read before their bodies)."""
    nodes = [{"id": "i", "name": "input", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]}]
    nodes += [
        {"id": f"n{k}", "name": f"n{k}", "type": t, "params": {}, "pos": [0, 100 * k + 100]}
        for k, t in enumerate(types)
    ]
    nodes.append({"id": "o", "name": "output", "type": "Output", "params": {}, "pos": [0, 5000]})
    edges = []
    for (a, b), to in zip(zip(nodes, nodes[1:]), [*types, "Output"]):
        edge = {"from": a["id"], "from_port": "output", "to": b["id"]}
        if to.startswith("B"):
            edge["to_port"] = "input"
        edges.append(edge)
    return {"nodes": nodes, "edges": edges}


def nested_project(levels: int, width: int) -> dict:
    """B1 holds a Sequential of `width` B2s, B2 of `width` B3s, ..., the last a ReLU."""
    blocks = []
    for level in range(levels, 0, -1):  # innermost first: a block's ports are known when used
        inner = [f"B{level + 1}"] * width if level < levels else ["ReLU"]
        body = _chain(["Sequential"])
        body["nodes"][1]["body"] = _chain(inner)
        blocks.append({"name": f"B{level}", "params": [], **body})
    return {"format": "torchcanvas", "version": 3, "name": "Deep", "blocks": blocks}


def test_a_small_file_that_unfolds_to_millions_of_layers_is_refused_at_once(tmp_path):
    document = {**nested_project(8, 10), **_chain(["B1"])}
    (tmp_path / "deep.json").write_text(json.dumps(document))
    assert (tmp_path / "deep.json").stat().st_size < 20_000
    checked = run_cli("check", "deep.json", cwd=tmp_path)
    assert checked.returncode == 1
    assert (
        "error: n0: the design expands to 32,222,222 layers once its blocks are unfolded "
        "(limit 100,000): B1 ×1 → B2 ×10 → B3 ×10 → B4 ×10 → B5 ×10 → B6 ×10 → B7 ×10 → "
        "B8 ×10; use fewer instances or fewer levels of blocks" in checked.stdout
    )
    exported = run_cli("export", "deep.json", "-o", "deep.py", cwd=tmp_path)
    assert exported.returncode == 1 and "expands to 32,222,222 layers" in exported.stderr
    trained = run_cli("train", "deep.json", "--data", "synthetic", "--out", "run", cwd=tmp_path)
    assert trained.returncode != 0 and "expands to 32,222,222 layers" in trained.stderr
    assert "Traceback" not in exported.stderr + trained.stderr
    assert files_in(tmp_path) == [tmp_path / "deep.json"]


def test_a_design_just_under_the_bound_is_analysed_as_before(tmp_path):
    from torchcanvas.graph.project import loads_project

    project = loads_project(json.dumps({**nested_project(3, 10), **_chain(["B1"])}))
    analysis = project.model.analysis()
    assert analysis.ok, analysis.problems
    facts = analysis.facts[project.model.find("n0")]
    assert facts.inner is not None  # the body was analysed, instance by instance


def test_a_model_of_ten_billion_parameters_is_refused_before_it_is_built(tmp_path):
    project = mlp_project(100_000, 3, data="synthetic", epochs=1)
    project.model.set_param(project.model.find("fc1"), "out_features", 100_000)
    save_project(project, tmp_path / "big.json")
    checked = run_cli("check", "big.json", cwd=tmp_path)
    assert checked.returncode == 1
    message = (
        "fc1: the model has 10,000,400,003 parameters (37 GB as float32; limit 4,294,967,296), "
        "this layer the most; use fewer features or channels"
    )
    assert f"error: {message}" in checked.stdout
    trained = run_cli("train", "big.json", "--out", "run", cwd=tmp_path)
    assert trained.returncode != 0 and message in trained.stderr
    assert "Traceback" not in trained.stderr and not (tmp_path / "run").exists()


# ----- class labels sized by a data value: 2 ------------------------------------------
def test_npz_labels_far_above_the_class_count_are_named_and_refused(tmp_path):
    y = np.array([0, 10**12, 2 * 10**12] * 4)
    np.savez(tmp_path / "labels.npz", x=np.zeros((12, 4), np.float32), y=y)
    project = mlp_project(4, 3, data="npz", data_path="labels.npz", epochs=1)
    save_project(project, tmp_path / "labels.json")
    result = run_cli("train", "labels.json", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert error_line(result) == (
        "error: labels.npz: target array 'y' holds class labels 1000000000000, 2000000000000, "
        "but the model's Output gives 3 classes (labels 0 to 2); number the classes from 0, "
        "or set task to regression to predict numbers."
    )
    assert files_in(tmp_path / "run") == []


# ----- an import shape too large to trace: 4 ------------------------------------------
GOOD = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""


def test_import_refuses_an_input_shape_whose_example_does_not_fit_in_memory(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    args = ("import", "good.py:Net", "--input-shape", "65536x65536", "-o", "o.json")
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert error_line(result) == (
        "error: shape 65536x65536: the example input (2 samples of float32) would take 32.0 GB; "
        "the limit is 1 GB. Import with a smaller shape (the project's Input can be changed "
        "afterwards)"
    )
    assert files_in(tmp_path) == [tmp_path / "good.py"]


# ----- data files read whole: 3 -------------------------------------------------------
def npz_project(folder: Path, data: str = "data.npz", **training) -> None:
    """labels.json beside `data`: Input [4] -> MLP -> 3 classes, one epoch."""
    kind = "csv" if data.endswith(".csv") else "npz"
    project = mlp_project(4, 3, data=kind, data_path=data, epochs=1, **training)
    save_project(project, folder / "project.json")


def npy_bytes(shape, dtype: str = "<f4", body: bytes = b"") -> bytes:
    """An .npy file whose header declares `shape` and that holds only `body` after it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return header.getvalue() + body


def write_npz(path: Path, entries: dict[str, bytes]) -> None:
    """An archive of raw .npy entries, deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(f"{name}.npy", data)


def declare_size(path: Path, size: int) -> None:
    """Make the archive's central directory declare `size` unpacked bytes for every entry,
    as a zip bomb's does (the data itself stays a few bytes)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24 : at + 28] = size.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def train_refusal(folder: Path) -> str:
    """`torchcanvas train project.json`: exit 2, its one line, nothing in the run folder."""
    result = run_cli("train", "project.json", "--out", "run", cwd=folder)
    assert result.returncode == 2, result.stderr
    line = error_line(result)
    assert "batch size" not in line
    assert files_in(folder / "run") == []
    return line


def test_an_npz_that_unpacks_to_gigabytes_is_refused_from_its_declared_sizes(tmp_path):
    x = np.zeros((12, 4), np.float32)
    write_npz(tmp_path / "data.npz", {"x": npy_bytes(x.shape, body=x.tobytes()), "y": b""})
    declare_size(tmp_path / "data.npz", 3 << 30)
    npz_project(tmp_path)
    assert train_refusal(tmp_path) == (
        "error: data.npz: array 'x' unpacks to 3.0 GB; arrays larger than 2.0 GB are not loaded."
    )


def test_an_npz_whose_header_declares_80_gb_is_refused_before_reading(tmp_path):
    liar = npy_bytes((100_000, 100_000), "<f8", bytes(64))
    write_npz(tmp_path / "data.npz", {"x": liar, "y": npy_bytes((12,), "<i8", bytes(96))})
    npz_project(tmp_path)
    assert train_refusal(tmp_path) == (
        "error: data.npz: array 'x' declares 100000x100000 float64 values (74.5 GB); arrays "
        "larger than 2.0 GB are not loaded."
    )


def test_an_npy_pair_whose_header_declares_80_gb_is_refused_before_reading(tmp_path):
    (tmp_path / "x.npy").write_bytes(npy_bytes((100_000, 100_000), "<f8", bytes(64)))
    np.save(tmp_path / "y.npy", np.zeros(12, np.int64))
    npz_project(tmp_path, "x.npy")
    assert train_refusal(tmp_path) == (
        "error: x.npy declares 100000x100000 float64 values (74.5 GB); arrays larger than "
        "2.0 GB are not loaded."
    )


def test_an_npz_of_python_objects_is_refused_before_it_is_unpacked(tmp_path):
    np.savez(tmp_path / "data.npz", x=np.zeros((12, 4)), y=np.array([{}] * 12, dtype=object))
    npz_project(tmp_path)
    assert train_refusal(tmp_path) == (
        "error: data.npz: array 'y' holds Python objects, which are not loaded (no pickles); "
        "save numbers or text."
    )


def test_a_csv_of_nul_bytes_is_refused_at_its_first_line(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"\0" * (3 << 20))
    npz_project(tmp_path, "data.csv")
    assert train_refusal(tmp_path) == (
        "error: data.csv: line 1 is longer than 1,048,576 bytes; this does not look like a table."
    )
    (tmp_path / "data.csv").write_bytes(b"a,b,c,d,y\n1,2,3,4,0\n1,2,\0,4,1\n")
    assert train_refusal(tmp_path) == "error: data.csv: line 3 holds a NUL byte; a table is text."


def test_a_sparse_2_gb_csv_is_refused_by_its_size_without_reading_it(tmp_path):
    with open(tmp_path / "data.csv", "wb") as handle:
        handle.truncate(2 << 30)  # no disk used: a hole
    npz_project(tmp_path, "data.csv")
    assert train_refusal(tmp_path) == (
        "error: data.csv is 2.0 GB; tables larger than 1.0 GB are not read (save the data as .npz)."
    )


def test_out_of_memory_while_loading_the_data_does_not_blame_the_batch_size(tmp_path, monkeypatch):
    from torchcanvas.app.train import loop
    from torchcanvas.app.train.job import job_from_project

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 80.0 GiB for an array")

    monkeypatch.setattr(loop, "load_data", exhausted)
    project = mlp_project(4, 3, data="synthetic", epochs=1)
    final = loop.Trainer(job_from_project(project, str(tmp_path / "run")), lambda e: None).run()
    assert final["type"] == "failed" and final["kind"] == "oom"
    assert final["reason"] == (
        "out of memory while loading the data, before any batch ran (the batch size is not "
        "the cause); use smaller data or a smaller model."
    )
