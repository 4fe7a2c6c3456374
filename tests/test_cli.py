"""`torchcanvas check` and `torchcanvas export` exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main


def test_check_prints_the_table_and_exits_0(capsys):
    assert main(["check", str(EXAMPLES / "resnet18.json")]) == 0
    out = capsys.readouterr().out
    assert "layer2   Sequential" in out
    assert "total: 11,689,512 parameters" in out and "ok: the graph is valid" in out


def test_check_exits_1_on_problems_and_2_on_unreadable(tmp_path, capsys):
    document = json.loads((EXAMPLES / "digit_classifier.json").read_text())
    document["nodes"][8]["params"]["in_features"] = 3136
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    assert main(["check", str(bad)]) == 1
    assert "error: fc: expects 3136 input features" in capsys.readouterr().out
    (tmp_path / "broken.json").write_text("{nope")
    assert main(["check", str(tmp_path / "broken.json")]) == 2
    assert "broken.json: not valid JSON" in capsys.readouterr().err


@pytest.mark.slow
def test_export_writes_a_module_that_runs(tmp_path):
    out = tmp_path / "model.py"
    assert main(["export", str(EXAMPLES / "mlp.json"), "-o", str(out), "--class-name", "Net"]) == 0
    ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=120)
    assert "output shape: (1, 10)" in ran.stdout
    assert "class Net(nn.Module)" in out.read_text()


def test_export_refuses_an_invalid_graph(tmp_path, capsys):
    document = json.loads((EXAMPLES / "mlp.json").read_text())
    document["edges"] = document["edges"][:-1]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    assert main(["export", str(bad), "-o", str(tmp_path / "x.py")]) == 1
    assert "output: has no input" in capsys.readouterr().err
    assert not (tmp_path / "x.py").exists()
    assert main(["export", str(bad), "-o", "x.py", "--class-name", "1x"]) == 2


def test_check_counts_only_what_reaches_an_output_and_shows_ports(tmp_path, capsys):
    assert main(["check", str(EXAMPLES / "text_lstm.json")]) == 0
    out = capsys.readouterr().out
    assert "tokens  " in out and "32 int64" in out
    assert "lstm       LSTM       output 32x128, h_n 1xNx128, c_n 1xNx128" in out


def test_train_refuses_two_inputs_on_a_one_sample_source_with_a_clear_message(capsys, tmp_path):
    args = ["train", str(EXAMPLES / "two_inputs.json"), "--epochs", "1"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "the model has 2 Inputs (image, features) but digits" in err
    assert "one array per Input (data: npz)" in err
