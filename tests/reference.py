"""Reference checks against torch: real shapes, export in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from torchcanvas.codegen.build import compile_model
from torchcanvas.codegen.emit import emit_module


def real_shapes(model_graph, module: torch.nn.Module, sample: torch.Tensor) -> dict:
    """Per-sample output shape of every node that owns a submodule, from a real forward."""
    shapes, handles = {}, []
    for name in model_graph.nodes():
        child = getattr(module, name, None)
        if isinstance(child, torch.nn.Module):

            def hook(_m, _i, out, name=name):
                shapes[name] = tuple(out.shape[1:])

            handles.append(child.register_forward_hook(hook))
    with torch.no_grad():
        output = module(sample)
    for handle in handles:
        handle.remove()
    shapes["__output__"] = tuple(output.shape[1:])
    return shapes


def export_case(model_graph, folder: Path, stem: str, batch: int = 2) -> None:
    """Export `model_graph` to folder/stem.py with weights, an input and the expected output."""
    cls, result = compile_model(model_graph)
    torch.manual_seed(0)
    module = cls().eval()
    shape = model_graph.analysis().shapes[model_graph.nodes_of_type("Input")[0]]
    sample = torch.randn(batch, *shape)
    with torch.no_grad():
        expected = module(sample)
    (folder / f"{stem}.py").write_text(emit_module(model_graph).source)
    torch.save(
        {
            "state_dict": module.state_dict(),
            "input": sample,
            "expected": expected,
            "class_name": result.class_name,
        },
        folder / f"{stem}.pt",
    )


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
        with torch.no_grad():
            out = model(data["input"])
        same = torch.equal(out, data["expected"])
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
