"""Reference checks against torch: a real forward, and the export in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from tests.builders import example_inputs
from torchcanvas.codegen.build import compile_model


def forward(model_graph, batch: int = 3, seed: int = 0):
    """(module, inputs, outputs as a list) of a seeded instance of the compiled class, in eval."""
    cls, _ = compile_model(model_graph)
    torch.manual_seed(seed)
    module = cls().eval()
    inputs = example_inputs(model_graph, batch, seed)
    torch.manual_seed(seed)  # sampling layers (torch.randn_like) draw the same numbers
    with torch.no_grad():
        outputs = module(*inputs)
    if len(model_graph.analysis().outputs) == 1:
        outputs = (outputs,)
    return module, inputs, list(outputs)


def assert_outputs_match_analysis(model_graph, outputs, batch: int = 3) -> None:
    """Every returned tensor has the shape and dtype the analysis promised."""
    analysis = model_graph.analysis()
    for node, tensor in zip(analysis.outputs, outputs):
        meta = analysis.meta(node)
        name = analysis.names[node]
        assert tuple(tensor.shape) == meta.concrete(batch), (name, tensor.shape, meta)
        assert str(tensor.dtype).removeprefix("torch.") == meta.dtype, (name, tensor.dtype, meta)


def export_case(model_graph, folder: Path, stem: str, batch: int = 3) -> None:
    """Write folder/stem.py and folder/stem.pt (state_dict, inputs, expected outputs)."""
    module, inputs, outputs = forward(model_graph, batch)
    _, result = compile_model(model_graph)
    (folder / f"{stem}.py").write_text(result.source)
    data = {
        "state_dict": module.state_dict(),
        "inputs": inputs,
        "expected": outputs,
        "class_name": result.class_name,
    }
    torch.save(data, folder / f"{stem}.pt")


CHECKER = textwrap.dedent("""
    import importlib.util, sys, torch
    from pathlib import Path
    folder = Path(sys.argv[1])
    for case in sorted(folder.glob("*.pt")):
        data = torch.load(case, weights_only=True)
        spec = importlib.util.spec_from_file_location(case.stem, case.with_suffix(".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = getattr(module, data["class_name"])()
        model.load_state_dict(data["state_dict"], strict=True)
        model.eval()
        torch.manual_seed(0)
        with torch.no_grad():
            out = model(*data["inputs"])
        if not isinstance(out, tuple):
            out = (out,)
        same = len(out) == len(data["expected"]) and all(
            torch.equal(a, b) or (a.is_floating_point() and a.nan_to_num().equal(b.nan_to_num()))
            for a, b in zip(out, data["expected"]))
        print(("OK " if same else "DIFF ") + case.stem)
""")


def check_in_fresh_interpreter(folder: Path) -> list[str]:
    """Import every exported case in a new Python process; returns its OK/DIFF lines."""
    script = folder / "check_exports.py_"
    script.write_text(CHECKER)
    done = subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split("\n")[:-1]


def ruff_problems(folder: Path) -> str:
    """`ruff check` and `ruff format --check` with ruff's defaults; '' when both pass."""
    ruff = Path(sys.executable).with_name("ruff")
    found = []
    for args in (["check", "--isolated", "-q"], ["format", "--isolated", "--diff", "-q"]):
        done = subprocess.run(
            [str(ruff), *args, str(folder)], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            found.append(done.stdout + done.stderr)
    return "\n".join(found)
