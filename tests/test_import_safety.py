"""`torchcanvas import` runs the user's code in a process of its own, bounded in time and
memory, answers Ctrl-C with one line, and builds only what SOURCE may name: each case as
the user meets it, the command run as a program, with nothing written on refusal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from torchcanvas.app.importing import SourceError, load_source

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ADDRESS_SPACE = 6 << 30  # the command itself runs under this limit (torch needs over 2 GB)

NET = """
import os, pathlib, sys
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        {forward}
        return self.fc(x)


def build():
    return Net()


def not_a_model():
    return 3
"""

# The forward marks that it started (with its process id), then never returns.
ENDLESS = "pathlib.Path(os.environ['FOREVER_MARK']).write_text(str(os.getpid()))\n" + (
    "        while True:\n            pass"
)


def write_net(folder: Path, forward: str = "pass", top: str = "") -> Path:
    """A file with `Net` whose forward starts with `forward`, `top` at its end."""
    path = folder / "net.py"
    path.write_text(NET.format(forward=forward) + top, encoding="utf-8")
    return path


def _bounded() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def start(argv: list[str], cwd: Path, group: bool = False, **env: str) -> subprocess.Popen:
    """`torchcanvas import ...` as a program under an address-space limit (in a process
    group of its own with `group`, as a terminal starts a command)."""
    command = [sys.executable, "-m", "torchcanvas.app", "import", *argv]
    return subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_bounded,
        start_new_session=group,
    )


def run(argv: list[str], cwd: Path, **env: str) -> tuple[int, str, list[str]]:
    """(exit code, stdout, stderr's lines) of the command, which must end in 3 minutes."""
    process = start(argv, cwd, **env)
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err.splitlines()


def out_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def refused(tmp_path: Path, argv: list[str], **env: str) -> str:
    """The one line on stderr of a command that must exit 2 and write nothing."""
    out = out_folder(tmp_path)
    code, stdout, err = run([*argv, "-o", str(out / "model.json")], tmp_path, **env)
    assert code == 2, (stdout, err)
    assert len(err) == 1, err
    assert list(out.iterdir()) == []
    return err[0]


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ("sys.exit(0)\n", "running net.py failed at line {} (sys.exit(0)): SystemExit: 0"),
        ("raise KeyboardInterrupt('mine')\n", "line {} (raise KeyboardInterrupt('mine'))"),
    ],
)
def test_a_file_that_exits_or_interrupts_itself_fails_the_import(tmp_path, top, expected):
    path = write_net(tmp_path, top=top)
    line = refused(tmp_path, ["net.py:Net", "--input-shape", "4"])
    last = len(path.read_text().splitlines())  # `top` is the file's last line
    assert line.startswith("error: ") and expected.format(last) in line


@pytest.mark.slow
def test_a_source_that_leaves_its_module_is_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "ran"
    arguments = f'{{"command": "touch {marker}"}}'
    argv = ["torch:os.system", "--args", arguments, "--input-shape", "4"]
    line = refused(tmp_path, argv)
    assert line.startswith("error: torch:os.system reaches into another module;")
    assert "SOURCE may name an nn.Module subclass, a torchvision model builder" in line
    assert not marker.exists()


@pytest.mark.slow
def test_an_endless_forward_is_stopped_at_the_timeout(tmp_path):
    write_net(tmp_path, forward=ENDLESS)
    argv = ["net.py:Net", "--input-shape", "4", "--timeout", "3"]
    line = refused(tmp_path, argv, FOREVER_MARK=str(tmp_path / "mark"))
    assert "did not finish within 3 s" in line and "--timeout" in line
    if (tmp_path / "mark").exists():  # it reached forward in time: it is stopped
        assert not alive(int((tmp_path / "mark").read_text()))


@pytest.mark.slow
def test_a_model_that_takes_too_much_memory_is_stopped_at_the_limit(tmp_path):
    # 64 blocks of 4 GiB reserved, none touched: no machine is harmed if the limit fails.
    top = "Net.__init__ = lambda self: [torch.empty(1 << 30) for _ in range(64)]\n"
    write_net(tmp_path, top=top)
    line = refused(tmp_path, ["net.py:Net", "--input-shape", "4", "--memory-limit", "4"])
    assert "The import ran out of memory: it may use at most 4 GiB" in line


