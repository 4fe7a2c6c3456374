"""Compile = execute the emitted source, so the app trains exactly the exported class."""

from __future__ import annotations

import linecache

from torchcanvas.codegen.emit import EmitResult, emit_module


def compile_source(source: str, class_name: str, filename: str | None = None) -> type:
    """Execute generated `source` and return its model class."""
    filename = filename or f"<torchcanvas {class_name}>"
    # Registering the text lets tracebacks show the generated line that failed.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": f"torchcanvas_generated_{class_name}"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[class_name]


def compile_model(model, class_name: str | None = None) -> tuple[type, EmitResult]:
    """Emit `model` and compile it; returns the class and the emitted source."""
    result = emit_module(model, class_name)
    return compile_source(result.source, result.class_name), result


def build_model(model, class_name: str | None = None, seed: int | None = None):
    """A fresh instance of the generated class (seeded for reproducible weights)."""
    import torch

    cls, _ = compile_model(model, class_name)
    if seed is None:
        return cls()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls()
