"""Hostile and unlucky files: pipes, devices, bombs, odd tensors, links and modes."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main
from torchcanvas.app.blocklib import BlockFileError, read_block_file
from torchcanvas.app.train.weights import WeightsError, match, read_state_dict
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.fileio import FileRefused, atomic_write, read_limited
from torchcanvas.graph.project import ProjectError, load_project, save_project

MLP = EXAMPLES / "mlp.json"


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


def test_a_pipe_given_as_a_project_is_refused_at_once(fifo):
    with pytest.raises(ProjectError, match="not a regular file \\(a pipe\\)"):
        load_project(fifo)


def test_a_pipe_given_as_weights_is_refused_at_once(fifo):
    with pytest.raises(WeightsError, match="not a regular file \\(a pipe\\)"):
        read_state_dict(fifo)


def test_a_pipe_given_as_a_block_file_is_refused_at_once(fifo):
    with pytest.raises(BlockFileError, match="not a regular file"):
        read_block_file(fifo)


def test_check_and_export_refuse_a_pipe_with_one_line(fifo, tmp_path, capsys):
    assert main(["check", str(fifo)]) == 2
    assert main(["export", str(fifo), "-o", str(tmp_path / "m.py")]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and "Traceback" not in err


def test_a_project_linked_to_dev_zero_is_refused_without_reading_it(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(ProjectError, match="a character device"):
        load_project(link)


def test_the_size_limit_counts_bytes_read_not_what_stat_says(tmp_path):
    assert os.stat("/proc/self/status").st_size == 0  # stat says empty
    with pytest.raises(FileRefused, match="larger than 64 bytes"):
        read_limited("/proc/self/status", 64)


def _bomb(path, unpacked: int) -> None:
    """A zip like torch.save's, whose one entry inflates to `unpacked` bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        with archive.open("archive/data/0", "w", force_zip64=True) as entry:
            block = bytes(2**20)
            for _ in range(unpacked // 2**20):
                entry.write(block)


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path):
    path = tmp_path / "bomb.pt"
    _bomb(path, 300 * 2**20)
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(WeightsError, match="declare 300 MB unpacked"):
        read_state_dict(path)


def test_meta_and_sparse_tensors_are_refused_with_their_names(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"fc1.weight": torch.empty(3, 4, device="meta")}, path)
    with pytest.raises(WeightsError, match="fc1.weight is a meta tensor"):
        read_state_dict(path)
    torch.save({"fc1.weight": torch.eye(3).to_sparse()}, path)
    with pytest.raises(WeightsError, match="fc1.weight is a sparse_coo tensor"):
        read_state_dict(path)


def test_eval_of_meta_weights_says_why_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "meta.pt"
    model = build_model(load_project(MLP).model)
    torch.save({k: torch.empty_like(v, device="meta") for k, v in model.state_dict().items()}, path)
    assert main(["eval", str(MLP), "--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is a meta tensor" in err and "Traceback" not in err


def test_weights_with_nan_or_inf_are_flagged_in_the_report(tmp_path):
    model = build_model(load_project(MLP).model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = next(k for k, v in state.items() if v.is_floating_point())
    state[first].view(-1)[:3] = float("nan")
    state[first].view(-1)[3] = float("inf")
    report = match(model, state)
    assert report.non_finite == {first: "3 NaN, 1 inf"}
    assert "1 with NaN or inf values" in report.summary()
    assert any("NaN/inf" in line and "3 NaN, 1 inf" in line for line in report.lines())


@pytest.mark.slow
def test_a_report_of_100000_stray_keys_stays_short(tmp_path):
    model = build_model(load_project(MLP).model)
    state = dict(model.state_dict())
    state.update({f"stray{i}": torch.zeros(1) for i in range(100_000)})
    lines = match(model, state).lines()
    assert len(lines) <= 42 and "more nodes" in lines[-2]


def test_saving_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "p.json"
    save_project(load_project(MLP), path)
    os.chmod(path, 0o664)
    save_project(load_project(MLP), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.py", b"x = 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.py").stat().st_mode) == 0o644


def test_saving_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "project.json"
    target.parent.mkdir()
    save_project(load_project(MLP), target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    other = load_project(EXAMPLES / "small_cnn.json")
    save_project(other, link)
    assert link.is_symlink() and load_project(target).model.name == other.model.name
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_state_dict_loads_from_a_regular_file_as_before(tmp_path):
    model = build_model(load_project(MLP).model)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    (tmp_path / "w.pt").write_bytes(buffer.getvalue())
    assert set(read_state_dict(tmp_path / "w.pt")) == set(model.state_dict())