@pytest.mark.slow
@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-command", "as-a-terminal"])
def test_ctrl_c_stops_the_import_and_its_process_with_one_line(tmp_path, to_group):
    write_net(tmp_path, forward=ENDLESS)
    out, mark = out_folder(tmp_path), tmp_path / "mark"
    argv = ["net.py:Net", "--input-shape", "4", "-o", str(out / "model.json")]
    process = start(argv, tmp_path, group=to_group, FOREVER_MARK=str(mark))
    try:
        deadline = time.monotonic() + 180
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # the pid is written
        child = int(mark.read_text())
        assert alive(child)
        # A terminal's Ctrl-C reaches the whole process group, the import process too.
        os.kill(-os.getpgid(process.pid) if to_group else process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert err.splitlines() == ["interrupted: the import was stopped; nothing was written"]
    assert not alive(child) and list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("json:loads", "json:loads is a function that builds no model"),
        ("torch:Tensor", "torch:Tensor is a class that builds no model"),
        ("torch:nn", "torch:nn is a module that builds no model"),
        ("torch:nn.Linear", "torch:nn.Linear reaches into another module"),
        ("FILE:os.system", "reaches into another module"),
        ("FILE:pathlib.Path", "reaches into another module"),
        ("FILE:torch.nn.Linear", "reaches into another module"),
    ],
)
def test_sources_other_than_models_are_refused_before_they_are_called(tmp_path, name, message):
    source = name.replace("FILE", str(write_net(tmp_path)))
    with pytest.raises(SourceError, match="SOURCE may name an nn.Module subclass") as caught:
        load_source(source, {})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "arguments", "built"),
    [
        ("FILE:Net", {}, "Net"),
        ("FILE:build", {}, "Net"),
        ("torch.nn:Linear", {"in_features": 2, "out_features": 3}, "Linear"),
        ("torchvision.models:resnet18", {"num_classes": 10}, "ResNet"),
        ("torchvision.models.video:r3d_18", {"num_classes": 10}, "VideoResNet"),
        ("torchvision.models.quantization:mobilenet_v2", {}, "QuantizableMobileNetV2"),
    ],
)
def test_models_builders_and_the_files_own_functions_are_built(tmp_path, name, arguments, built):
    source = name.replace("FILE", str(write_net(tmp_path)))
    assert type(load_source(source, arguments)).__name__ == built


def test_a_function_of_the_file_must_return_a_module(tmp_path):
    with pytest.raises(SourceError, match="not_a_model gave a int, not an nn.Module"):
        load_source(f"{write_net(tmp_path)}:not_a_model", {})


@pytest.mark.parametrize(
    "flag", [["--timeout", "0"], ["--timeout", "nan"], ["--memory-limit", "-1"]]
)
def test_limits_that_bound_nothing_are_refused(tmp_path, capsys, flag):
    from torchcanvas.app.__main__ import main

    argv = ["import", f"{write_net(tmp_path)}:Net", "--input-shape", "4", *flag]
    assert main([*argv, "-o", str(out_folder(tmp_path) / "m.json")]) == 2
    assert capsys.readouterr().err == (
        "error: --timeout must be above 0 and --memory-limit at least 0 (0: no limit)\n"
    )
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_while_the_command_starts_is_one_line_too(tmp_path):
    write_net(tmp_path, forward=ENDLESS)
    out = out_folder(tmp_path)
    argv = ["net.py:Net", "--input-shape", "4", "-o", str(out / "model.json")]
    process = start(argv, tmp_path, FOREVER_MARK=str(tmp_path / "mark"))
    try:
        time.sleep(1.0)  # torch is loading, or the import process starting
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert len(err.splitlines()) == 1 and err.startswith("interrupted"), err
    assert list(out.iterdir()) == []
